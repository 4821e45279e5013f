"""Sharded indexes: N FAISS indexes over consecutive row ranges, searched with merged top-k.

Shard j holds rows `offsets[j] .. offsets[j + 1]` of the one metadata table, so a global
row id is the shard's offset plus its local id. In memory the shards sit in a
`faiss.IndexShards` with successive ids (ntotal, d and plain search work as for one index);
searches with parameters or a row filter go shard by shard here, with the filter sliced to
each shard's rows, and the per-shard top-k lists are merged. On disk each shard is its own
file (FAISS cannot serialise IndexShards); the manifest lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def combine(shards: Sequence[Any]) -> Any:
    """One searchable index over `shards` (row ids run on from shard to shard)."""
    import faiss

    if not shards:
        raise ValueError("a sharded index needs at least one shard")
    combined = faiss.IndexShards(shards[0].d, True, True)  # threaded, successive ids
    for shard in shards:
        combined.add_shard(shard)  # the faiss wrapper keeps a reference to each shard
    return combined


def members(index: Any) -> list[Any] | None:
    """The shards of a combined index, or None for an ordinary index."""
    import faiss

    if not isinstance(index, faiss.IndexShards):
        return None
    return [faiss.downcast_index(index.at(i)) for i in range(index.count())]


def offsets(shards: Sequence[Any]) -> np.ndarray:
    """First global row of each shard plus the total: [0, n0, n0 + n1, ...]."""
    return np.concatenate([[0], np.cumsum([int(s.ntotal) for s in shards])]).astype(np.int64)


def split_sizes(rows: int, n_shards: int) -> list[int]:
    """Rows per shard for `rows` rows over `n_shards` consecutive ranges, sizes within 1."""
    base, extra = divmod(rows, n_shards)
    return [base + (1 if j < extra else 0) for j in range(n_shards)]


class ShardFiller:
    """Adds vectors in row order to empty (trained) shards, filling each to its quota."""

    def __init__(self, shards: Sequence[Any], rows: int) -> None:
        self.shards = list(shards)
        self.quotas = split_sizes(rows, len(self.shards))
        self._current = 0

    def add(self, vectors: np.ndarray) -> None:
        start = 0
        while start < len(vectors):
            while self.shards[self._current].ntotal >= self.quotas[self._current]:
                self._current += 1
                if self._current == len(self.shards):
                    raise ValueError("more vectors than the shards were sized for")
            shard = self.shards[self._current]
            take = min(self.quotas[self._current] - int(shard.ntotal), len(vectors) - start)
            shard.add(np.ascontiguousarray(vectors[start : start + take]))
            start += take


def search(
    shards: Sequence[Any],
    queries: np.ndarray,
    k: int,
    *,
    params: dict[str, int] | None = None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, global rows) over all shards; rows are -1 in empty slots."""
    from jobmatch.index import ann

    bounds = offsets(shards)
    all_scores, all_rows = [], []
    for j, shard in enumerate(shards):
        local_mask = None if mask is None else mask[bounds[j] : bounds[j + 1]]
        scores, rows = ann.search(shard, queries, k, params=params, mask=local_mask)
        empty = rows < 0
        all_scores.append(np.where(empty, -np.inf, scores))
        all_rows.append(np.where(empty, -1, rows + bounds[j]))
    scores = np.concatenate(all_scores, axis=1)
    rows = np.concatenate(all_rows, axis=1)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    scores = np.take_along_axis(scores, top, axis=1)
    rows = np.take_along_axis(rows, top, axis=1)
    return np.where(rows < 0, 0.0, scores).astype(np.float32), rows


def reconstruct(shards: Sequence[Any], rows: np.ndarray, reconstruct_one) -> np.ndarray:
    """Stored vectors of global `rows`, each read from its shard (`reconstruct_one`)."""
    bounds = offsets(shards)
    owner = np.searchsorted(bounds, rows, side="right") - 1
    out = np.zeros((len(rows), shards[0].d), dtype=np.float32)
    for j, shard in enumerate(shards):
        picked = np.flatnonzero(owner == j)
        if len(picked):
            out[picked] = reconstruct_one(shard, rows[picked] - bounds[j])
    return out
