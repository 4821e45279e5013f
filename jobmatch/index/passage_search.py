"""Search a chunked index: k distinct candidates per query, scored by an aggregate of passages.

The index holds passage vectors; a filter over candidates becomes a mask over their passages
(`PassageMap.expand`) and runs inside FAISS as for any index (`ann.search`), so a query gets
min(k, candidates passing) distinct candidates.

- `first` searches the opening passages only: one row per candidate, so top-k rows are k
  distinct candidates.
- `max`, `mean`, `first+max` over-fetch passages: search `depth` passages, group them by
  candidate in rank order, and double `depth` for the queries that saw fewer than k
  distinct candidates. For `max`, the first k candidates met are the answer (a candidate's
  first passage met is its best). For `mean` and `first+max`, every candidate met is scored
  exactly from all its passages (read back from the index); since both aggregates are at
  most `max`, a candidate never met scores below the lowest passage score fetched, so the
  answer is exact once the k-th aggregate reaches it. The loop stops there, when every
  allowed passage was fetched, or at `OVERFETCH_LIMIT` times the first depth, where it
  keeps the best of the candidates met (approximate only then).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jobmatch.index import ann, faiss_ops
from jobmatch.index.aggregate import Aggregate, aggregate_scores, check_aggregate
from jobmatch.index.passages import PassageMap

INITIAL_OVERFETCH = 2
"""First depth: this many times k x the mean passages per candidate."""
OVERFETCH_LIMIT = 64
"""`mean` and `first+max` stop proving exactness beyond this many times the first depth."""


def search_candidates(
    index: Any,
    pmap: PassageMap,
    queries: np.ndarray,
    k: int,
    *,
    aggregate: Aggregate,
    params: dict[str, int] | None = None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, candidate rows) per query; candidate row -1 marks an empty slot.

    Args:
        index: the FAISS index of passage vectors (row i described by `pmap`).
        pmap: passage -> candidate map of the index.
        queries: float32 [q, d] normalised query embeddings.
        k: distinct candidates per query.
        aggregate: first, max, mean or first+max.
        params: search parameters (nprobe, efSearch, ...).
        mask: boolean over candidates (metadata rows): the filter; None allows every one.
    """
    check_aggregate(aggregate)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    passage_mask = None if mask is None else pmap.expand(mask)
    allowed = pmap.candidates if mask is None else int(np.count_nonzero(mask))
    if aggregate == "first":
        first = pmap.first
        first = first if passage_mask is None else first & passage_mask
        scores, rows = ann.search(index, queries, k, params=params, mask=first)
        return scores, np.where(rows >= 0, pmap.owners[np.maximum(rows, 0)], -1)
    want = min(k, allowed)
    return _overfetch(index, pmap, queries, k, want, aggregate, params, passage_mask)


def _overfetch(
    index: Any,
    pmap: PassageMap,
    queries: np.ndarray,
    k: int,
    want: int,
    aggregate: Aggregate,
    params: dict[str, int] | None,
    passage_mask: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The over-fetch loop of `max`, `mean` and `first+max` (see the module docstring)."""
    n_queries = len(queries)
    out_scores = np.zeros((n_queries, k), dtype=np.float32)
    out_rows = np.full((n_queries, k), -1, dtype=np.int64)
    if want == 0:
        return out_scores, out_rows
    allowed = pmap.rows if passage_mask is None else int(np.count_nonzero(passage_mask))
    per_candidate = pmap.rows / pmap.candidates
    depth = min(allowed, int(np.ceil(INITIAL_OVERFETCH * k * per_candidate)))
    limit = depth * OVERFETCH_LIMIT
    pending = np.arange(n_queries)
    mask = passage_mask
    while len(pending):
        scores, rows = ann.search(index, queries[pending], depth, params=params, mask=mask)
        if mask is None and (rows < 0).any():
            mask = np.ones(pmap.rows, dtype=bool)  # with a mask, ann.search fills every slot
            continue
        exhausted = depth >= allowed
        met = [_in_rank_order(pmap.owners, s, r) for s, r in zip(scores, rows, strict=True)]
        if aggregate != "max":
            found = [ids for ids, _ in met]
            met = _exact_aggregates(index, pmap, queries[pending], found, aggregate)
        still = []
        for j, query in enumerate(pending):
            ids, values = met[j]
            if len(ids) < want and not exhausted:
                still.append(j)
                continue
            if aggregate != "max":  # rank by the exact aggregate; exact once it beats the rest
                top = np.argsort(-values, kind="stable")[:want]
                ids, values = ids[top], values[top]
                unseen_bound = scores[j][-1]  # no candidate never met scores above it
                if values[-1] < unseen_bound and not exhausted and depth < limit:
                    still.append(j)
                    continue
            out_rows[query, :want] = ids[:want]
            out_scores[query, :want] = values[:want]
        pending = pending[still]
        depth = min(allowed, depth * 2)
    return out_scores, out_rows


def _in_rank_order(
    owners: np.ndarray, scores: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct candidates of ranked passage rows in order of their first (best) passage, and
    that passage's score."""
    valid = rows >= 0
    found = owners[rows[valid]]
    _, first = np.unique(found, return_index=True)
    first = np.sort(first)
    return found[first], scores[valid][first].astype(np.float32)


def _exact_aggregates(
    index: Any,
    pmap: PassageMap,
    queries: np.ndarray,
    met: list[np.ndarray],
    aggregate: Aggregate,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per query, (candidates met, their aggregate) from all their passages' stored vectors."""
    union = np.unique(np.concatenate(met)) if met else np.zeros(0, dtype=np.int64)
    rows = _passage_rows(pmap.bounds, union)
    vectors = faiss_ops.reconstruct(index, rows)
    owners, positions = pmap.owners[rows], pmap.positions[rows]
    out = []
    for query, found in zip(queries, met, strict=True):
        picked = np.isin(owners, found)
        out.append(
            aggregate_scores(
                ann.inner_products(query[None, :], vectors[picked])[0],
                owners[picked],
                positions[picked],
                aggregate,
            )
        )
    return out


def _passage_rows(bounds: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Every FAISS row of `candidates`, whose passages are rows bounds[c]..bounds[c+1]."""
    starts, ends = bounds[candidates], bounds[candidates + 1]
    lengths = ends - starts
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return (np.arange(int(lengths.sum()), dtype=np.int64) + offsets).astype(np.int64)
