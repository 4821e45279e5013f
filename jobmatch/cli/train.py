"""`jobmatch train contrastive|pairs`: stage-1 training, and helpers every train command uses."""

from __future__ import annotations

import json
from pathlib import Path

import click

from jobmatch.cli.options import (
    INPUT_FILE,
    config_option,
    encoding_option,
    mode_option,
    model_option,
    progress_option,
)
from jobmatch.cli.options import show_progress as _show_progress
from jobmatch.cli.options import status as _status
from jobmatch.training.config import CONTRASTIVE_CONFIGS, ContrastiveConfig, PairsConfig

POSITIVE = click.FloatRange(min=0, min_open=True)


def read_labelled(jobs_path: str, candidates_path: str, qrels_path: str, encoding: str):
    from jobmatch import io

    return (
        io.read_table(jobs_path, "jobs", encoding=encoding),
        io.read_table(candidates_path, "candidates", encoding=encoding),
        io.read_table(qrels_path, "qrels", encoding=encoding),
    )


def split_jobs(jobs, held_out: int, seed: int):
    """`data.split_jobs`, with too many held-out jobs reported as a bad --held-out."""
    from jobmatch.training import data

    try:
        return data.split_jobs(jobs, held_out=held_out, seed=seed)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--held-out") from exc


def report_training(result, metric_name: str) -> None:
    best = "" if result.best_metric is None else f" {result.best_metric:.4f}"
    _status(
        f"saved {result.out} after {result.steps} steps in {result.seconds:.0f}s "
        f"({result.examples_per_second:.1f} examples/s); {metric_name}{best}"
    )
    (Path(result.out) / "training_history.json").write_text(
        json.dumps(result.history, indent=2) + "\n", "utf-8"
    )


@click.group()
def train() -> None:
    """Fine-tune the bi-encoder (stage 1, pair regression, stage 2) or train a reranker."""


@train.command("contrastive")
@click.option("--jobs", "jobs_path", type=INPUT_FILE, default=None)
@click.option("--candidates", "candidates_path", type=INPUT_FILE, default=None)
@click.option("--qrels", "qrels_path", type=INPUT_FILE, default=None)
@click.option(
    "--train",
    "train_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Training JSONL (RankPO format) instead of random negatives from --qrels.",
)
@click.option(
    "--held-out",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Jobs kept out of training for the nDCG@20 evaluator (needs --jobs/--qrels).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@model_option("Starting model.")
@click.option(
    "--mode",
    type=click.Choice(list(CONTRASTIVE_CONFIGS)),
    default="full",
    show_default=True,
    help="full: fine-tune the whole model (sentence-transformers Trainer). head: train a "
    "linear map on the frozen model's embeddings, each text encoded once (minutes on a CPU "
    "for a few hundred labelled jobs); saved as the model + Dense + Normalize.",
)
@mode_option(CONTRASTIVE_CONFIGS, "epochs", type=POSITIVE)
@mode_option(CONTRASTIVE_CONFIGS, "batch_size", type=click.IntRange(min=2))
@mode_option(CONTRASTIVE_CONFIGS, "lr", type=POSITIVE)
@mode_option(CONTRASTIVE_CONFIGS, "temperature", type=POSITIVE)
@config_option(ContrastiveConfig, "negatives", type=click.IntRange(min=0))
@mode_option(CONTRASTIVE_CONFIGS, "max_seq_length", type=click.IntRange(min=8))
@mode_option(CONTRASTIVE_CONFIGS, "max_positives", type=click.IntRange(min=1))
@config_option(ContrastiveConfig, "cached")
@config_option(ContrastiveConfig, "mini_batch_size", type=click.IntRange(min=1))
@config_option(ContrastiveConfig, "eval_steps", type=click.IntRange(min=1))
@config_option(ContrastiveConfig, "resume")
@click.option("--seed", type=int, default=0, show_default=True)
@encoding_option()
@progress_option()
def train_contrastive_command(
    jobs_path,
    candidates_path,
    qrels_path,
    train_path,
    held_out,
    out_dir,
    model,
    mode,
    epochs,
    batch_size,
    lr,
    temperature,
    negatives,
    max_seq_length,
    max_positives,
    cached,
    mini_batch_size,
    eval_steps,
    resume,
    seed,
    encoding,
    progress,
) -> None:
    """Stage 1: InfoNCE with in-batch and hard negatives on rule-derived pairs.

    From --jobs/--candidates/--qrels it holds out --held-out jobs for evaluation and draws
    random negatives for the rest; with --train it reads RankPO JSONL (e.g. from
    mine-negatives) and, if --jobs/--candidates/--qrels are also given, evaluates on the
    held-out jobs. The best checkpoint by held-out nDCG@20 is saved to --out, which loads
    with SentenceTransformer(OUT) and --model OUT everywhere. Multi-GPU: prefix the command
    with `torchrun --nproc_per_node N -m jobmatch.cli`.

    \b
    Examples:
      jobmatch train contrastive --jobs data/jobs.parquet --candidates data/candidates.parquet \\
          --qrels data/qrels.parquet --out models/stage1-random
      jobmatch train contrastive --train data/mined.jsonl --jobs data/jobs.parquet \\
          --candidates data/candidates.parquet --qrels data/qrels.parquet \\
          --model models/stage1-random --out models/stage1-mined
      jobmatch train contrastive --mode head --jobs data/jobs.parquet \\
          --candidates data/candidates.parquet --qrels data/qrels.parquet --out models/head
    """
    from jobmatch.training import data
    from jobmatch.training.contrastive import train_contrastive
    from jobmatch.training.evaluators import RankingEvaluator

    labelled = all((jobs_path, candidates_path, qrels_path))
    if not train_path and not labelled:
        raise click.UsageError("give --jobs, --candidates and --qrels, or --train")
    evaluator = None
    if labelled:
        jobs, candidates, qrels = read_labelled(jobs_path, candidates_path, qrels_path, encoding)
        train_jobs, held = split_jobs(jobs, held_out, seed)
        if held.height:
            evaluator = RankingEvaluator(held, candidates, qrels, seed=seed)
    if train_path:
        rows = data.read_training_jsonl(train_path)
        if evaluator is not None:
            held_texts = set(held["text"].to_list())
            rows = [row for row in rows if row["query"] not in held_texts]
    else:
        id_rows = data.random_negatives(
            train_jobs, candidates, qrels, num=max(negatives, 1), seed=seed
        )
        rows = data.rows_with_texts(id_rows, jobs, candidates)
    full_only = {"--cached": cached, "--eval-steps": eval_steps, "--resume": resume}
    if mode == "head" and any(full_only.values()):
        given = ", ".join(flag for flag, value in full_only.items() if value)
        raise click.UsageError(f"{given}: only for --mode full")
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "temperature": temperature,
        "max_seq_length": max_seq_length,
        "max_positives": max_positives,
    }
    if mode == "full":
        settings.update(
            cached=cached, mini_batch_size=mini_batch_size, eval_steps=eval_steps, resume=resume
        )
    config = CONTRASTIVE_CONFIGS[mode](
        out=Path(out_dir),
        model=model,
        negatives=negatives,
        seed=seed,
        progress=_show_progress(progress),
        **{name: value for name, value in settings.items() if value is not None},
    )
    examples = data.contrastive_examples(
        rows, negatives=negatives, max_positives=config.max_positives, seed=seed
    )
    _status(
        f"training {'a linear head' if mode == 'head' else 'the full model'} on "
        f"{len(examples['anchor'])} examples from {len(rows)} jobs"
        + (f", evaluating on {held.height} held-out jobs" if evaluator else "")
    )
    result = train_contrastive(config, examples, evaluator)
    report_training(result, "held-out nDCG@20")


