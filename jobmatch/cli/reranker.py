"""`jobmatch train reranker`: a cross-encoder reranker on graded labels and mined negatives.

The options come from `RerankerConfig` (`jobmatch.training.config`): a field's default and
help are written once, there.
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
    progress_option,
)
from jobmatch.cli.options import show_progress as _show_progress
from jobmatch.cli.options import status as _status
from jobmatch.cli.train import POSITIVE, read_labelled, report_training, split_jobs
from jobmatch.training.config import RERANKER_LOSSES, RerankerConfig


def option(name: str, *decls: str, **kwargs: Any):
    """An option of a RerankerConfig field, with its default and help."""
    return config_option(RerankerConfig, name, *decls, **kwargs)


def rank_range(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    """'0-50' -> (0, 50), the syntax of `mine-negatives --range`."""
    from jobmatch.training.mining import parse_range

    try:
        return parse_range(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


DEFAULT_RANGE = "{}-{}".format(*config_field(RerankerConfig, "mining_range").default)


@click.command("reranker")
@click.option("--jobs", "jobs_path", type=INPUT_FILE, required=True)
@click.option("--candidates", "candidates_path", type=INPUT_FILE, required=True)
@click.option(
    "--qrels",
    "qrels_path",
    type=INPUT_FILE,
    required=True,
    help="Graded labels (`jobmatch label`, or a team's own from `jobmatch import labels`).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@option("model", "--model", metavar="MODEL")
@click.option(
    "--retriever-model",
    envvar="JOBMATCH_MODEL",
    default=None,
    metavar="MODEL",
    help="Bi-encoder that mines the hard negatives and retrieves the held-out jobs' lists "
    "(the model the index is built with). Default: the bundled all-MiniLM-L6-v2 (offline). "
    "Env: JOBMATCH_MODEL.",
)
@click.option(
    "--held-out",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Jobs kept out of training; their reranked nDCG@20 picks the best checkpoint.",
)
@option("loss", type=click.Choice(RERANKER_LOSSES))
@option("epochs", type=POSITIVE)
@option("batch_size", type=click.IntRange(min=1))
@option("lr", type=POSITIVE)
@option("negatives", type=click.IntRange(min=1))
@option("max_positives", type=click.IntRange(min=1))
@click.option(
    "--range",
    "mining_range",
    default=DEFAULT_RANGE,
    show_default=True,
    metavar="START-END",
    callback=rank_range,
    help=config_field(RerankerConfig, "mining_range").metadata["help"],
)
@option("max_length", type=click.IntRange(min=8))
@option("eval_depth", type=click.IntRange(min=1))
@option("eval_steps", type=click.IntRange(min=1))
@option("resume")
@click.option("--seed", type=int, default=0, show_default=True)
@encoding_option()
@progress_option()
def train_reranker_command(
    jobs_path: str,
    candidates_path: str,
    qrels_path: str,
    out_dir: str,
    retriever_model: str | None,
    held_out: int,
    seed: int,
    encoding: str,
    progress: bool | None,
    **settings: Any,
) -> None:
    """Train a cross-encoder that reranks the retriever's top candidates.

    Each training job contributes its judged positives (graded 1..3) and hard negatives
    sampled from the retriever's ranks --range, every judged positive excluded. --loss bce
    fits each pair to relevance/3; --loss lambda ranks each job's list by its grades
    (LambdaLoss). The --held-out jobs' top --eval-depth candidates by the retriever are
    reranked at every evaluation; the best checkpoint by graded nDCG@20 is saved to --out,
    which loads with CrossEncoder(OUT).

    \b
    Examples:
      jobmatch train reranker --jobs data/jobs.parquet --candidates data/candidates.parquet \\
          --qrels data/qrels.parquet --retriever-model models/stage1 --out models/reranker
      jobmatch train reranker ... --loss lambda --out models/reranker-lambda
      jobmatch train reranker ... --model cross-encoder/ms-marco-MiniLM-L6-v2  # network once
    """
    from jobmatch.encoder import load_encoder
    from jobmatch.training.reranker import prepare_reranker, train_reranker

    jobs, candidates, qrels = read_labelled(jobs_path, candidates_path, qrels_path, encoding)
    train_jobs, held = split_jobs(jobs, held_out, seed)
    try:
        config = RerankerConfig(
            out=Path(out_dir), seed=seed, progress=_show_progress(progress), **settings
        )
        retriever = load_encoder(retriever_model)
        data = prepare_reranker(
            config, train_jobs, held, candidates, qrels, retriever, progress=config.progress
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    start, end = config.mining_range
    if data.evaluator is not None:
        figures = ", ".join(f"{k} {v:.4f}" for k, v in data.evaluator.retriever.items())
        _status(
            f"retriever {retriever.name} on {len(data.evaluator.runs)} held-out jobs, "
            f"top {config.eval_depth}: {figures}"
        )
    _status(
        f"training a cross-encoder ({config.loss}) on {data.pairs} pairs from {data.jobs} jobs: "
        f"up to {config.max_positives} judged positives and {config.negatives} negatives "
        f"from retriever ranks {start}-{end} per job"
    )
    result = train_reranker(config, data.examples, data.evaluator)
    report_training(
        result,
        f"held-out nDCG@20 reranking the top {config.eval_depth}"
        if data.evaluator is not None
        else "no held-out jobs",
    )
