"""Retrieval metrics for ranked runs against graded judgements, in plain numpy.

A *run* maps each query id to its ranked candidate ids (best first); *qrels* map each query id to
``{candidate_id: relevance}`` with grades 0..3. Missing pairs are relevance 0 and only grades
above 0 count as relevant.

Conventions follow trec_eval so numbers are comparable with published IR results: nDCG uses
linear gains (gain = grade, not ``2**grade - 1``) with a ``log2(rank + 1)`` discount and an ideal
DCG over *all* judged relevant items of the query; MAP@k divides by the total number of relevant
items. Queries without any relevant item make every normalised metric undefined, so the
per-query functions return ``None`` and :func:`evaluate_run` skips and counts them.

``ndcg_at_k(..., mode="paper")`` reproduces the nDCG of the RankPO reference code
(github.com/yflyzhang/RankPO, ``src/utils.py::compute_metrics`` called from
``src/evaluate.py``), which passes binary hit flags of the FAISS top-``k`` (``--k 100`` in
``scripts/evaluate/run_evaluate.sh``) and the FAISS scores to ``sklearn.metrics.ndcg_score``.
The ideal ordering is thus built only from hits found among the retrieved 100, and a query with
no hit there scores 0 rather than being skipped. It is kept for comparison with the paper's
numbers, not as our headline metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Run = Mapping[str, Sequence[str]]
Qrels = Mapping[str, Mapping[str, int]]

PAPER_POOL_SIZE = 100
"""Retrieved depth the RankPO reference evaluation searches (FAISS ``k=100``)."""

NdcgMode = Literal["graded", "paper"]
_NDCG_MODES: tuple[str, ...] = ("graded", "paper")


def dcg(gains: Sequence[float] | np.ndarray) -> float:
    """Discounted cumulative gain of gains listed in rank order.

    Uses linear gains and the ``1 / log2(rank + 1)`` discount (trec_eval convention), so a grade-3
    hit is worth three grade-1 hits rather than seven as with exponential gains.

    Args:
        gains: Gain of the item at rank 1, 2, ...; an empty sequence has DCG 0.

    Returns:
        The discounted sum of gains.
    """
    values = np.asarray(gains, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"gains must be one-dimensional, got shape {values.shape}")
    if values.size == 0:
        return 0.0
    discounts = np.log2(np.arange(2, values.size + 2, dtype=np.float64))
    return float(np.sum(values / discounts))


def ndcg_at_k(
    ranked: Sequence[str],
    judgments: Mapping[str, int],
    k: int,
    *,
    mode: NdcgMode = "graded",
) -> float | None:
    """Normalised DCG of one query's ranking, cut at ``k``.

    ``"graded"`` rewards placing higher grades first and normalises by the best possible ranking
    of every judged relevant item, so relevant items the retriever missed lower the score.
    ``"paper"`` reproduces the RankPO reference code for comparison with its published numbers:
    binary gains and an ideal built only from the hits among the first ``PAPER_POOL_SIZE`` (100)
    retrieved ids, so misses beyond the pool are not penalised. It follows the given order;
    sklearn, which the reference calls, would instead average gains over exactly tied scores.

    Args:
        ranked: Candidate ids, best first, without duplicates.
        judgments: Candidate id -> relevance grade for this query; missing ids are 0.
        k: Rank cut-off (>= 1).
        mode: ``"graded"`` (default) or ``"paper"``.

    Returns:
        nDCG@k in [0, 1]. In graded mode ``None`` when the query has no relevant item (callers
        skip and count such queries); in paper mode 0.0 when no hit is among the top 100.
    """
    _check_k(k)
    if mode == "graded":
        top = _top(ranked, k)
        gains = [_gain(judgments, cid) for cid in top]
        ideal = sorted((g for g in judgments.values() if g > 0), reverse=True)[:k]
        if not ideal:
            return None
        return dcg(gains) / dcg(ideal)
    if mode == "paper":
        pool = _top(ranked, PAPER_POOL_SIZE)
        hits = [1.0 if judgments.get(cid, 0) > 0 else 0.0 for cid in pool]
        n_hits = int(sum(hits))
        if n_hits == 0:
            return 0.0
        ideal = [1.0] * min(n_hits, k)
        return dcg(hits[:k]) / dcg(ideal)
    raise ValueError(f"mode must be one of {_NDCG_MODES}, got {mode!r}")


def recall_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> float | None:
    """Share of the query's relevant items retrieved in the top ``k``.

    The denominator is all relevant items, not ``min(k, |relevant|)``, so recall@k below 1 can
    simply mean a query has more than ``k`` relevant items.

    Args:
        ranked: Candidate ids, best first, without duplicates.
        judgments: Candidate id -> relevance grade for this query; missing ids are 0.
        k: Rank cut-off (>= 1).

    Returns:
        ``|relevant ∩ top-k| / |relevant|``, or ``None`` when the query has no relevant item.
    """
    _check_k(k)
    n_relevant = _n_relevant(judgments)
    if n_relevant == 0:
        return None
    hits = sum(1 for cid in _top(ranked, k) if judgments.get(cid, 0) > 0)
    return hits / n_relevant


def mrr_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> float | None:
    """Reciprocal rank of the first relevant item within the top ``k``.

    Measures how far a user scrolls before the first useful candidate; grades above 0 are equal.

    Args:
        ranked: Candidate ids, best first, without duplicates.
        judgments: Candidate id -> relevance grade for this query; missing ids are 0.
        k: Rank cut-off (>= 1).

    Returns:
        ``1 / rank`` of the first relevant hit, 0.0 if none is in the top ``k``, or ``None``
        when the query has no relevant item.
    """
    _check_k(k)
    if _n_relevant(judgments) == 0:
        return None
    for rank, cid in enumerate(_top(ranked, k), start=1):
        if judgments.get(cid, 0) > 0:
            return 1.0 / rank
    return 0.0


def average_precision_at_k(
    ranked: Sequence[str], judgments: Mapping[str, int], k: int
) -> float | None:
    """Average precision cut at ``k`` (trec_eval ``map_cut`` convention).

    Sums precision@i at each rank ``i <= k`` holding a relevant item and divides by the total
    number of relevant items, so unretrieved relevant items count as precision 0.

    Args:
        ranked: Candidate ids, best first, without duplicates.
        judgments: Candidate id -> relevance grade for this query; missing ids are 0.
        k: Rank cut-off (>= 1).

    Returns:
        AP@k in [0, 1], or ``None`` when the query has no relevant item.
    """
    _check_k(k)
    n_relevant = _n_relevant(judgments)
    if n_relevant == 0:
        return None
    hits = 0
    total = 0.0
    for rank, cid in enumerate(_top(ranked, k), start=1):
        if judgments.get(cid, 0) > 0:
            hits += 1
            total += hits / rank
    return total / n_relevant


def alignment(
    chosen_scores: Sequence[float] | np.ndarray, rejected_scores: Sequence[float] | np.ndarray
) -> float:
    """Share of preference pairs the model orders as the judge did.

    A pair is aligned only when ``s(query, chosen) > s(query, rejected)`` strictly: a tie means
    the model expresses no preference, so it does not count as agreement.

    Args:
        chosen_scores: Model score of the preferred item of each pair.
        rejected_scores: Model score of the other item, in the same pair order.

    Returns:
        The aligned share in [0, 1].

    Raises:
        ValueError: If the inputs are empty, not one-dimensional or differ in length.
    """
    chosen = np.asarray(chosen_scores, dtype=np.float64)
    rejected = np.asarray(rejected_scores, dtype=np.float64)
    if chosen.ndim != 1 or rejected.ndim != 1:
        raise ValueError(
            f"scores must be one-dimensional, got shapes {chosen.shape} and {rejected.shape}"
        )
    if chosen.size != rejected.size:
        raise ValueError(
            f"chosen_scores and rejected_scores differ in length: {chosen.size} != {rejected.size}"
        )
    if chosen.size == 0:
        raise ValueError("alignment needs at least one preference pair, got none")
    return float(np.mean(chosen > rejected))


def rank_by_scores(
    ids: Sequence[str], scores: np.ndarray | Sequence[float], k: int | None = None
) -> list[str]:
    """Rank ids by score, deterministically.

    Orders by score descending and breaks exact ties by id ascending, so the same scores always
    give the same ranking regardless of input order or sort algorithm; otherwise tied candidates
    at the cut-off could move in or out of the top ``k`` between runs and change the metrics.
    Only the top ``k`` are fully sorted when ``k`` is given. ``ids`` are assumed unique.

    Args:
        ids: Candidate ids, aligned with ``scores``.
        scores: One score per id; higher is better.
        k: Number of ids to return (>= 1); ``None`` returns all of them.

    Returns:
        At most ``k`` ids, best first.

    Raises:
        ValueError: If lengths differ, ``scores`` is not one-dimensional or contains NaN, or
            ``k`` is not a positive integer.
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"scores must be one-dimensional, got shape {values.shape}")
    if values.size != len(ids):
        raise ValueError(f"ids and scores differ in length: {len(ids)} != {values.size}")
    if np.isnan(values).any():
        raise ValueError("scores contain NaN; cannot rank")
    if k is not None:
        _check_k(k)
    n = values.size
    if k is None or k >= n:
        candidates = np.arange(n)
    else:
        # Keep every index scoring at least the k-th best score, so ties at the boundary are
        # all present before the tie-break decides which of them make the cut.
        threshold = -np.partition(-values, k - 1)[k - 1]
        candidates = np.flatnonzero(values >= threshold)
    cand_ids = [ids[i] for i in candidates]
    order = np.lexsort((np.asarray(cand_ids, dtype=str), -values[candidates]))
    ranked = [cand_ids[i] for i in order]
    return ranked if k is None else ranked[:k]