@train.command("pairs")
@click.option(
    "--pairs",
    "pairs_path",
    type=INPUT_FILE,
    required=True,
    help="Table of resume, jd, label in [0, 1] (CSV, Parquet or JSONL).",
)
@click.option("--resume-col", default="resume", show_default=True)
@click.option("--jd-col", default="jd", show_default=True)
@click.option("--label-col", default="label", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@model_option("Starting model.")
@config_option(PairsConfig, "epochs", type=POSITIVE)
@config_option(PairsConfig, "batch_size", type=click.IntRange(min=1))
@config_option(PairsConfig, "lr", type=POSITIVE)
@config_option(
    PairsConfig, "validation_share", type=click.FloatRange(0, 1, min_open=True, max_open=True)
)
@config_option(PairsConfig, "patience", type=click.IntRange(min=1))
@click.option(
    "--cross-encoder",
    is_flag=True,
    help="Train a cross-encoder on the pairs instead: BCE against the label, early stopping "
    "on the validation BCE, validation MSE of sigmoid(score) reported; loads with "
    "CrossEncoder(OUT) (start: --model, a bi-encoder gets a fresh score head).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@encoding_option()
@progress_option()
def train_pairs_command(
    pairs_path,
    resume_col,
    jd_col,
    label_col,
    out_dir,
    model,
    epochs,
    batch_size,
    lr,
    validation_share,
    patience,
    cross_encoder,
    seed,
    encoding,
    progress,
) -> None:
    """Pair regression (the Korean matcher's recipe): MSE of (cos+1)/2 against the label.

    \b
    Examples:
      jobmatch train pairs --pairs pairs.csv --out models/pairs
      jobmatch train pairs --pairs pairs.csv --cross-encoder --out models/pairs-ce
    """
    import polars as pl

    from jobmatch.io.importers import import_pairs
    from jobmatch.training.pairs import JD, LABEL, RESUME, train_pairs, train_pairs_cross_encoder

    tables = import_pairs(
        pairs_path, resume_col=resume_col, jd_col=jd_col, label_col=label_col, encoding=encoding
    )
    resume_text = dict(tables.candidates.select("candidate_id", "text").iter_rows())
    jd_text = dict(tables.jobs.select("job_id", "text").iter_rows())
    pairs = pl.DataFrame(
        {
            RESUME: [resume_text[c] for c in tables.pairs["candidate_id"]],
            JD: [jd_text[j] for j in tables.pairs["job_id"]],
            LABEL: tables.pairs["label"].cast(pl.Float32),
        }
    )
    config = PairsConfig(
        out=Path(out_dir),
        model=model,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        validation_share=validation_share,
        patience=patience,
        seed=seed,
        progress=_show_progress(progress),
    )
    if cross_encoder:
        result = train_pairs_cross_encoder(config, pairs)
        report_training(result, "validation MSE of the best checkpoint")
    else:
        result = train_pairs(config, pairs)
        report_training(result, "best validation loss")
