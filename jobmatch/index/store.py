"""Build, save and load an index folder: index.faiss + metadata.parquet + manifest.json.

Row i of metadata.parquet describes FAISS id i, unless the index is chunked: then FAISS rows
are passages and passages.parquet maps each to its candidate's metadata row (see
`passages.py`). A sharded index (see `faiss_ops.py`) has shard-00000.faiss .. instead of
index.faiss, listed in the manifest. Saving is atomic (see `atomic.py`); loading checks the
format version, row counts, dimension, the passage map and, when given, the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

import jobmatch
from jobmatch import schema
from jobmatch.errors import IndexStoreError
from jobmatch.index import atomic, faiss_ops
from jobmatch.index.manifest import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    METADATA_FILE,
    PASSAGES_FILE,
    PASSAGES_FORMAT_VERSION,
    Manifest,
    file_digest,
    now,
    read_manifest,
)
from jobmatch.index.passages import PassageMap, read_passage_map

if TYPE_CHECKING:
    import faiss


@dataclass
class LoadedIndex:
    """An index folder in memory."""

    path: Path
    index: faiss.Index
    metadata: pl.DataFrame
    manifest: Manifest
    passages: PassageMap | None = None
    """FAISS row -> candidate of a chunked index; None when rows are candidates."""

    @property
    def rows(self) -> int:
        """FAISS rows: candidates, or passages of a chunked index."""
        return int(self.index.ntotal)

    @property
    def candidates(self) -> int:
        return self.metadata.height


def save_index(
    folder: str | Path,
    index: faiss.Index,
    metadata: pl.DataFrame,
    manifest: Manifest,
    passages: PassageMap | None = None,
) -> Manifest:
    """Write all files into a staging folder, then swap it in as `folder`.

    The caller holds `atomic.writer_lock(folder)` around its read-modify-write.
    """
    expected = metadata.height if passages is None else passages.rows
    if index.ntotal != expected:
        raise IndexStoreError(
            f"{folder}: index has {index.ntotal} rows but "
            + (f"metadata has {expected}" if passages is None else f"the passage map {expected}")
        )
    if manifest.chunked != (passages is not None):
        raise IndexStoreError(f"{folder}: chunking {manifest.chunking} needs a passage map")
    with atomic.replace_folder(folder) as staging:
        metadata.write_parquet(staging / METADATA_FILE)
        if passages is not None:
            passages.to_frame().write_parquet(staging / PASSAGES_FILE)
        manifest.candidates = metadata.height
        finish_folder(staging, index, manifest)
    return manifest


def finish_folder(staging: Path, index: faiss.Index, manifest: Manifest) -> None:
    """Write index.faiss or the shard files (CPU indexes), then the manifest last.

    metadata.parquet (and passages.parquet of a chunked index) are already in `staging`.
    """
    import faiss

    stamp = now()
    manifest.created = manifest.created or stamp
    manifest.updated = stamp
    manifest.format_version = PASSAGES_FORMAT_VERSION if manifest.chunked else FORMAT_VERSION
    manifest.rows = int(index.ntotal)
    manifest.jobmatch_version = jobmatch.__version__
    manifest.faiss_version = faiss.__version__
    parts = faiss_ops.members(index) or [index]
    manifest.shards = len(parts)
    for part, name in zip(parts, manifest.index_files(), strict=True):
        faiss.write_index(part, str(staging / name))
    manifest.files = {name: file_digest(staging / name) for name in manifest.data_files()}
    (staging / MANIFEST_FILE).write_text(manifest.to_json(), "utf-8")


def load_index(folder: str | Path, *, fingerprint: str | None = None) -> LoadedIndex:
    """Load an index folder and check it is whole and fits the model with `fingerprint`."""
    import faiss

    folder = Path(folder)
    manifest = read_manifest(folder)
    for name in manifest.data_files():
        if not (folder / name).is_file():
            raise IndexStoreError(f"{folder}: {name} missing")
        expected = manifest.files.get(name, {}).get("bytes")
        actual = (folder / name).stat().st_size
        if expected is not None and expected != actual:
            raise IndexStoreError(f"{folder}: {name} has {actual} bytes, manifest says {expected}")
    parts = []
    for name in manifest.index_files():
        try:
            parts.append(faiss.read_index(str(folder / name)))
        except RuntimeError as exc:
            raise IndexStoreError(f"{folder}: unreadable {name}") from exc
    index = parts[0] if manifest.shards == 1 else faiss_ops.combine(parts)
    metadata = pl.read_parquet(folder / METADATA_FILE)
    passages = read_passage_map(folder / PASSAGES_FILE) if manifest.chunked else None
    problems = _consistency_problems(index, metadata, manifest, passages)
    if problems:
        raise IndexStoreError(f"{folder}: {problems[0]}")
    if fingerprint is not None and fingerprint != manifest.model_fingerprint:
        raise IndexStoreError(
            f"{folder}: built with model {manifest.model!r} (fingerprint "
            f"{manifest.model_fingerprint}), but the query model has fingerprint {fingerprint}; "
            "query with the index's model or rebuild the index"
        )
    return LoadedIndex(folder, index, metadata, manifest, passages)


def _consistency_problems(
    index: Any, metadata: pl.DataFrame, manifest: Manifest, passages: PassageMap | None
) -> list[str]:
    problems = []
    if index.ntotal != manifest.rows:
        problems.append(f"index has {index.ntotal} rows, manifest says {manifest.rows}")
    candidates = manifest.candidate_rows
    if metadata.height != candidates:
        problems.append(f"metadata has {metadata.height} rows, manifest says {candidates}")
    if passages is not None:
        if passages.rows != manifest.rows:
            problems.append(
                f"{PASSAGES_FILE} has {passages.rows} rows, manifest says {manifest.rows}"
            )
        else:
            problems += [f"{PASSAGES_FILE}: {p}" for p in passages.problems(metadata.height)]
    elif candidates != manifest.rows:
        problems.append(f"manifest says {manifest.rows} rows for {candidates} candidates")
    if index.d != manifest.dimension:
        problems.append(f"index dimension {index.d}, manifest says {manifest.dimension}")
    if schema.CANDIDATE_ID not in metadata.columns:
        problems.append(f"metadata lacks column {schema.CANDIDATE_ID}")
    return problems


def verify_index(folder: str | Path) -> list[str]:
    """Every problem found in an index folder: checksums, counts, dimension, readability."""
    folder = Path(folder)
    try:
        manifest = read_manifest(folder)
    except IndexStoreError as exc:
        return [str(exc)]
    problems = []
    for name in manifest.data_files():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} missing")
            continue
        if file_digest(path) != manifest.files.get(name):
            problems.append(f"{name} checksum does not match the manifest")
    if problems:
        return problems
    try:
        loaded = load_index(folder)
    except IndexStoreError as exc:
        return [str(exc)]
    return _consistency_problems(loaded.index, loaded.metadata, loaded.manifest, loaded.passages)
