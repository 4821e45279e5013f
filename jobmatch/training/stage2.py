"""The one preparation of stage-2 data, shared by `jobmatch train rankpo`, the two-stage
pipeline and the RankPO sweep.

From the judged preference table and a set of held-out jobs it makes: the training pairs as
texts (only pairs the judge was at least `min_confidence` sure of), the held-out pairs, the
evaluators that follow training (held-out alignment, and held-out nDCG@20 when rule labels
are given), and the retention rows that keep stage 1's ranking (from stage 1's own mined
training file, or rule positives with random negatives).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from jobmatch import schema
from jobmatch.errors import InputError
from jobmatch.training import data
from jobmatch.training.evaluators import AlignmentEvaluator, RankingEvaluator

RETENTION_NEGATIVES = 1
"""Random non-relevant candidates per retention row (the rules' positive is the other side)."""


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


def retention_examples(
    train_jobs: Any,
    jobs: Any,
    candidates: Any,
    qrels: Any,
    *,
    negatives: int = RETENTION_NEGATIVES,
    seed: int = 0,
) -> dict[str, list[str]]:
    """Stage-1 contrastive rows for retention batches: each training job's rule positives
    with `negatives` random candidates that no rule judged relevant."""
    rows = data.random_negatives(train_jobs, candidates, qrels, num=negatives, seed=seed + 1)
    return data.contrastive_examples(
        data.rows_with_texts(rows, jobs, candidates), negatives=negatives, seed=seed
    )


def retention_from_training_rows(
    rows: Sequence[dict], *, negatives: int = RETENTION_NEGATIVES, seed: int = 0
) -> dict[str, list[str]]:
    """Retention rows from stage 1's own training file (`jobmatch mine-negatives` output, read
    by `data.read_training_jsonl`): its rule positives with its mined hard negatives, so the
    retention batches continue exactly the objective stage 1 ended on."""
    return data.contrastive_examples(rows, negatives=negatives, seed=seed)


def confident_pairs(preferences: Any, min_confidence: float) -> Any:
    """Preference rows whose judge confidence is at least `min_confidence` (0..1).

    A synthetic-judge tie has confidence 0.5 and its answer is a coin, so 0.55 drops exactly
    the coin-flip rows; an LLM judge's "Confidence score: 50" is the same shrug. Rows without
    a confidence are kept: the judge gave no reason to distrust them.
    """
    if min_confidence <= 0 or schema.CONFIDENCE not in preferences.columns:
        return preferences
    confidence = pl.col(schema.CONFIDENCE)
    return preferences.filter(confidence.is_null() | (confidence >= min_confidence))


def split_preferences(
    preferences: Any, held_jobs: Any, *, min_confidence: float = 0.0
) -> tuple[Any, Any]:
    """(training pairs, held-out pairs): pairs of held-out jobs are all kept for evaluation;
    the others are training pairs if the judge was at least `min_confidence` sure."""
    held = pl.col(schema.JOB_ID).is_in(held_jobs[schema.JOB_ID].implode())
    train = confident_pairs(preferences.filter(~held), min_confidence)
    return train, preferences.filter(held)


def preference_texts(preferences: Any, jobs: Any, candidates: Any) -> dict[str, list[str]]:
    """Id-based preference rows -> query/chosen/rejected texts."""
    job_text = dict(jobs.select("job_id", "text").iter_rows())
    text = dict(candidates.select("candidate_id", "text").iter_rows())
    rows = preferences.select("job_id", "chosen", "rejected").iter_rows()
    triples = [(job_text[j], text[c], text[r]) for j, c, r in rows]
    texts = {
        "query": [t[0] for t in triples],
        "chosen": [t[1] for t in triples],
        "rejected": [t[2] for t in triples],
    }
    if "confidence" in preferences.columns:
        texts["confidence"] = preferences["confidence"].to_list()
    return texts
