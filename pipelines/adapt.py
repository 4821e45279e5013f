"""Adapt the model to a team's own data: documents or tables in, held-out gain out.

Usage:
    python pipelines/adapt.py --candidates resumes/ --jobs jobs.csv --labels outcomes.csv \\
        --out runs/adapt
    python pipelines/adapt.py --candidates candidates.parquet --jobs jobs.parquet \\
        --rules category_rules.toml --out runs/adapt --mode head --held-out 50

Steps, each writing under --out: read candidates and jobs (tables, or folders/globs of PDF,
DOCX, HTML, .txt and .md files, extracted as `jobmatch import documents` does) -> labels
(`--rules`: graded by a rules TOML, e.g. an `equal` rule on a category column; `--labels`: a
team's (job, candidate, outcome) table mapped to grades by `--grades`, as `jobmatch import
labels`) -> hold out labelled jobs (never trained on, never used to pick a checkpoint) and
split validation jobs from the rest -> index the candidates with the starting
model and evaluate it (zero-shot, beside BM25) -> mine hard negatives for the training jobs
from that index -> train stage 1 (`--mode head`: a linear head on the frozen model, minutes
on a CPU; `--mode full`: a full fine-tune), keeping the best epoch on the validation jobs ->
index with the adapted model and evaluate. Prints zero-shot vs adapted on the held-out jobs
and writes `results.json`; the adapted models are `OUT/models/<mode>`.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from jobmatch.training.config import CONTRASTIVE_CONFIGS, Mode

METRICS = ("ndcg@20", "recall@20", "mrr@20", "map@20")


@dataclass
class AdaptConfig:
    candidates: str
    """Candidates table, or a folder or glob of document files."""
    jobs: str
    """Jobs table, or a folder or glob of document files."""
    out: Path
    rules: Path | None = None
    """Rules TOML grading (job, candidate) pairs from the tables' columns."""
    labels: Path | None = None
    """A team's outcome table (job_id, candidate_id, outcome)."""
    grades: Path | None = None
    """Outcome -> grade TOML for --labels (default: jobmatch.io.labels.DEFAULT_GRADES)."""
    model: str | None = None
    """Starting model (default: the bundled all-MiniLM-L6-v2)."""
    modes: tuple[Mode, ...] = ("head",)
    """Training modes, each from the starting model on the same mined negatives."""
    held_out: int | float = 0.25
    """Labelled jobs kept out of training and selection: a count, or a share when below 1."""
    validation: float = 0.2
    """Share of the other labelled jobs that pick the best epoch instead of training (so the
    held-out figures are not chosen on the held-out jobs)."""
    negatives: int = 5
    mining_range: tuple[int, int] = (10, 100)
    """Ranks of the zero-shot index hard negatives are drawn from (the top ranks are left out:
    unlabelled near-duplicates of positives are often relevant)."""
    epochs: float | None = None
    lr: float | None = None
    batch_size: int | None = None
    max_positives: int | None = None
    """Training settings; None takes each mode's config default."""
    k: int = 20
    seed: int = 0
    progress: bool = field(default_factory=lambda: sys.stderr.isatty())


