"""`jobmatch train rankpo`: stage 2, preference optimisation on judged pairs."""

from __future__ import annotations

from pathlib import Path

import click

from jobmatch.cli.options import (
    INPUT_FILE,
    progress_option,
)
from jobmatch.cli.options import show_progress as _show_progress
from jobmatch.cli.options import status as _status
from jobmatch.cli.train import report_training, split_jobs


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
    help="The stage-1 model (start and reference).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--beta", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True)
@click.option(
    "--temperature", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True
)
@click.option("--gamma", type=float, default=0.0, show_default=True)
@click.option(
    "--label-smoothing",
    type=click.FloatRange(0, 0.5, max_open=True),
    default=0.0,
    show_default=True,
)
@click.option(
    "--loss",
    "loss_type",
    type=click.Choice(["sigmoid", "hinge"]),
    default="sigmoid",
    show_default=True,
)
@click.option(
    "--reference-free/--reference",
    default=True,
    show_default=True,
    help="Drop the frozen stage-1 reference term from the advantage.",
)
@click.option("--sft-weight", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option(
    "--retention-weight",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Weight of interleaved stage-1 retention batches (needs --qrels or "
    "--retention-train); 0 = plain. 2 with --linear-head.",
)
@click.option(
    "--linear-head",
    is_flag=True,
    help="Train only a linear head on the frozen stage-1 embeddings, encoded once: fast "
    "enough for tens of thousands of pairs on a CPU. Options not given then take the head's "
    "defaults: --lr 1e-3 --epochs 5 --batch-size 64 --retention-loss preference "
    "--retention-weight 2.",
)
@click.option(
    "--retention-loss",
    type=click.Choice(["contrastive", "preference"]),
    default="contrastive",
    show_default=True,
    help="Score retention rows with stage 1's InfoNCE (contrastive) or as the rules' own "
    "preferences, positive over negative, with the RankPO loss (preference; the default "
    "with --linear-head).",
)
@click.option(
    "--margin-weight",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Weight of interleaved margin batches: MarginMSE of the chosen-rejected score gap "
    "against --margin-scale x logit(judge confidence); needs a confidence column. 0 = off.",
)
@click.option(
    "--margin-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=0.02,
    show_default=True,
    help="Cosine gap asked per logit of judge confidence.",
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Train only on pairs the judge was at least this sure of (0.55 drops the "
    "synthetic judge's coin-flip ties); held-out pairs are all kept.",
)
@click.option(
    "--train-layers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Train only the top N transformer layers; the embeddings and lower layers stay as "
    "stage 1 left them. 0 = all.",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=5e-5,
    show_default=True,
    help="Learning rate; 1e-3 with --linear-head.",
)
@click.option(
    "--epochs",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="5 with --linear-head.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=2),
    default=16,
    show_default=True,
    help="Preference rows per step (as many retention rows follow); 64 with --linear-head.",
)
@click.option(
    "--held-out",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Jobs whose preferences (and labels) are kept out for evaluation.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@progress_option()
def train_rankpo_command(
    preferences_path,
    jobs_path,
    candidates_path,
    qrels_path,
    retention_train_path,
    model,
    out_dir,
    beta,
    temperature,
    gamma,
    label_smoothing,
    loss_type,
    reference_free,
    sft_weight,
    retention_weight,
    retention_loss,
    linear_head,
    margin_weight,
    margin_scale,
    min_confidence,
    train_layers,
    lr,
    epochs,
    batch_size,
    held_out,
    seed,
    progress,
) -> None:
    """Stage 2: RankPO on judge preferences, keeping stage 1's ranking via retention.

    \b
    Example:
      jobmatch train rankpo --preferences data/preferences.parquet --jobs data/jobs.parquet \\
          --candidates data/candidates.parquet --qrels data/qrels.parquet \\
          --model models/stage1 --out models/stage2

    \b
    A linear head on the frozen stage-1 encoder, for many judged pairs on a CPU
    (preference retention weight 2, lr 1e-3, 5 epochs of batches of 64 unless given):
      jobmatch train rankpo ... --linear-head
    """

    from jobmatch import io
    from jobmatch.training.evaluator import RankingEvaluator
    from jobmatch.training.head import HEAD_DEFAULTS
    from jobmatch.training.rankpo import (
        AlignmentEvaluator,
        RankPOConfig,
        preference_texts,
        retention_examples,
        retention_from_training_rows,
        split_preferences,
        train_rankpo,
    )

    if linear_head and (train_layers or margin_weight):
        raise click.UsageError("--linear-head trains alone: drop --train-layers/--margin-weight")
    jobs = io.read_table(jobs_path, "jobs")
    candidates = io.read_table(candidates_path, "candidates")
    preferences = io.read_table(preferences_path, "preferences")
    train_jobs, held = split_jobs(jobs, held_out, seed)
    train_prefs, held_prefs = split_preferences(preferences, held, min_confidence=min_confidence)
    if train_prefs.height == 0:
        raise click.UsageError(
            "no preference pairs left for training after the held-out split"
            + (f" and --min-confidence {min_confidence:g}" if min_confidence else "")
        )
    if margin_weight > 0 and (
        "confidence" not in train_prefs.columns or train_prefs["confidence"].is_null().all()
    ):
        raise click.UsageError(
            f"--margin-weight needs judge confidences; {preferences_path} has none"
        )
    evaluators = []
    if held_prefs.height:
        texts = preference_texts(held_prefs, jobs, candidates)
        evaluators.append(AlignmentEvaluator(texts["query"], texts["chosen"], texts["rejected"]))
    retention = None
    if qrels_path:
        qrels = io.read_table(qrels_path, "qrels")
        if held.height:
            evaluators.append(RankingEvaluator(held, candidates, qrels, seed=seed))
        retention = retention_examples(train_jobs, jobs, candidates, qrels, seed=seed)
    if retention_train_path:
        from jobmatch.errors import InputError
        from jobmatch.training import data

        retention = retention_from_training_rows(
            data.read_training_jsonl(retention_train_path), seed=seed
        )
        if not retention["anchor"]:
            raise InputError("no row has a negative to retain", path=retention_train_path)
    settings = {
        "lr": lr,
        "epochs": epochs,
        "batch_size": batch_size,
        "retention_loss": retention_loss,
        "retention_weight": retention_weight,
    }
    if linear_head:  # the head's own defaults for whatever was not given
        context = click.get_current_context()
        for name, value in HEAD_DEFAULTS.items():
            if context.get_parameter_source(name) is click.core.ParameterSource.DEFAULT:
                settings[name] = value
    if not retention:
        settings["retention_weight"] = 0.0
    config = RankPOConfig(
        out=Path(out_dir),
        model=model,
        beta=beta,
        temperature=temperature,
        gamma=gamma,
        label_smoothing=label_smoothing,
        loss_type=loss_type,
        reference_free=reference_free,
        sft_weight=sft_weight,
        **settings,
        linear_head=linear_head,
        margin_weight=margin_weight,
        margin_scale=margin_scale,
        train_layers=train_layers,
        seed=seed,
        progress=_show_progress(progress),
    )
    _status(
        f"RankPO on {train_prefs.height} pairs, "
        + ("a linear head" if linear_head else "the full model")
        + f": lr {config.lr:g}, {config.epochs:g} epochs, batch {config.batch_size}, "
        + (
            f"{config.retention_loss} retention weight {config.retention_weight:g}"
            if config.retention_weight
            else "no retention"
        )
    )
    result = train_rankpo(
        config,
        preference_texts(train_prefs, jobs, candidates),
        retention=retention,
        evaluators=evaluators,
    )
    last = result.history[-1] if result.history else {}
    summary = ", ".join(
        f"{k.removeprefix('eval_')} {v:.4f}"
        for k, v in last.items()
        if k.startswith("eval_heldout")
    )
    report_training(result, "final " + (summary or "(no held-out data)"))
