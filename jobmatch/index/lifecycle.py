"""Change a built index: upsert candidates by id and content hash, remove candidates.

Each change is a read-modify-write under the writer lock: load, compute the rows to keep,
re-add the kept vectors (reconstructed from the index) and the new ones to an empty copy of
the trained index, and swap the new folder in atomically. Rows stay aligned with metadata
(row i = FAISS id i). For compressed (PQ) indexes the kept vectors are re-encoded from their
compressed form, which reproduces the same codes in practice. In a chunked index a candidate
is all its passages: removing or replacing it removes every one of its rows, and a new or
changed text is cut into passages as the manifest records (`passages.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.errors import IndexStoreError
from jobmatch.index import atomic, faiss_ops
from jobmatch.index.passages import (
    PassageMap,
    concat_maps,
    encode_passages,
    keep_candidates,
    resolve_for,
)
from jobmatch.index.store import LoadedIndex, load_index, save_index
from jobmatch.io.batches import iter_chunks

if TYPE_CHECKING:
    from jobmatch.encoder import Encoder


@dataclass
class UpdateSummary:
    """What a change did to an index."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    rows: int = 0
    """Candidates in the index afterwards."""
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, unchanged "
            f"{self.unchanged}; {self.rows} rows; {self.seconds:.1f}s"
        )


def upsert(
    folder: str | Path,
    sources: Sequence[str | Path],
    encoder: Encoder,
    *,
    prune: bool = False,
    batch_size: int = 64,
    id_col: str | None = None,
    text_col: str | None = None,
    wait: bool = True,
    on_wait: Callable[[], None] | None = None,
    progress: bool = False,
) -> UpdateSummary:
    """Add new candidates and replace changed ones (by content hash); unchanged are skipped.

    With `prune`, candidates of the index that are absent from `sources` are removed, so the
    index mirrors the corpus (the scheduled job's sync mode).
    """
    started = time.perf_counter()
    with atomic.writer_lock(folder, wait=wait, on_wait=on_wait):
        loaded = load_index(folder, fingerprint=encoder.fingerprint)
        known = dict(
            zip(
                loaded.metadata[schema.CANDIDATE_ID].to_list(),
                _hashes(loaded.metadata).to_list(),
                strict=True,
            )
        )
        summary = UpdateSummary()
        incoming: list[pl.DataFrame] = []
        seen: set[str] = set()
        for chunk in iter_chunks(sources, "candidates", id_col=id_col, text_col=text_col):
            frame = chunk.frame
            ids = frame[schema.CANDIDATE_ID]
            seen.update(ids.to_list())
            old = ids.replace_strict(known, default=None, return_dtype=pl.String)
            is_new = old.is_null()
            changed = ~is_new & (old != frame[schema.CONTENT_HASH])
            summary.added += int(is_new.sum())
            summary.updated += int(changed.sum())
            summary.unchanged += int((~is_new & ~changed).sum())
            incoming.append(frame.filter(is_new | changed))
        replaced = {cid for frame in incoming for cid in frame[schema.CANDIDATE_ID].to_list()}
        dropped = replaced | ({cid for cid in known if cid not in seen} if prune else set())
        summary.removed = len(dropped - replaced)
        additions = pl.concat(incoming, how="diagonal_relaxed") if incoming else None
        if additions is not None and additions.height == 0:
            additions = None
        if additions is None and not dropped:
            summary.rows = loaded.candidates
            summary.seconds = time.perf_counter() - started
            return summary
        vectors = counts = None
        if additions is not None:
            texts = additions[schema.TEXT].to_list()
            chunking = resolve_for(encoder, loaded.manifest.chunking_config())
            if chunking.chunked:
                vectors, counts = encode_passages(encoder, texts, chunking, batch_size=batch_size)
            else:
                vectors = encoder.encode(texts, batch_size=batch_size, progress=progress)
        index, metadata, passages = rewrite(loaded, dropped, additions, vectors, counts)
        save_index(folder, index, metadata, loaded.manifest, passages)
        summary.rows = metadata.height
        summary.seconds = time.perf_counter() - started
        return summary


def remove(
    folder: str | Path,
    ids: Iterable[str],
    *,
    wait: bool = True,
    on_wait: Callable[[], None] | None = None,
) -> UpdateSummary:
    """Remove candidates by id; ids not in the index are counted as unchanged."""
    started = time.perf_counter()
    wanted = set(ids)
    with atomic.writer_lock(folder, wait=wait, on_wait=on_wait):
        loaded = load_index(folder)
        present = wanted & set(loaded.metadata[schema.CANDIDATE_ID].to_list())
        summary = UpdateSummary(removed=len(present), unchanged=len(wanted - present))
        if present:
            index, metadata, passages = rewrite(loaded, present, None, None)
            save_index(folder, index, metadata, loaded.manifest, passages)
            summary.rows = metadata.height
        else:
            summary.rows = loaded.candidates
    summary.seconds = time.perf_counter() - started
    return summary


def rewrite(
    loaded: LoadedIndex,
    dropped: set[str],
    additions: pl.DataFrame | None,
    vectors: np.ndarray | None,
    counts: np.ndarray | None = None,
) -> tuple[Any, pl.DataFrame, PassageMap | None]:
    """A new (index, metadata, passage map) without `dropped` candidates and with `additions`
    appended; `counts` gives the passages of each addition in a chunked index."""

    keep = ~loaded.metadata[schema.CANDIDATE_ID].is_in(list(dropped)).to_numpy()
    passages = None
    if loaded.passages is None:
        kept_rows = np.flatnonzero(keep).astype(np.int64)
    else:
        kept_rows, passages = keep_candidates(loaded.passages, keep)
    kept_vectors = faiss_ops.reconstruct(loaded.index, kept_rows)
    metadata = loaded.metadata.filter(pl.Series(keep))
    if additions is not None and vectors is not None:
        if passages is not None:
            if counts is None:
                raise IndexStoreError(f"{loaded.path}: a chunked index needs passage counts")
            added = PassageMap.from_counts(counts, first_candidate=metadata.height)
            passages = concat_maps(passages, added)
        metadata = pl.concat([metadata, additions], how="diagonal_relaxed")
    total = metadata.height if passages is None else passages.rows
    parts = faiss_ops.members(loaded.index) or [loaded.index]
    empties = [faiss_ops.empty_copy(part) for part in parts]
    filler = faiss_ops.ShardFiller(empties, total)  # a sharded index stays sharded
    if len(kept_vectors):
        filler.add(kept_vectors)
    if additions is not None and vectors is not None:
        filler.add(np.ascontiguousarray(vectors, dtype=np.float32))
    fresh = faiss_ops.combine(empties) if len(empties) > 1 else empties[0]
    if fresh.ntotal != total:
        raise IndexStoreError(f"{loaded.path}: rewrite lost alignment of index and metadata")
    return fresh, metadata, passages


def _hashes(metadata: pl.DataFrame) -> pl.Series:
    if schema.CONTENT_HASH in metadata.columns:
        return metadata[schema.CONTENT_HASH]
    return pl.Series(schema.CONTENT_HASH, [None] * metadata.height, dtype=pl.String)
