"""Search an index with per-query parameters and an optional row filter, k hits guaranteed.

The filter is applied inside the search (a FAISS IDSelector in the search parameters), so
approximate indexes return allowed rows only. When few rows pass, the allowed vectors are
scored exactly instead; when an approximate search still comes back short (HNSW with a
selective filter can), its parameters are widened and, as a last resort, the short queries
are answered exactly over the allowed rows. A query thus gets min(k, allowed) hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from jobmatch.index import factory, faiss_ops
from jobmatch.index.filters import id_selector

EXACT_SUBSET_MAX_ROWS = 20_000
"""Filters passing at most this many rows are answered by exact scoring of those rows."""
FEW_QUERIES = 4
"""Up to this many queries are scored exactly without BLAS (see `inner_products`)."""
WIDEN_FACTOR = 4
WIDEN_ATTEMPTS = 2
_EXACT_BLOCK = 65_536


def search(
    index: Any,
    queries: np.ndarray,
    k: int,
    *,
    params: dict[str, int] | None = None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, rows) per query; rows are -1 in slots beyond the allowed count."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    params = dict(params or {})
    parts = faiss_ops.members(index)
    if parts is not None:  # a sharded index: search each shard, merge the top-k lists
        return _search_shards(parts, queries, k, params=params, mask=mask)
    n = int(index.ntotal)
    if mask is None:
        depth = min(k, n)
        if depth == 0:
            return _empty(len(queries), k)
        scores, rows = index.search(queries, depth, params=factory.search_parameters(index, params))
        return _pad(scores, rows, k)
    allowed = np.flatnonzero(mask)
    depth = min(k, len(allowed))
    if depth == 0:
        return _empty(len(queries), k)
    if len(allowed) <= EXACT_SUBSET_MAX_ROWS:
        return _pad(*exact_subset(index, queries, allowed, depth), k)
    selector = id_selector(mask)
    scores, rows = _approximate(index, queries, depth, params, selector)
    for _ in range(WIDEN_ATTEMPTS):
        short = (rows < 0).any(axis=1)
        if not short.any():
            break
        params = {name: value * WIDEN_FACTOR for name, value in params.items()}
        scores[short], rows[short] = _approximate(index, queries[short], depth, params, selector)
    short = (rows < 0).any(axis=1)
    if short.any():
        scores[short], rows[short] = exact_subset(index, queries[short], allowed, depth)
    return _pad(scores, rows, k)


def _search_shards(
    shards: Sequence[Any],
    queries: np.ndarray,
    k: int,
    *,
    params: dict[str, int] | None = None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, global rows) over all shards; rows are -1 in empty slots."""
    bounds = faiss_ops.offsets(shards)
    all_scores, all_rows = [], []
    for j, shard in enumerate(shards):
        local_mask = None if mask is None else mask[bounds[j] : bounds[j + 1]]
        scores, rows = search(shard, queries, k, params=params, mask=local_mask)
        empty = rows < 0
        all_scores.append(np.where(empty, -np.inf, scores))
        all_rows.append(np.where(empty, -1, rows + bounds[j]))
    scores = np.concatenate(all_scores, axis=1)
    rows = np.concatenate(all_rows, axis=1)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    scores = np.take_along_axis(scores, top, axis=1)
    rows = np.take_along_axis(rows, top, axis=1)
    return np.where(rows < 0, 0.0, scores).astype(np.float32), rows


def _approximate(index, queries, depth, params, selector) -> tuple[np.ndarray, np.ndarray]:
    search_params = factory.search_parameters(index, params, selector=selector)
    return index.search(queries, depth, params=search_params)


def exact_subset(
    index: Any, queries: np.ndarray, allowed: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k over the stored vectors of `allowed` rows, block by block."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_rows = np.full((len(queries), k), -1, dtype=np.int64)
    for start in range(0, len(allowed), _EXACT_BLOCK):
        block = allowed[start : start + _EXACT_BLOCK]
        scores = inner_products(queries, faiss_ops.reconstruct(index, block))
        all_scores = np.concatenate([best_scores, scores], axis=1)
        all_rows = np.concatenate([best_rows, np.broadcast_to(block, scores.shape)], axis=1)
        top = np.argsort(-all_scores, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(all_scores, top, axis=1)
        best_rows = np.take_along_axis(all_rows, top, axis=1)
    return best_scores, best_rows


def inner_products(queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """queries @ vectors.T; for a few queries without BLAS, whose threads go on spinning after
    the call and slowed the next torch encode by 50-100 ms per query on 2 cores (measured:
    a filtered single query took 59 ms instead of 13)."""
    if len(queries) <= FEW_QUERIES:
        return np.einsum("qd,nd->qn", queries, vectors)
    return queries @ vectors.T


def _pad(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if rows.shape[1] >= k:
        return scores, rows
    missing = k - rows.shape[1]
    return (
        np.pad(scores, ((0, 0), (0, missing)), constant_values=0.0),
        np.pad(rows, ((0, 0), (0, missing)), constant_values=-1),
    )


def _empty(n_queries: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((n_queries, k), dtype=np.float32), np.full((n_queries, k), -1, dtype=np.int64)
