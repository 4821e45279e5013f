"""Stage-2 trade-off sweep: held-out nDCG@20 against held-out judge alignment for stage 1,
plain RankPO and RankPO with retention, over learning rate and retention weight.

Usage:
    python pipelines/train_two_stage.py --out runs/two-stage --candidates 4000 --jobs 250 \\
        --held-out 50 --max-positives 2          # once: data, stage-1 model, preferences
    python benchmarks/rankpo_sweep.py --run runs/two-stage
    python benchmarks/rankpo_sweep.py --run runs/two-stage --lrs 2e-5,1e-4 --weights 0,1,4
    python benchmarks/rankpo_sweep.py --run runs/two-stage --steps-only   # reference timing

The run folder holds what the two-stage pipeline writes: data/{jobs,candidates}.parquet,
qrels.parquet, heldout_jobs.parquet, preferences.parquet (synthetic judge, stage-1 top-100)
and the stage-1 model in stage1-mined/. Every sweep point starts from that model, trains on a
seeded sample of the training jobs' preference pairs, and is evaluated on the held-out jobs
only: nDCG@20 over a Flat index of the whole corpus, alignment on their preference pairs.

Also measured: training steps/s with reference scores precomputed once (jobmatch's design)
against a reference model that runs a forward pass in every step (the usual DPO set-up).

Writes benchmarks/results/rankpo_sweep.json after every point (a rerun skips points already
there) and benchmarks/results/rankpo_sweep.png.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import numpy as np
from _common import RESULTS, load_average, machine_info, script_help, write_json

GOAL_NDCG_SHARE = 0.90
GOAL_ALIGNMENT_GAIN = 0.10


def load_run(
    run: Path,
    *,
    train_pairs: int,
    seed: int,
    min_confidence: float = 0.0,
    more_jobs: int = 0,
    pairs_per_job: int = 0,
) -> dict[str, Any]:
    """Corpus, labels, split and preference pairs of a two-stage pipeline run folder.

    `more_jobs` adds that many newly synthesised jobs, judged like the run's own, as extra
    training jobs; `pairs_per_job` keeps at most that many training pairs per job (0: all).
    Both change how many jobs the training pairs come from at a fixed number of pairs.
    """
    import polars as pl

    from jobmatch import io
    from jobmatch.training.stage2 import confident_pairs, split_preferences

    jobs = io.read_table(run / "data" / "jobs.parquet", "jobs")
    candidates = io.read_table(run / "data" / "candidates.parquet", "candidates")
    held = io.read_table(run / "heldout_jobs.parquet", "jobs")
    qrels = pl.read_parquet(run / "qrels.parquet")
    preferences = pl.read_parquet(run / "preferences.parquet")
    train_prefs, held_prefs = split_preferences(preferences, held, min_confidence=min_confidence)
    not_held = ~pl.col("job_id").is_in(held["job_id"].implode())
    rule_jobs = jobs.filter(not_held)
    if more_jobs:
        extra_jobs, extra_prefs = judged_extra_jobs(run, jobs, candidates, more_jobs, seed=seed)
        jobs = pl.concat([jobs, extra_jobs], how="vertical_relaxed")
        train_prefs = pl.concat(
            [train_prefs, confident_pairs(extra_prefs, min_confidence)], how="vertical_relaxed"
        )
    if pairs_per_job:
        train_prefs = (
            train_prefs.sample(fraction=1.0, shuffle=True, seed=seed)
            .group_by("job_id", maintain_order=True)
            .head(pairs_per_job)
        )
    if train_pairs and train_prefs.height > train_pairs:
        train_prefs = train_prefs.sample(train_pairs, seed=seed)
    return {
        "fit_prefs": train_prefs.sample(min(FIT_PAIRS, train_prefs.height), seed=seed),
        "jobs": jobs,
        "candidates": candidates,
        "held": held,
        "rule_jobs": rule_jobs,
        "train_jobs": jobs.filter(not_held),
        "train_prefs_jobs": train_prefs["job_id"].n_unique(),
        "qrels": qrels,
        "train_prefs": train_prefs,
        "held_prefs": held_prefs,
        "stage1": str(run / "stage1-mined"),
    }


def judged_extra_jobs(
    run: Path, jobs: Any, candidates: Any, count: int, *, seed: int
) -> tuple[Any, Any]:
    """`count` jobs synthesised after the run's own (same generator, same seed, so the run's
    jobs are their prefix and ids do not clash), with synthetic-judge pairs drawn from the
    stage-1 top-100 exactly as the pipeline drew the run's; cached in the run folder."""
    import polars as pl

    from jobmatch import io
    from jobmatch.encoder import load_encoder
    from jobmatch.synth import generate_jobs
    from jobmatch.training.judges import preferences_table
    from jobmatch.training.judges.sampling import draw_pairs
    from jobmatch.training.judges.synthetic import SyntheticJudge

    folder = run / f"more-jobs-{count}-seed{seed}"
    if (folder / "preferences.parquet").exists():
        return (
            io.read_table(folder / "jobs.parquet", "jobs"),
            pl.read_parquet(folder / "preferences.parquet"),
        )
    generated = pl.from_arrow(generate_jobs(jobs.height + count, seed=seed))
    prefix = generated.head(jobs.height).select(jobs.columns)
    if not prefix.equals(jobs):
        raise click.ClickException(
            f"{run}/data/jobs.parquet is not `jobmatch synth` output with seed {seed}: "
            "cannot synthesise more jobs like it"
        )
    extra = generated.slice(jobs.height)
    every_job = pl.concat([jobs, extra.select(jobs.columns)], how="vertical_relaxed")
    pairs = draw_pairs(
        load_encoder(str(run / "stage1-mined")), extra, candidates, pairs_per_job=20, seed=seed
    )
    answers = SyntheticJudge(every_job, candidates, noise=0.1, seed=seed).judge(pairs)
    preferences = preferences_table(pairs, answers)
    folder.mkdir(exist_ok=True)
    io.write_table(extra, folder / "jobs.parquet")
    io.write_table(preferences, folder / "preferences.parquet")
    return extra, preferences