def main(config: AdaptConfig) -> dict:
    """Run every step; return {"metrics": {system: {...}}, "training": {...}, "seconds": {...}}."""
    import numpy as np

    from jobmatch import evaluation, io
    from jobmatch.index.faiss_ops import reconstruct
    from jobmatch.training import data
    from jobmatch.training.contrastive import train_contrastive
    from jobmatch.training.evaluators import RankingEvaluator
    from jobmatch.training.mining import MiningConfig, mine_negatives

    if (config.rules is None) == (config.labels is None):
        raise click.UsageError("give exactly one of --rules and --labels")
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()
        print(f"[{name}] {seconds[name]}s", file=sys.stderr, flush=True)

    candidates = read_source(config.candidates, "candidates", out, progress=config.progress)
    jobs = read_source(config.jobs, "jobs", out, progress=config.progress)
    qrels = labels(config, jobs, candidates)
    io.write_table(qrels, out / "qrels.parquet")
    labelled = jobs.filter(jobs["job_id"].is_in(qrels["job_id"].unique().implode()))
    held_out = config.held_out if config.held_out >= 1 else float(config.held_out)
    train_jobs, held = data.split_jobs(labelled, held_out=held_out, seed=config.seed)
    train_jobs, validation = data.split_jobs(
        train_jobs, held_out=max(1, round(train_jobs.height * config.validation)), seed=config.seed
    )
    io.write_table(held, out / "heldout_jobs.parquet")
    lap("data")

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
    encoder, loaded, found = index_and_evaluate("zero-shot", config.model, baselines=("bm25",))
    metrics.update(found)

    start, end = config.mining_range
    mining = MiningConfig(
        strategy="topk",
        range_start=min(start, candidates.height - 1),
        range_end=min(end, candidates.height),
        num=min(config.negatives, min(end, candidates.height) - min(start, candidates.height - 1)),
        seed=config.seed,
    )
    vectors = reconstruct(loaded.index, np.arange(loaded.rows))
    rows = mine_negatives(encoder, train_jobs, candidates, qrels, mining, corpus=vectors)
    text_rows = data.rows_with_texts(rows, jobs, candidates)
    lap("mine")
    settings = {
        "epochs": config.epochs,
        "lr": config.lr,
        "batch_size": config.batch_size,
        "max_positives": config.max_positives,
    }
    evaluator = RankingEvaluator(validation, candidates, qrels, name="validation", seed=config.seed)
    training: dict[str, dict] = {}
    for mode in config.modes:
        train_config = CONTRASTIVE_CONFIGS[mode](
            out=out / "models" / mode,
            model=config.model,
            negatives=mining.num,
            seed=config.seed,
            progress=config.progress,
            **{name: value for name, value in settings.items() if value is not None},
        )
        examples = data.contrastive_examples(
            text_rows,
            negatives=mining.num,
            max_positives=train_config.max_positives,
            seed=config.seed,
        )
        result = train_contrastive(train_config, examples, evaluator)
        lap(f"train {mode}")
        training[mode] = {
            "examples": len(examples["anchor"]),
            "steps": result.steps,
            "seconds": round(result.seconds, 1),
            "epochs": train_config.epochs,
            "lr": train_config.lr,
            "batch_size": train_config.batch_size,
            "best_validation_ndcg@20_on_pool": result.best_metric,
        }
        _, _, found = index_and_evaluate(f"adapted-{mode}", str(train_config.out))
        metrics.update(found)

    results = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        "corpus": {
            "candidates": candidates.height,
            "jobs": jobs.height,
            "labelled_jobs": labelled.height,
            "training_jobs": train_jobs.height,
            "validation_jobs": validation.height,
            "heldout_jobs": held.height,
            "qrels": qrels.height,
        },
        "metrics": metrics,
        "training": training,
        "seconds": seconds,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def read_source(source: str, kind: str, out: Path, *, progress: bool):
    """A table file as it is; a folder, glob or document file extracted to OUT/<kind>.parquet
    (an unreadable document fails here, naming the file)."""
    from jobmatch import io
    from jobmatch.documents import EXTENSIONS, read_documents

    path = Path(source)
    is_table = path.is_file() and path.suffix.lower() not in EXTENSIONS
    if is_table:
        return io.read_table(path, kind)
    table = read_documents(source, kind=kind, progress=progress)
    io.write_table(table.frame, out / f"{kind}.parquet")
    return table.frame


def labels(config: AdaptConfig, jobs, candidates):
    """qrels from the rules (graded on the tables' columns) or from the team's outcomes."""
    import polars as pl

    from jobmatch import rules
    from jobmatch.io.labels import import_labels, load_grades

    if config.labels is not None:
        qrels = import_labels(config.labels, load_grades(config.grades))
        check_label_ids(config.labels, jobs, candidates)
        return qrels
    rule_set = rules.load_rules(config.rules)
    return pl.concat(list(rules.iter_labels(jobs, candidates, rule_set)))


