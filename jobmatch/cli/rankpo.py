"""`jobmatch train rankpo`: stage 2, preference optimisation on judged pairs.

The options come from the stage-2 configs (`jobmatch.training.config`): a field's
default and help are written once, there. Options whose default depends on `--mode` are
None here and take the mode's config default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jobmatch.cli.options import (
    INPUT_FILE,
    config_field,
    config_option,
    encoding_option,
    mode_option,
    progress_option,
)
from jobmatch.cli.options import show_progress as _show_progress
from jobmatch.cli.options import status as _status
from jobmatch.cli.train import report_training, split_jobs
from jobmatch.training.config import CONFIGS, FullConfig

MODE_FIELDS = ("epochs", "batch_size", "lr", "retention_weight")
"""Fields each mode sets its own default for."""


def loss_option(name: str, *decls: str, **kwargs: Any):
    """An option of a field both modes share, with its config default and help."""
    return config_option(FullConfig, name, *decls, **kwargs)


POSITIVE = click.FloatRange(min=0, min_open=True)


@click.command("rankpo")
@click.option(
    "--preferences",
    "preferences_path",
    type=INPUT_FILE,
    required=True,
    help="Preferences table (job_id, chosen, rejected[, confidence]).",
)
@click.option("--jobs", "jobs_path", type=INPUT_FILE, required=True)
@click.option("--candidates", "candidates_path", type=INPUT_FILE, required=True)
@click.option(
    "--qrels",
    "qrels_path",
    type=INPUT_FILE,
    default=None,
    help="Rule labels: enable retention batches and held-out nDCG@20.",
)
@click.option(
    "--retention-train",
    "retention_train_path",
    type=INPUT_FILE,
    default=None,
    help="Stage 1's training JSONL (`jobmatch mine-negatives` output): retention batches use "
    "its positives and mined hard negatives instead of random negatives.",
)
@click.option(
    "--model",
    "model",
    required=True,
    metavar="STAGE1",
    help=config_field(FullConfig, "model").metadata["help"],
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option(
    "--mode",
    type=click.Choice(list(CONFIGS)),
    default="full",
    show_default=True,
    help="full: fine-tune the whole stage-1 model, with stage 1's InfoNCE on the retention "
    "rows. head: train a linear head on the frozen stage-1 embeddings, encoded once (fast "
    "enough for tens of thousands of pairs on a CPU), with the rules' own preferences as "
    "retention.",
)
@loss_option("beta", type=POSITIVE)
@loss_option("temperature", type=POSITIVE)
@loss_option("gamma", type=float)
@loss_option("reference_free", "--reference-free/--reference", show_default=True)
@loss_option("sft_weight", type=click.FloatRange(min=0))
@mode_option(CONFIGS, "retention_weight", type=click.FloatRange(min=0))
@mode_option(CONFIGS, "lr", type=POSITIVE)
@mode_option(CONFIGS, "epochs", type=POSITIVE)
@mode_option(CONFIGS, "batch_size", type=click.IntRange(min=2))
@click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Train only on pairs the judge was at least this sure of (0.55 drops the "
    "synthetic judge's coin-flip ties); held-out pairs are all kept.",
)
@click.option(
    "--held-out",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Jobs whose preferences (and labels) are kept out for evaluation.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@encoding_option()
@progress_option()
def train_rankpo_command(
    preferences_path: str,
    jobs_path: str,
    candidates_path: str,
    qrels_path: str | None,
    retention_train_path: str | None,
    model: str,
    out_dir: str,
    mode: str,
    min_confidence: float,
    held_out: int,
    seed: int,
    encoding: str,
    progress: bool | None,
    **settings: Any,
) -> None:
    """Stage 2: RankPO on judge preferences, keeping stage 1's ranking via retention.

    \b
    Examples:
      jobmatch train rankpo --preferences data/preferences.parquet --jobs data/jobs.parquet \\
          --candidates data/candidates.parquet --qrels data/qrels.parquet \\
          --model models/stage1 --out models/stage2
      jobmatch train rankpo ... --mode head      # many judged pairs on a CPU
    """
    from jobmatch import io
    from jobmatch.training.rankpo import train_rankpo
    from jobmatch.training.stage2 import prepare_stage2

    jobs = io.read_table(jobs_path, "jobs", encoding=encoding)
    candidates = io.read_table(candidates_path, "candidates", encoding=encoding)
    preferences = io.read_table(preferences_path, "preferences", encoding=encoding)
    qrels = io.read_table(qrels_path, "qrels", encoding=encoding) if qrels_path else None
    _, held = split_jobs(jobs, held_out, seed)
    data = prepare_stage2(
        jobs,
        candidates,
        preferences,
        held,
        qrels=qrels,
        training_file=retention_train_path,
        min_confidence=min_confidence,
        seed=seed,
    )
    given = {name: value for name, value in settings.items() if value is not None}
    config = CONFIGS[mode](
        out=Path(out_dir), model=model, seed=seed, progress=_show_progress(progress), **given
    )
    if data.retention is None:
        config.retention_weight = 0.0
    _status(
        f"RankPO on {data.train_pairs.height} pairs, "
        + ("a linear head" if mode == "head" else "the full model")
        + f": lr {config.lr:g}, {config.epochs:g} epochs, batch {config.batch_size}, "
        + (
            f"{config.retention_loss} retention weight {config.retention_weight:g}"
            if config.retention_weight
            else "no retention"
        )
    )
    result = train_rankpo(
        config, data.preferences, retention=data.retention, evaluators=data.evaluators
    )
    last = result.history[-1] if result.history else {}
    summary = ", ".join(
        f"{k.removeprefix('eval_')} {v:.4f}"
        for k, v in last.items()
        if k.startswith("eval_heldout")
    )
    report_training(result, "final " + (summary or "(no held-out data)"))
