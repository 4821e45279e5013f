"""Low-level FAISS operations shared by the index modules; imports nothing else in index/.

Sharded indexes: N FAISS indexes over consecutive row ranges. Shard j holds rows
`offsets[j] .. offsets[j + 1]` of the one metadata table, so a global row id is the shard's
offset plus its local id. In memory the shards sit in a `faiss.IndexShards` with successive
ids (ntotal, d and plain search work as for one index); searches with parameters or a row
filter go shard by shard (`ann.search`), with the filter sliced to each shard's rows, and the
per-shard top-k lists are merged. On disk each shard is its own file (FAISS cannot
serialise IndexShards); the manifest lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from jobmatch.errors import IndexStoreError


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


def reconstruct(index: Any, rows: np.ndarray) -> np.ndarray:
    """Stored vectors of `rows` (exact for Flat/HNSW/IVF-Flat, decoded for PQ); each row of a
    sharded index is read from its shard."""
    import faiss

    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    parts = members(index)
    if parts is not None:
        bounds = offsets(parts)
        owner = np.searchsorted(bounds, rows, side="right") - 1
        out = np.zeros((len(rows), parts[0].d), dtype=np.float32)
        for j, shard in enumerate(parts):
            picked = np.flatnonzero(owner == j)
            if len(picked):
                out[picked] = reconstruct(shard, rows[picked] - bounds[j])
        return out
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.make_direct_map()
    try:
        return np.ascontiguousarray(index.reconstruct_batch(rows), dtype=np.float32)
    except RuntimeError as exc:
        raise IndexStoreError(
            f"this index type cannot return its vectors ({type(index).__name__}); rebuild it "
            "from an embedding store instead of updating it in place"
        ) from exc


def empty_copy(index: Any) -> Any:
    """An empty copy of a trained index: same centroids and codebooks, no vectors (IVF
    without its direct map)."""
    import faiss

    fresh = faiss.clone_index(index)
    fresh.reset()
    ivf = faiss.try_extract_index_ivf(fresh)
    if ivf is not None:
        ivf.set_direct_map_type(faiss.DirectMap.NoMap)
    return fresh