FIT_PAIRS = 500
"""Training pairs on which each point's fit is measured (a sample of the pairs it trained on;
for stage 1, which trained on none, the same sample)."""


def evaluate_model(model: str, run: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Held-out nDCG@20 (Flat index over all candidates) and held-out alignment of a model,
    overall and by the attribute that decides each pair for the noise-free judge; and its
    alignment on training pairs, which tells underfitting from failing to generalise."""
    from jobmatch.encoder import load_encoder
    from jobmatch.evaluation import evaluate, preference_scores
    from jobmatch.index import BuildConfig, build_index, load_index
    from jobmatch.metrics import alignment

    encoder = load_encoder(model)
    folder = Path(tempfile.mkdtemp(dir=workdir))
    build_index(run["candidates"], folder / "index", encoder, BuildConfig(factory="Flat"))
    loaded = load_index(folder / "index", fingerprint=encoder.fingerprint)
    report = evaluate(loaded, encoder, run["held"], run["qrels"], k=20)[encoder.name].as_dict()
    pairs, s_chosen, s_rejected = preference_scores(loaded, encoder, run["held"], run["held_prefs"])
    deciding = np.array(deciding_attributes(pairs, run))
    fit, fit_chosen, fit_rejected = preference_scores(
        loaded, encoder, run["train_jobs"], run["fit_prefs"]
    )
    return {
        "judge_term_fit": judge_term_fit(pairs, s_chosen - s_rejected, run),
        "train_alignment": round(alignment(fit_chosen, fit_rejected), 4),
        "train_alignment_pairs": fit.height,
        "ndcg@20": round(report["ndcg@20"], 4),
        "recall@20": round(report["recall@20"], 4),
        "mrr@20": round(report["mrr@20"], 4),
        "alignment": round(alignment(s_chosen, s_rejected), 4),
        "heldout_pairs": pairs.height,
        "alignment_by_attribute": {
            name: {
                "pairs": int((deciding == name).sum()),
                "alignment": round(
                    alignment(s_chosen[deciding == name], s_rejected[deciding == name]), 4
                ),
            }
            for name in ATTRIBUTES
            if (deciding == name).any()
        },
    }


TERMS = ("rules", "must-have", "nice-to-have", "impact")
"""The synthetic judge's score terms (`SyntheticJudge.parts`)."""
ATTRIBUTES = (*TERMS, "tie")


def judge_term_fit(pairs: Any, margins: np.ndarray, run: dict[str, Any]) -> dict[str, Any]:
    """How much of the judge a model's scores carry: each held-out pair's score margin
    s(job, A) - s(job, B) regressed (least squares, no intercept) on the differences of the
    noise-free judge's weighted terms. The judge weighs a unit of every term alike, so a model
    that had learnt it has equal coefficients (cosine per judge point); R² is the share of the
    margins' spread the judge's terms explain, the rest is similarity the judge ignores."""
    judge, judged = _noise_free_judge(pairs, run)
    gaps = np.array([[a[t] - b[t] for t in TERMS] for a, b in judge.pair_parts(judged)])
    coef, *_ = np.linalg.lstsq(gaps, margins, rcond=None)
    residual = margins - gaps @ coef
    return {
        "coefficients": {t: round(float(c), 4) for t, c in zip(TERMS, coef, strict=True)},
        "r2": round(float(1 - (residual @ residual) / (margins @ margins)), 4),
    }


def label_ceilings(run: dict[str, Any]) -> dict[str, float]:
    """Held-out alignment of the noise-free judge scoring with only some of its terms, for
    every non-empty subset (ties count half): what a model that had learnt exactly those
    attributes would reach against the noisy labels. All four terms: the label ceiling."""
    judge, pairs = _noise_free_judge(run["held_prefs"], run)
    parts = judge.pair_parts(pairs)
    ceilings = {}
    for size in range(1, len(TERMS) + 1):
        for terms in itertools.combinations(TERMS, size):
            gaps = [sum(a[t] - b[t] for t in terms) for a, b in parts]
            agree = sum(0.5 if abs(gap) <= 1e-9 else float(gap > 0) for gap in gaps)
            ceilings["+".join(terms)] = round(agree / len(gaps), 4)
    return ceilings


def deciding_attributes(preferences: Any, run: dict[str, Any]) -> list[str]:
    """What decides each (job, chosen, rejected) pair for the synthetic judge without noise."""
    judge, pairs = _noise_free_judge(preferences, run)
    return judge.deciding_attribute(pairs)


def _noise_free_judge(preferences: Any, run: dict[str, Any]) -> tuple[Any, list[Any]]:
    """The synthetic judge without noise, and the preference rows as pairs (A = chosen)."""
    from jobmatch.training.judges import PairToJudge
    from jobmatch.training.judges.synthetic import SyntheticJudge

    judge = SyntheticJudge(run["jobs"], run["candidates"], noise=0.0)
    rows = preferences.select("job_id", "chosen", "rejected").iter_rows()
    return judge, [PairToJudge(job, "", a, "", b, "") for job, a, b in rows]


def train_point(
    run: dict[str, Any],
    retention: dict[str, list],
    out: Path,
    *,
    mode: str,
    lr: float,
    weight: float,
    beta: float,
    batch_size: int,
    epochs: float,
    seed: int,
) -> dict[str, Any]:
    from jobmatch.training.config import CONFIGS
    from jobmatch.training.rankpo import train_rankpo
    from jobmatch.training.stage2 import preference_texts

    config = CONFIGS[mode](
        out=out,
        model=run["stage1"],
        batch_size=batch_size,
        epochs=epochs,
        lr=lr,
        beta=beta,
        retention_weight=weight,
        seed=seed,
        progress=False,
    )
    result = train_rankpo(
        config,
        preference_texts(run["train_prefs"], run["jobs"], run["candidates"]),
        retention=retention if weight > 0 else None,
    )
    return {"steps": result.steps, "train_s": round(result.seconds, 1)}


def reference_timing(
    run: dict[str, Any], *, batch_size: int, steps: int, seed: int
) -> dict[str, Any]:
    """Training steps/s with precomputed reference scores vs an online reference forward pass.

    Both runs train the same model on the same batches with the referenced RankPO loss; the
    online variant keeps a frozen copy of the stage-1 model and embeds every batch with it under
    no_grad, as a DPO trainer with a reference model does.
    """
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )

    from jobmatch.encoder import load_encoder
    from jobmatch.losses.rankpo import RankPOLoss, reference_scores
    from jobmatch.training.stage2 import preference_texts

    class OnlineReferenceRankPOLoss(RankPOLoss):
        def __init__(self, model: Any, reference: Any) -> None:
            super().__init__(model, reference_free=False)
            self.reference = reference.eval().requires_grad_(False)

        def forward(self, sentence_features, labels):
            features = list(sentence_features)
            with torch.no_grad():
                # a copy: a forward adds outputs to the features dict it is given
                query, chosen, rejected = (
                    torch.nn.functional.normalize(
                        self.reference(dict(f))["sentence_embedding"], dim=-1
                    )
                    for f in features
                )
                labels = torch.stack([(query * chosen).sum(-1), (query * rejected).sum(-1)], dim=1)
            return super().forward(features, labels)

    texts = preference_texts(run["train_prefs"], run["jobs"], run["candidates"])
    rows = steps * batch_size
    columns = {key: texts[key][:rows] for key in ("query", "chosen", "rejected")}
    results: dict[str, Any] = {"steps": steps, "batch_size": batch_size}
    for mode in ("precomputed", "online", "precomputed", "online"):  # interleaved, best of 2
        model = load_encoder(run["stage1"]).model
        model.max_seq_length = 128
        data = dict(columns)
        started = time.perf_counter()
        if mode == "precomputed":
            data["label"] = reference_scores(
                model, data["query"], data["chosen"], data["rejected"]
            ).tolist()
            loss = RankPOLoss(model, reference_free=False)
        else:
            loss = OnlineReferenceRankPOLoss(model, copy.deepcopy(model))
        prepare_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as tmp:
            trainer = SentenceTransformerTrainer(
                model=model,
                args=SentenceTransformerTrainingArguments(
                    output_dir=tmp,
                    max_steps=steps,
                    per_device_train_batch_size=batch_size,
                    learning_rate=5e-6,
                    save_strategy="no",
                    report_to="none",
                    seed=seed,
                    disable_tqdm=True,
                    dataloader_pin_memory=False,
                ),
                train_dataset=Dataset.from_dict(data),
                loss=loss,
            )
            started = time.perf_counter()
            trainer.train()
            train_s = time.perf_counter() - started
        best = results.get(mode)
        if best is None or train_s < best["train_s"]:
            results[mode] = {
                "train_s": round(train_s, 2),
                "steps_per_s": round(steps / train_s, 4),
                "prepare_s": round(prepare_s, 2),
            }
    results["speedup_steps_per_s"] = round(
        results["precomputed"]["steps_per_s"] / results["online"]["steps_per_s"], 3
    )
    total = {m: results[m]["train_s"] + results[m]["prepare_s"] for m in ("precomputed", "online")}
    results["speedup_including_precompute"] = round(total["online"] / total["precomputed"], 3)
    return results