def check_label_ids(path: Path, jobs, candidates) -> None:
    """Every labelled job and candidate must be among the inputs (a typo or a resume missing
    from the folder would otherwise be a silently dropped label)."""
    from jobmatch.errors import InputError
    from jobmatch.io.readers import read_raw

    frame, lines = read_raw(path, strings={"job_id", "candidate_id"})
    known = {"job_id": set(jobs["job_id"]), "candidate_id": set(candidates["candidate_id"])}
    for column, ids in known.items():
        values = frame[column].cast(str).str.strip_chars().to_list()
        for index, value in enumerate(values):
            if value not in ids:
                where = {"line": lines[index]} if lines is not None else {"row": index + 1}
                kind = "job" if column == "job_id" else "candidate"
                raise InputError(
                    f"unknown {kind} {value!r}", path=str(path), column=column, **where
                )


@click.command(help=__doc__)
@click.option("--candidates", required=True, help="Table, or folder/glob of documents.")
@click.option("--jobs", required=True, help="Table, or folder/glob of documents.")
@click.option("--out", type=click.Path(file_okay=False), required=True)
@click.option("--rules", type=click.Path(dir_okay=False, exists=True), default=None)
@click.option("--labels", type=click.Path(dir_okay=False, exists=True), default=None)
@click.option("--grades", type=click.Path(dir_okay=False, exists=True), default=None)
@click.option("--model", envvar="JOBMATCH_MODEL", default=None)
@click.option(
    "--mode",
    "modes",
    type=click.Choice(list(CONTRASTIVE_CONFIGS)),
    multiple=True,
    default=AdaptConfig.modes,
    show_default=True,
    help="Training mode; repeat to compare (--mode head --mode full).",
)
@click.option(
    "--held-out",
    type=float,
    default=AdaptConfig.held_out,
    show_default=True,
    help="Labelled jobs held out: a count, or a share when below 1.",
)
@click.option("--epochs", type=float, default=None, help="Default: the mode's.")
@click.option("--lr", type=float, default=None, help="Default: the mode's.")
@click.option("--batch-size", type=int, default=None, help="Default: the mode's.")
@click.option(
    "--max-positives",
    type=int,
    default=None,
    help="Examples per training job; default: the mode's.",
)
@click.option("--seed", type=int, default=0, show_default=True)
def cli(candidates, jobs, out, rules, labels, grades, model, modes, held_out, **settings) -> None:
    config = AdaptConfig(
        candidates=candidates,
        jobs=jobs,
        out=Path(out),
        rules=Path(rules) if rules else None,
        labels=Path(labels) if labels else None,
        grades=Path(grades) if grades else None,
        model=model,
        modes=tuple(modes),
        held_out=int(held_out) if held_out >= 1 else held_out,
        **settings,
    )
    from jobmatch.errors import JobmatchError

    try:
        results = main(config)
    except JobmatchError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    print_table(results)


def print_table(results: dict) -> None:
    click.echo(f"{'held-out jobs':<18}" + "".join(f"{c:>12}" for c in METRICS))
    for system, values in results["metrics"].items():
        click.echo(f"{system:<18}" + "".join(f"{values[c]:>12.4f}" for c in METRICS))
    metrics = results["metrics"]
    for mode, training in results["training"].items():
        gain = metrics[f"adapted-{mode}"]["ndcg@20"] - metrics["zero-shot"]["ndcg@20"]
        click.echo(
            f"adapted-{mode} - zero-shot nDCG@20: {gain:+.4f} on "
            f"{results['corpus']['heldout_jobs']} held-out jobs ({training['seconds']:.0f}s of "
            "training)"
        )


if __name__ == "__main__":
    cli()
