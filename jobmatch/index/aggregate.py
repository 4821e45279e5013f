"""Scores of candidates from the scores of their passages: the aggregates, in plain numpy.

With s_1..s_n the inner products of a query with a candidate's n passages in text order:

- `first`: s_1, the opening passage (truncation with the passage length as the limit);
- `max`: max_j s_j, the best passage;
- `mean`: (1/n) sum_j s_j, the mean of the passage *scores*, which equals the inner product
  with the (unnormalised) mean of the passage vectors;
- `first+max`: FIRST_WEIGHT * s_1 + (1 - FIRST_WEIGHT) * max_j s_j.

Every aggregate is at most `max`, which lets the over-fetch loop of `passage_search` stop as
soon as its k-th aggregate reaches the lowest passage score fetched.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

Aggregate = Literal["first", "max", "mean", "first+max"]
AGGREGATES: tuple[Aggregate, ...] = get_args(Aggregate)

FIRST_WEIGHT = 0.5
"""Weight of the opening passage in `first+max`."""


def check_aggregate(aggregate: str) -> Aggregate:
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}")
    return aggregate  # type: ignore[return-value]


def aggregate_scores(
    scores: np.ndarray,
    owners: np.ndarray,
    positions: np.ndarray,
    aggregate: Aggregate,
) -> tuple[np.ndarray, np.ndarray]:
    """(candidates, aggregate scores), candidates sorted, from the scores of *all* their passages.

    Args:
        scores: one query's score of each passage, float [n].
        owners: the candidate of each passage, int [n].
        positions: each passage's position in its candidate's text (0 = first), int [n].
        aggregate: first, max, mean or first+max (see the module docstring).
    """
    check_aggregate(aggregate)
    scores = np.asarray(scores, dtype=np.float64)
    owners = np.asarray(owners)
    if len(owners) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    order = np.argsort(owners, kind="stable")
    owners, scores, positions = owners[order], scores[order], np.asarray(positions)[order]
    starts = np.flatnonzero(np.concatenate([[True], owners[1:] != owners[:-1]]))
    candidates = owners[starts].astype(np.int64)
    best = np.maximum.reduceat(scores, starts)
    if aggregate == "max":
        result = best
    elif aggregate == "mean":
        result = np.add.reduceat(scores, starts) / np.diff(np.append(starts, len(scores)))
    else:
        first = np.full(len(candidates), np.nan)
        opening = positions == 0
        first[np.searchsorted(candidates, owners[opening])] = scores[opening]
        if np.isnan(first).any():
            raise ValueError("every candidate needs its first passage (position 0)")
        result = first if aggregate == "first" else FIRST_WEIGHT * first + (1 - FIRST_WEIGHT) * best
    return candidates, result.astype(np.float32)
