"""Two-stage training job: stage 1 contrastive with mining, stage 2 RankPO with retention.

Usage:
    python pipelines/train_two_stage.py --out runs/stage1 --candidates 10000 --jobs 500 \\
        --held-out 100
    python pipelines/train_two_stage.py --out runs/small --candidates 2000 --jobs 120 \\
        --held-out 20 --epochs 1 --model ./models/base

Steps, each writing under --out: synth (or --data DIR with jobs/candidates parquet) -> label
-> split held-out jobs (never trained on) -> random negatives -> train stage 1 -> index and
mine hard negatives with the stage-1 model -> train again from the stage-1 model -> judge
pairs from the stage-1 top-100 (synthetic judge) -> RankPO plain and with retention (full
fine-tunes), and a linear head on the frozen stage-1 embeddings with preference retention ->
evaluate BM25, zero-shot, stage-1 and stage-2 models on the held-out jobs against full
indexes (nDCG@20 etc., and alignment on held-out preference pairs). Prints a metrics table
and writes `results.json`. `--no-stage2` stops after stage 1.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from jobmatch.training.config import ContrastiveConfig, FullConfig, HeadConfig


@dataclass
class TwoStageConfig:
    out: Path
    data: Path | None = None
    """Folder with jobs.parquet and candidates.parquet (default: synthesise)."""
    candidates: int = 10_000
    jobs: int = 500
    held_out: int = 100
    seed: int = 0
    model: str | None = None
    """Starting model (default: the bundled all-MiniLM-L6-v2)."""
    epochs: float = ContrastiveConfig.epochs
    batch_size: int = ContrastiveConfig.batch_size
    lr: float = ContrastiveConfig.lr
    temperature: float = ContrastiveConfig.temperature
    negatives: int = ContrastiveConfig.negatives
    max_positives: int = ContrastiveConfig.max_positives
    max_seq_length: int = ContrastiveConfig.max_seq_length
    mining_strategy: str = "cluster"
    mining_range: tuple[int, int] = (0, 100)
    mining_num: int = 10
    k: int = 20
    stage2: bool = True
    """Also run stage 2: judge pairs, RankPO plain and with retention."""
    pairs_per_job: int = 20
    judge_noise: float = 0.1
    stage2_lr: float = FullConfig.lr
    stage2_epochs: float = FullConfig.epochs
    retention_weight: float = FullConfig.retention_weight
    head: bool = True
    """Also train the linear-head variant (`rankpo-head`, with `HeadConfig` defaults): cheap, and
    the best with tens of thousands of judged pairs (benchmarks/FINDINGS.md, stage 2)."""
    min_confidence: float = 0.0
    """Train stage 2 only on judge pairs at least this sure (0.55 drops the judge's ties)."""
    progress: bool = field(default_factory=lambda: sys.stderr.isatty())


def main(config: TwoStageConfig) -> dict:
    """Run every step; return {"metrics": {system: {...}}, "training": {...}, "seconds": {...}}."""
    import numpy as np
    import polars as pl

    from jobmatch import evaluation, io, rules
    from jobmatch.index.faiss_ops import reconstruct
    from jobmatch.synth import write_corpus
    from jobmatch.training import data
    from jobmatch.training.contrastive import train_contrastive
    from jobmatch.training.evaluators import RankingEvaluator
    from jobmatch.training.mining import MiningConfig, mine_negatives

    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()
        print(f"[{name}] {seconds[name]}s", file=sys.stderr, flush=True)

    source = config.data or out / "data"
    if config.data is None:
        write_corpus(source, n_candidates=config.candidates, n_jobs=config.jobs, seed=config.seed)
    jobs = io.read_table(source / "jobs.parquet", "jobs")
    candidates = io.read_table(source / "candidates.parquet", "candidates")
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rules.load_rules())))
    io.write_table(qrels, out / "qrels.parquet")
    train_jobs, held = data.split_jobs(jobs, held_out=config.held_out, seed=config.seed)
    io.write_table(held, out / "heldout_jobs.parquet")
    lap("data")

    def stage1(name: str, rows: list[dict], start: str | None) -> tuple[Path, dict]:
        examples = data.contrastive_examples(
            rows, negatives=config.negatives, max_positives=config.max_positives, seed=config.seed
        )
        result = train_contrastive(
            ContrastiveConfig(
                out=out / name,
                model=start,
                epochs=config.epochs,
                batch_size=config.batch_size,
                lr=config.lr,
                temperature=config.temperature,
                negatives=config.negatives,
                max_seq_length=config.max_seq_length,
                seed=config.seed,
                progress=config.progress,
            ),
            examples,
            RankingEvaluator(held, candidates, qrels, seed=config.seed),
        )
        lap(f"train {name}")
        return out / name, {
            "examples": len(examples["anchor"]),
            "steps": result.steps,
            "seconds": round(result.seconds, 1),
            "examples_per_second": round(result.examples_per_second, 2),
            "best_heldout_ndcg@20_on_pool": result.best_metric,
        }

    def index_and_evaluate(name: str, model: str | None, *, baselines=()):
        found = evaluation.index_and_evaluate(
            candidates,
            out / "indexes" / name,
            model,
            held,
            qrels,
            name=name,
            k=config.k,
            baselines=baselines,
            progress=config.progress,
        )
        lap(f"index+evaluate {name}")
        return found

    metrics: dict[str, dict] = {}
    training: dict[str, dict] = {}
    _, _, found = index_and_evaluate("zero-shot", config.model, baselines=("bm25",))
    metrics.update(found)

    random_rows = data.random_negatives(
        train_jobs, candidates, qrels, num=config.mining_num, seed=config.seed
    )
    stage1_random, training["stage1-random"] = stage1(
        "stage1-random", data.rows_with_texts(random_rows, jobs, candidates), config.model
    )
    encoder, loaded, found = index_and_evaluate("stage1-random", str(stage1_random))
    metrics.update(found)

    start, end = config.mining_range
    mining = MiningConfig(
        strategy=config.mining_strategy,
        range_start=start,
        range_end=end,
        num=config.mining_num,
        seed=config.seed,
    )
    vectors = reconstruct(loaded.index, np.arange(loaded.rows))
    mined_rows = mine_negatives(encoder, train_jobs, candidates, qrels, mining, corpus=vectors)
    data.write_training_jsonl(mined_rows, jobs, candidates, out / "mined.jsonl")
    lap("mine")
    stage1_mined, training["stage1-mined"] = stage1(
        "stage1-mined", data.rows_with_texts(mined_rows, jobs, candidates), str(stage1_random)
    )
    encoder, loaded, found = index_and_evaluate("stage1-mined", str(stage1_mined))
    metrics.update(found)

    if config.stage2:
        stage2_metrics, stage2_training = run_stage2(
            config,
            out,
            jobs,
            candidates,
            qrels,
            held,
            encoder,
            loaded,
            str(stage1_mined),
            index_and_evaluate,
            lap,
        )
        metrics["stage1-mined"]["alignment"] = stage2_metrics.pop("stage1-alignment")
        metrics.update(stage2_metrics)
        training.update(stage2_training)

    results = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        "corpus": {
            "candidates": candidates.height,
            "jobs": jobs.height,
            "training_jobs": train_jobs.height,
            "heldout_jobs": held.height,
            "qrels": qrels.height,
        },
        "metrics": metrics,
        "training": training,
        "seconds": seconds,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def run_stage2(
    config,
    out,
    jobs,
    candidates,
    qrels,
    held,
    encoder,
    loaded,
    stage1_model,
    index_and_evaluate,
    lap,
):
    """Judge pairs from the stage-1 top-100, then RankPO plain and with retention (full
    fine-tunes) and, with `config.head`, a linear head with preference retention."""
    import numpy as np

    from jobmatch import io
    from jobmatch.evaluation import preference_alignment
    from jobmatch.index.faiss_ops import reconstruct
    from jobmatch.training.judges import preferences_table
    from jobmatch.training.judges.sampling import draw_pairs
    from jobmatch.training.judges.synthetic import SyntheticJudge
    from jobmatch.training.rankpo import train_rankpo
    from jobmatch.training.stage2 import prepare_stage2

    vectors = reconstruct(loaded.index, np.arange(loaded.rows))
    pairs = draw_pairs(
        encoder,
        jobs,
        candidates,
        pairs_per_job=config.pairs_per_job,
        seed=config.seed,
        corpus=vectors,
    )
    judgements = SyntheticJudge(jobs, candidates, noise=config.judge_noise, seed=config.seed).judge(
        pairs
    )
    preferences = preferences_table(pairs, judgements)
    io.write_table(preferences, out / "preferences.parquet")
    data = prepare_stage2(
        jobs,
        candidates,
        preferences,
        held,
        qrels=qrels,
        min_confidence=config.min_confidence,
        seed=config.seed,
    )
    lap("judge")

    def alignment_of(enc, index):
        return preference_alignment(index, enc, held, data.held_pairs)[0]

    metrics = {"stage1-alignment": alignment_of(encoder, loaded)}
    training = {}
    full = {"epochs": config.stage2_epochs, "lr": config.stage2_lr, "batch_size": config.batch_size}
    common = {"model": stage1_model, "seed": config.seed, "progress": config.progress}
    variants = {
        "rankpo": FullConfig(out=out / "rankpo", **common, **full, retention_weight=0.0),
        "rankpo-retention": FullConfig(
            out=out / "rankpo-retention", **common, **full, retention_weight=config.retention_weight
        ),
    }
    if config.head:
        variants["rankpo-head"] = HeadConfig(out=out / "rankpo-head", **common)
    for name, stage2 in variants.items():
        result = train_rankpo(
            stage2, data.preferences, retention=data.retention, evaluators=data.evaluators
        )
        lap(f"train {name}")
        training[name] = {
            "steps": result.steps,
            "seconds": round(result.seconds, 1),
            "examples_per_second": round(result.examples_per_second, 2),
        }
        enc, index, found = index_and_evaluate(name, str(out / name))
        found[name]["alignment"] = alignment_of(enc, index)
        metrics.update(found)
    return metrics, training