def goal_points(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Sweep points keeping >= 90% of stage-1 nDCG@20 while raising alignment by >= 0.10."""
    stage1 = results["stage1"]
    return [
        point
        for point in results["points"]
        if point["ndcg@20"] >= GOAL_NDCG_SHARE * stage1["ndcg@20"]
        and point["alignment"] >= stage1["alignment"] + GOAL_ALIGNMENT_GAIN
    ]


def plot(results: dict[str, Any], path: Path) -> None:
    """nDCG@20 against alignment, one line per variant through its learning rates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stage1 = results["stage1"]
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.fill_between(
        [stage1["alignment"] + GOAL_ALIGNMENT_GAIN, 1.0],
        GOAL_NDCG_SHARE * stage1["ndcg@20"],
        1.0,
        color="tab:green",
        alpha=0.08,
        label="goal: ≥90% stage-1 nDCG, ≥+0.10 alignment",
    )
    variants: dict[tuple[float, float, int, int], list[dict]] = {}
    for point in results["points"]:
        key = (
            point["retention_weight"],
            point["beta"],
            point["train_pairs"],
            point.get("more_jobs", 0),
        )
        variants.setdefault(key, []).append(point)
    for (weight, beta, pairs, more_jobs), points in sorted(variants.items()):
        points = sorted(points, key=lambda p: p["lr"])
        name = "RankPO" if weight == 0 else f"RankPO + retention (w={weight:g})"
        if len({p["beta"] for p in results["points"]}) > 1:
            name += f", β={beta:g}"
        name += f", {pairs:,} pairs"
        if more_jobs:
            name += f" over {points[0]['train_jobs']:,} jobs"
        xs = [p["alignment"] for p in points]
        ys = [p["ndcg@20"] for p in points]
        (line,) = ax.plot(xs, ys, marker="o", label=name)
        for p in points:
            ax.annotate(
                f"{p['lr']:.0e}",
                (p["alignment"], p["ndcg@20"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
                color=line.get_color(),
            )
    ax.scatter(
        [stage1["alignment"]],
        [stage1["ndcg@20"]],
        marker="*",
        s=200,
        color="black",
        zorder=5,
        label="stage 1 (contrastive, mined negatives)",
    )
    all_x = [p["alignment"] for p in results["points"]] + [stage1["alignment"]]
    all_y = [p["ndcg@20"] for p in results["points"]] + [stage1["ndcg@20"]]
    ax.set_xlim(min(all_x) - 0.03, max(max(all_x), stage1["alignment"] + 0.12) + 0.03)
    ax.set_ylim(min(all_y) * 0.85, max(all_y) * 1.1)
    ax.set_xlabel("held-out alignment with the judge")
    ax.set_ylabel("held-out nDCG@20 (graded rule labels)")
    ax.set_title("Stage 2 trade-off over learning rate (labels: lr)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _point_key(point: dict[str, Any]) -> tuple[Any, ...]:
    """What makes a sweep point: points from before a field existed used its default."""
    return (
        point["lr"],
        point["retention_weight"],
        point["beta"],
        point["train_pairs"],
        point.get("min_confidence", 0.0),
        point.get("epochs", 1.0),
        point.get("retention_from", "random" if point["retention_weight"] > 0 else "none"),
        point.get("more_jobs", 0),
        point.get("pairs_per_job", 0),
        point.get("label_smoothing", 0.0),
        point.get("loss", "sigmoid"),
        point.get("margin_weight", 0.0),
        point.get("train_layers", 0),
        point.get("retention_loss", "contrastive" if point["retention_weight"] > 0 else "none"),
        point.get("linear_head", False),
        point.get("train_seed", 0),
    )


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


@click.command(help=script_help(__doc__))
@click.option("--run", "run_dir", type=click.Path(file_okay=False, exists=True), required=True)
@click.option("--lrs", default="5e-6,2e-5,5e-5,1e-4", show_default=True)
@click.option("--weights", default="0,1", show_default=True, help="Retention weights; 0 = plain.")
@click.option("--betas", default="2", show_default=True)
@click.option("--train-pairs", type=int, default=1000, show_default=True)
@click.option(
    "--min-confidence",
    type=float,
    default=0.0,
    show_default=True,
    help="Train only on pairs with judge confidence >= this (0.55 drops the judge's ties).",
)
@click.option("--epochs", type=float, default=1.0, show_default=True)
@click.option(
    "--more-jobs",
    type=int,
    default=0,
    show_default=True,
    help="Synthesise and judge this many more training jobs (cached in the run folder).",
)
@click.option(
    "--pairs-per-job",
    type=int,
    default=0,
    show_default=True,
    help="At most this many training pairs per job (0: all); with --more-jobs, spreads the "
    "same number of pairs over more jobs.",
)
@click.option(
    "--mode",
    type=click.Choice(["full", "head"]),
    default="full",
    show_default=True,
    help="Full fine-tune, or a linear head on cached stage-1 embeddings (give a larger --lrs). "
    "Points in the results with label smoothing, the hinge loss, margin batches, top-layer "
    "training or the other retention loss per mode were run with options since removed.",
)
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--retention-negatives", type=int, default=1, show_default=True)
@click.option(
    "--retention-from",
    type=click.Choice(["random", "mined"]),
    default="random",
    show_default=True,
    help="Retention negatives: random non-relevant candidates, or the run's stage-1 mined "
    "hard negatives (mined.jsonl, training jobs only).",
)
@click.option("--timing-steps", type=int, default=10, show_default=True)
@click.option("--steps-only", is_flag=True, help="Only the reference-score timing.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--train-seed",
    type=int,
    default=None,
    help="Seed of training only (shuffling, retention negatives) [default: --seed]; the "
    "run's data and any --more-jobs keep --seed.",
)
@click.option("--out", type=click.Path(dir_okay=False), default=str(RESULTS / "rankpo_sweep.json"))
def main(
    run_dir: str,
    lrs: str,
    weights: str,
    betas: str,
    train_pairs: int,
    min_confidence: float,
    epochs: float,
    more_jobs: int,
    pairs_per_job: int,
    mode: str,
    batch_size: int,
    retention_negatives: int,
    retention_from: str,
    timing_steps: int,
    steps_only: bool,
    seed: int,
    train_seed: int | None,
    out: str,
) -> None:
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    out_path = Path(out)
    run = load_run(
        Path(run_dir),
        train_pairs=train_pairs,
        seed=seed,
        min_confidence=min_confidence,
        more_jobs=more_jobs,
        pairs_per_job=pairs_per_job,
    )
    results: dict[str, Any] = (
        json.loads(out_path.read_text()) if out_path.exists() else {"points": []}
    )
    results.update(
        benchmark="rankpo_sweep",
        date=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        machine=machine_info(
            cpu_key=None, torch=torch.__version__, device="cpu", load_average_start=load_average()
        ),
        parameters={
            "corpus": {
                "candidates": run["candidates"].height,
                "jobs": run["jobs"].height,
                "heldout_jobs": run["held"].height,
            },
            "stage1_model": "stage1-mined of pipelines/train_two_stage.py (MiniLM-L6, 1 epoch "
            "random negatives, then 1 epoch cluster-mined negatives)",
            "heldout_pairs": run["held_prefs"].height,
            "judge": "synthetic (hidden attributes + rules, 10% noise), pairs from the "
            "stage-1 top-100",
            "batch_size": batch_size,
            "loss": "sigmoid (unless a point says hinge), tau 0.1, reference-free (paper stage 2)",
            "retention": f"rule pairs with {retention_negatives} negative(s) (random "
            "non-relevant candidates, or stage 1's mined hard negatives where a point says "
            "retention_from=mined) through MNRL tau 0.02, or through the RankPO loss where a "
            "point says retention_loss=preference; one retention batch per preference batch "
            "(round robin)",
            "seed": seed,
            "train_seed": "each point's own (0 where a point has none)",
        },
    )
    results["label_ceilings"] = label_ceilings(run)
    results["label_ceiling"] = results["label_ceilings"]["+".join(TERMS)]
    workdir = Path(tempfile.mkdtemp(prefix="rankpo-sweep-"))

    def save() -> None:
        if results.get("points") and "stage1" in results:
            results["goal_met_by"] = goal_points(results)
            plot(results, out_path.with_suffix(".png"))
        write_json(results, out_path)

    if steps_only:
        results["reference_timing"] = reference_timing(
            run, batch_size=batch_size, steps=timing_steps, seed=seed
        )
        save()
        click.echo(json.dumps(results["reference_timing"], indent=2))
        return
    if "judge_term_fit" not in results.get("stage1", {}):
        started = time.perf_counter()
        results["stage1"] = evaluate_model(run["stage1"], run, workdir)
        results["stage1"]["eval_s"] = round(time.perf_counter() - started, 1)
        save()
    click.echo(f"stage 1: {results['stage1']}")
    train_seed = seed if train_seed is None else train_seed
    from jobmatch.training import data
    from jobmatch.training.config import CONFIGS
    from jobmatch.training.stage2 import retention_examples, retention_from_training_rows

    if retention_from == "mined":
        retention = retention_from_training_rows(
            data.read_training_jsonl(Path(run_dir) / "mined.jsonl"),
            negatives=retention_negatives,
            seed=train_seed,
        )
    else:
        retention = retention_examples(
            run["rule_jobs"], run["jobs"], run["candidates"], run["qrels"],
            negatives=retention_negatives, seed=train_seed,
        )  # fmt: skip
    pairs = run["train_prefs"].height
    done = {_point_key(p) for p in results["points"]}
    for weight in _floats(weights):
        for beta in _floats(betas):
            for lr in _floats(lrs):
                point: dict[str, Any] = {
                    "lr": lr,
                    "retention_weight": weight,
                    "beta": beta,
                    "train_pairs": pairs,
                    "min_confidence": min_confidence,
                    "epochs": epochs,
                    "retention_from": retention_from if weight > 0 else "none",
                    "more_jobs": more_jobs,
                    "pairs_per_job": pairs_per_job,
                    "retention_loss": CONFIGS[mode].retention_loss if weight > 0 else "none",
                    "linear_head": mode == "head",
                    "train_seed": train_seed,
                    "train_jobs": run["train_prefs_jobs"],
                }
                if _point_key(point) in done:
                    continue
                model_dir = workdir / f"point-{len(results['points'])}"  # a key's name is too long
                point.update(
                    train_point(
                        run,
                        retention,
                        model_dir,
                        lr=lr,
                        weight=weight,
                        beta=beta,
                        batch_size=batch_size,
                        epochs=epochs,
                        mode=mode,
                        seed=train_seed,
                    )
                )
                started = time.perf_counter()
                point.update(evaluate_model(str(model_dir), run, workdir))
                point["eval_s"] = round(time.perf_counter() - started, 1)
                point["ndcg_retained"] = round(point["ndcg@20"] / results["stage1"]["ndcg@20"], 3)
                point["alignment_gain"] = round(
                    point["alignment"] - results["stage1"]["alignment"], 4
                )
                results["points"].append(point)
                save()
                click.echo(json.dumps(point))
    results["machine"]["load_average_end"] = load_average()
    save()
    click.echo(f"wrote {out_path}")


if __name__ == "__main__":
    main()