@dataclass(frozen=True)
class MetricsReport:
    """Mean metrics of a run at one cut-off, plus how many queries they cover."""

    k: int
    """Rank cut-off of every metric."""
    ndcg: float
    """Mean graded nDCG@k (trec_eval convention)."""
    ndcg_paper: float
    """Mean nDCG@k as computed by the RankPO reference code (see ``ndcg_at_k``)."""
    recall: float
    """Mean Recall@k."""
    mrr: float
    """Mean reciprocal rank of the first relevant hit within the top k."""
    map: float
    """Mean average precision cut at k."""
    n_queries: int
    """Queries the means are taken over."""
    n_skipped: int
    """Queries of the run without any relevant item in the qrels (not in the means)."""

    def as_dict(self) -> dict[str, float | int]:
        """Flat mapping with cut-off-qualified names, ready for JSON results and logs."""
        k = self.k
        return {
            f"ndcg@{k}": self.ndcg,
            f"ndcg_paper@{k}": self.ndcg_paper,
            f"recall@{k}": self.recall,
            f"mrr@{k}": self.mrr,
            f"map@{k}": self.map,
            "queries": self.n_queries,
            "skipped_no_relevant": self.n_skipped,
        }


def evaluate_run(run: Run, qrels: Qrels, *, k: int = 20) -> MetricsReport:
    """Average every metric of a run over the queries that can be evaluated.

    A query is evaluated when the qrels give it at least one relevant item. Queries of the run
    without one are skipped and counted in ``n_skipped``. Queries with relevant items that are
    absent from the run are evaluated with an empty ranking (every metric 0), so a retriever
    cannot raise its score by dropping hard queries. Qrels-only queries without relevant items
    are ignored. ``ndcg_paper`` uses the first 100 ids of each ranking whatever ``k`` is, so pass
    rankings at least 100 deep to reproduce the RankPO reference numbers.

    Args:
        run: Query id -> ranked candidate ids, best first.
        qrels: Query id -> candidate id -> relevance grade 0..3.
        k: Rank cut-off (>= 1).

    Returns:
        The means and query counts.

    Raises:
        ValueError: If ``k`` is invalid, a ranking has duplicate ids, or no query has a
            relevant item.
    """
    _check_k(k)
    query_ids = list(run) + [qid for qid in qrels if qid not in run]
    per_metric: dict[str, list[float]] = {
        "ndcg": [],
        "ndcg_paper": [],
        "recall": [],
        "mrr": [],
        "map": [],
    }
    n_skipped = 0
    for qid in query_ids:
        judgments = qrels.get(qid, {})
        if _n_relevant(judgments) == 0:
            if qid in run:
                n_skipped += 1
            continue
        ranked = run.get(qid, ())
        values = {
            "ndcg": ndcg_at_k(ranked, judgments, k),
            "ndcg_paper": ndcg_at_k(ranked, judgments, k, mode="paper"),
            "recall": recall_at_k(ranked, judgments, k),
            "mrr": mrr_at_k(ranked, judgments, k),
            "map": average_precision_at_k(ranked, judgments, k),
        }
        for name, value in values.items():
            per_metric[name].append(float(value))  # not None: the query has a relevant item
    n_queries = len(per_metric["ndcg"])
    if n_queries == 0:
        raise ValueError(
            f"no query can be evaluated: none of the {len(query_ids)} queries in the run and "
            "qrels has a relevant item (relevance > 0); check that run and qrels use the same "
            "query ids"
        )
    means = {name: float(np.mean(vals)) for name, vals in per_metric.items()}
    return MetricsReport(k=k, n_queries=n_queries, n_skipped=n_skipped, **means)


def _check_k(k: int) -> None:
    """Reject cut-offs that would silently give empty or nonsensical rankings."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


def _top(ranked: Sequence[str], k: int) -> Sequence[str]:
    """First ``k`` ids, refusing duplicates that would count one hit twice."""
    top = ranked[:k]
    if len(set(top)) != len(top):
        raise ValueError("ranking contains duplicate candidate ids")
    return top


def _gain(judgments: Mapping[str, int], cid: str) -> float:
    """Linear gain of a candidate; non-positive or missing grades give 0."""
    return float(max(judgments.get(cid, 0), 0))


def _n_relevant(judgments: Mapping[str, int]) -> int:
    return sum(1 for grade in judgments.values() if grade > 0)