@click.command(help=__doc__)
@click.option("--out", type=click.Path(file_okay=False), required=True)
@click.option("--data", type=click.Path(file_okay=False, exists=True), default=None)
@click.option("--candidates", type=int, default=TwoStageConfig.candidates, show_default=True)
@click.option("--jobs", type=int, default=TwoStageConfig.jobs, show_default=True)
@click.option("--held-out", type=int, default=TwoStageConfig.held_out, show_default=True)
@click.option("--model", envvar="JOBMATCH_MODEL", default=None)
@click.option("--epochs", type=float, default=TwoStageConfig.epochs, show_default=True)
@click.option("--batch-size", type=int, default=TwoStageConfig.batch_size, show_default=True)
@click.option("--seed", type=int, default=TwoStageConfig.seed, show_default=True)
@click.option("--stage2/--no-stage2", default=TwoStageConfig.stage2, show_default=True)
@click.option(
    "--head/--no-head",
    default=TwoStageConfig.head,
    show_default=True,
    help="Stage 2 also trains a linear head on frozen stage-1 embeddings (rankpo-head).",
)
@click.option("--max-positives", type=int, default=TwoStageConfig.max_positives, show_default=True)
@click.option("--pairs-per-job", type=int, default=TwoStageConfig.pairs_per_job, show_default=True)
@click.option(
    "--min-confidence",
    type=float,
    default=TwoStageConfig.min_confidence,
    show_default=True,
    help="Stage 2 trains on judge pairs at least this sure (0.55 drops ties).",
)
def cli(
    out: str,
    data: str | None,
    candidates: int,
    jobs: int,
    held_out: int,
    model: str | None,
    epochs: float,
    batch_size: int,
    seed: int,
    stage2: bool,
    head: bool,
    max_positives: int,
    pairs_per_job: int,
    min_confidence: float,
) -> None:
    config = TwoStageConfig(
        out=Path(out),
        data=Path(data) if data else None,
        candidates=candidates,
        jobs=jobs,
        held_out=held_out,
        model=model,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        stage2=stage2,
        head=head,
        max_positives=max_positives,
        pairs_per_job=pairs_per_job,
        min_confidence=min_confidence,
    )
    results = main(config)
    columns = ["ndcg@20", "recall@20", "mrr@20", "map@20", "ndcg_paper@20", "alignment"]
    click.echo(f"{'system':<18}" + "".join(f"{c:>15}" for c in columns))
    for system, values in results["metrics"].items():
        cells = (values.get(c) for c in columns)
        click.echo(
            f"{system:<18}" + "".join(f"{'-':>15}" if v is None else f"{v:>15.4f}" for v in cells)
        )


if __name__ == "__main__":
    cli()
