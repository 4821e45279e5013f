"""The one preparation of stage-2 data, shared by `jobmatch train rankpo`, the two-stage
pipeline and the RankPO sweep.

From the judged preference table and a set of held-out jobs it makes: the training pairs as
texts (only pairs the judge was at least `min_confidence` sure of), the held-out pairs, the
evaluators that follow training (held-out alignment, and held-out nDCG@20 when rule labels
are given), and the retention rows that keep stage 1's ranking (from stage 1's own mined
training file, or rule positives with random negatives).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from jobmatch import schema
from jobmatch.errors import InputError
from jobmatch.training import data
from jobmatch.training.evaluator import RankingEvaluator
from jobmatch.training.rankpo import (
    RETENTION_NEGATIVES,
    AlignmentEvaluator,
    preference_texts,
    retention_examples,
    retention_from_training_rows,
    split_preferences,
)


@dataclass
class Stage2Data:
    """Everything `train_rankpo` takes besides its config."""

    preferences: dict[str, list]
    """Training pairs as texts: query, chosen, rejected (and confidence when judged)."""
    train_pairs: pl.DataFrame
    held_pairs: pl.DataFrame
    retention: dict[str, list[str]] | None
    evaluators: list[Any]


def prepare_stage2(
    jobs: pl.DataFrame,
    candidates: pl.DataFrame,
    preferences: pl.DataFrame,
    held_jobs: pl.DataFrame,
    *,
    qrels: pl.DataFrame | None = None,
    training_file: str | Path | None = None,
    min_confidence: float = 0.0,
    retention_negatives: int = RETENTION_NEGATIVES,
    select: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    seed: int = 0,
) -> Stage2Data:
    """Split, filter and turn a preference table into stage-2 training inputs.

    Args:
        jobs, candidates: validated tables holding every id the preferences name.
        preferences: job_id, chosen, rejected[, confidence].
        held_jobs: jobs whose pairs (and labels) are kept out for evaluation.
        qrels: rule labels; give held-out nDCG@20 and, without `training_file`, retention
            rows (rule positives with random non-relevant candidates).
        training_file: stage 1's training JSONL (`jobmatch mine-negatives` output): retention
            uses its positives and mined hard negatives.
        min_confidence: training pairs must have a judge confidence at least this (pairs
            without a confidence are kept); held-out pairs are all kept.
        select: a last choice among the training pairs (the sweep subsamples them).

    Raises:
        InputError: when no training pair is left, or the training rows have no negative.
    """
    train_pairs, held_pairs = split_preferences(
        preferences, held_jobs, min_confidence=min_confidence
    )
    if select is not None:
        train_pairs = select(train_pairs)
    if train_pairs.height == 0:
        raise InputError(
            "no preference pairs left for training after the held-out split"
            + (f" and min confidence {min_confidence:g}" if min_confidence else "")
        )
    evaluators: list[Any] = []
    if held_pairs.height:
        texts = preference_texts(held_pairs, jobs, candidates)
        evaluators.append(AlignmentEvaluator(texts["query"], texts["chosen"], texts["rejected"]))
    if qrels is not None and held_jobs.height:
        evaluators.append(RankingEvaluator(held_jobs, candidates, qrels, seed=seed))
    retention = None
    if training_file is not None:
        retention = retention_from_training_rows(
            data.read_training_jsonl(training_file), negatives=retention_negatives, seed=seed
        )
        if not retention["anchor"]:
            raise InputError("no row has a negative to retain", path=str(training_file))
    elif qrels is not None:
        held = pl.col(schema.JOB_ID).is_in(held_jobs[schema.JOB_ID].implode())
        retention = retention_examples(
            jobs.filter(~held), jobs, candidates, qrels, negatives=retention_negatives, seed=seed
        )
    return Stage2Data(
        preferences=preference_texts(train_pairs, jobs, candidates),
        train_pairs=train_pairs,
        held_pairs=held_pairs,
        retention=retention,
        evaluators=evaluators,
    )
