"""The embedding store: Parquet parts of (metadata, content hash, embedding), one per chunk.

Encoding dominates build time, so its output is kept in parts written atomically one by one:
a killed build resumes from the finished parts (`--resume`), and another index type can be
built from the same parts without re-encoding (`--embeddings DIR`). `store.json` records the
model fingerprint, chunk size and the passage chunking; a part is reused only when its ids
equal the chunk's ids. In a store of passages (`chunking` "passages") a part still has one
row per candidate: its embedding column holds the list of the candidate's passage vectors
and `passage_count` their number (read alone, cheaply, to size samples).
The folder may be local or on any pyarrow filesystem (s3://, gs://, hdfs://; see folder.py).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.errors import IndexStoreError
from jobmatch.index.folder import Folder
from jobmatch.index.passages import PASSAGE_COUNT

STORE_FILE = "store.json"
STORE_FORMAT = 1
_PART = re.compile(r"^part-(\d{5,})\.parquet$")


@dataclass(frozen=True)
class StoreInfo:
    model: str
    model_fingerprint: str
    dimension: int
    chunk_rows: int
    format_version: int = STORE_FORMAT
    backend: str = "torch"
    quantize: str = "none"
    chunking: str = "none"
    """none (a vector per row) or passages (a list of passage vectors per row)."""
    chunk_tokens: int | None = None
    chunk_overlap: int | None = None

    @property
    def chunked(self) -> bool:
        return self.chunking == "passages"


class EmbeddingStore:
    """A folder of `part-NNNNN.parquet` files plus `store.json`, local or remote."""

    def __init__(self, folder: str | Path | Folder, info: StoreInfo) -> None:
        self.folder = Folder.of(folder)
        self.info = info

    @classmethod
    def open(cls, folder: str | Path | Folder) -> EmbeddingStore:
        """Open an existing store for reading."""
        folder = Folder.of(folder)
        if not folder.is_file(STORE_FILE):
            raise IndexStoreError(f"{folder}: not an embedding store ({STORE_FILE} missing)")
        try:
            info = StoreInfo(**json.loads(folder.read_text(STORE_FILE)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise IndexStoreError(
                f"{folder.describe(STORE_FILE)}: malformed store description"
            ) from exc
        if info.format_version != STORE_FORMAT:
            raise IndexStoreError(
                f"{folder.describe(STORE_FILE)}: unsupported store format {info.format_version}"
            )
        return cls(folder, info)

    @classmethod
    def create(
        cls, folder: str | Path | Folder, info: StoreInfo, *, resume: bool
    ) -> EmbeddingStore:
        """A store to write into; with `resume`, an existing compatible store is reused."""
        folder = Folder.of(folder)
        if folder.is_file(STORE_FILE):
            existing = cls.open(folder)
            if not resume:
                raise IndexStoreError(
                    f"{folder}: already holds embeddings; pass --resume to continue that build "
                    "or choose an empty folder"
                )
            if existing.info != info:
                differences = [
                    f"{f.name} {getattr(existing.info, f.name)!r} != {getattr(info, f.name)!r}"
                    for f in dataclasses.fields(info)
                    if getattr(existing.info, f.name) != getattr(info, f.name)
                ]
                raise IndexStoreError(
                    f"{folder}: cannot resume, the store was made differently "
                    f"({'; '.join(differences)})"
                )
            return existing
        if not folder.is_empty():
            raise IndexStoreError(f"{folder}: not empty and not an embedding store")
        folder.make()
        folder.write_text(STORE_FILE, json.dumps(dataclasses.asdict(info), indent=2) + "\n")
        return cls(folder, info)

    @staticmethod
    def part_name(index: int) -> str:
        return f"part-{index:05d}.parquet"

    def part_ids(self, index: int) -> pl.Series | None:
        """The ids in part `index`, or None when it is missing or torn (then it is redone)."""
        name = self.part_name(index)
        if not self.folder.is_file(name):
            return None
        try:
            table = self.folder.read_parquet(name, columns=[schema.CANDIDATE_ID])
        except Exception:  # a torn file from a crash is simply redone
            return None
        return pl.from_arrow(table.column(schema.CANDIDATE_ID)).rename(schema.CANDIDATE_ID)

    def has_part(self, index: int, ids: pl.Series) -> bool:
        """True when part `index` exists and holds exactly these ids (a finished chunk)."""
        stored = self.part_ids(index)
        return stored is not None and stored.equals(ids.rename(schema.CANDIDATE_ID))

    def write_part(
        self,
        index: int,
        frame: pl.DataFrame,
        embeddings: np.ndarray,
        counts: np.ndarray | None = None,
    ) -> None:
        """Write one part atomically: metadata columns plus the embedding column.

        A store of passages takes `counts`, the passages of each row, with their vectors
        concatenated in row order in `embeddings`.
        """
        rows = frame.height if counts is None else int(np.sum(counts))
        if embeddings.shape != (rows, self.info.dimension):
            raise IndexStoreError(
                f"embeddings of shape {embeddings.shape} for {rows} vectors of "
                f"dimension {self.info.dimension}"
            )
        if (counts is not None) != self.info.chunked:
            raise IndexStoreError(
                f"{self.folder}: passage counts are needed exactly when the store holds "
                f"passages (chunking {self.info.chunking})"
            )
        dtype = pl.Array(pl.Float32, self.info.dimension)
        if counts is None:
            frame = frame.with_columns(pl.Series(schema.EMBEDDING, embeddings, dtype=dtype))
        else:
            if len(counts) != frame.height:
                raise IndexStoreError(f"{len(counts)} passage counts for {frame.height} rows")
            frame = frame.with_columns(
                passage_lists(embeddings, counts),
                pl.Series(PASSAGE_COUNT, np.asarray(counts, dtype=np.int32), dtype=pl.Int32),
            )
        self.folder.write_parquet(self.part_name(index), frame)

    def remove_parts_after(self, last: int) -> None:
        """Delete parts beyond `last`: left by an earlier build of a longer input."""
        for index in self._present():
            if index > last:
                self.folder.delete(self.part_name(index))

    def part_indices(self) -> list[int]:
        """Indices of the parts present, checked to be contiguous from 0."""
        indices = self._present()
        if indices != list(range(len(indices))):
            missing = sorted(set(range(max(indices, default=-1) + 1)) - set(indices))
            raise IndexStoreError(f"{self.folder}: parts missing: {missing[:5]}")
        return indices

    def iter_parts(self) -> Iterator[tuple[pl.DataFrame, np.ndarray]]:
        """(metadata, embeddings float32 [n, d]) per part, in order (passages concatenated)."""
        for frame, vectors, _ in self.iter_passage_parts():
            yield frame, vectors

    def iter_passage_parts(self) -> Iterator[tuple[pl.DataFrame, np.ndarray, np.ndarray | None]]:
        """(metadata, vectors float32, passages per row or None) per part, in order."""
        for index in self.part_indices():
            table = self.folder.read_parquet(self.part_name(index))
            column = table.column(schema.EMBEDDING)
            counts = None
            if self.info.chunked:
                counts = table.column(PASSAGE_COUNT).to_numpy().astype(np.int64)
                column = flatten_lists(column)
                table = table.drop_columns([PASSAGE_COUNT])
            vectors = vectors_of(column, self.info.dimension)
            yield pl.from_arrow(table.drop_columns([schema.EMBEDDING])), vectors, counts

    def rows(self) -> int:
        """Candidate rows of all parts."""
        return sum(self.folder.parquet_rows(self.part_name(i)) for i in self.part_indices())

    def vectors(self) -> int:
        """Vectors of all parts: rows, or passages in a store of passages."""
        return sum(self._vector_counts())

    def _vector_counts(self) -> list[int]:
        import pyarrow.compute as pc

        if not self.info.chunked:
            return [self.folder.parquet_rows(self.part_name(i)) for i in self.part_indices()]
        return [
            int(pc.sum(self.folder.read_parquet(self.part_name(i), [PASSAGE_COUNT])[0]).as_py())
            for i in self.part_indices()
        ]

    def sample(self, size: int, *, seed: int = 0) -> np.ndarray:
        """`size` embeddings drawn uniformly without replacement, for IVF/PQ training."""
        counts = self._vector_counts()
        total = sum(counts)
        chosen = np.sort(np.random.default_rng(seed).choice(total, min(size, total), replace=False))
        out = []
        start = 0
        for index, count in enumerate(counts):
            local = chosen[(chosen >= start) & (chosen < start + count)] - start
            if len(local):
                table = self.folder.read_parquet(self.part_name(index), columns=[schema.EMBEDDING])
                column = table.column(schema.EMBEDDING)
                column = flatten_lists(column) if self.info.chunked else column
                out.append(vectors_of(column, self.info.dimension)[local])
            start += count
        return np.ascontiguousarray(np.concatenate(out))

    def _present(self) -> list[int]:
        names = (_PART.match(name) for name in self.folder.file_names())
        return sorted(int(match.group(1)) for match in names if match)


def passage_lists(vectors: np.ndarray, counts: np.ndarray) -> pl.Series:
    """The embedding column of a store of passages: row i holds its counts[i] vectors."""
    import pyarrow as pa

    dimension = vectors.shape[1]
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1), pa.float32())
    inner = pa.FixedSizeListArray.from_arrays(flat, dimension)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), inner)
    return pl.Series(schema.EMBEDDING, pl.from_arrow(lists)).cast(
        pl.List(pl.Array(pl.Float32, dimension))
    )


def flatten_lists(column: Any) -> Any:
    """A list<vector> Arrow column -> the vector column of all its items, in order."""
    import pyarrow as pa

    return pa.chunked_array([chunk.flatten() for chunk in column.chunks], column.type.value_type)


def vectors_of(column: Any, dimension: int) -> np.ndarray:
    """A FixedSizeList<float32>[d] (or list or tensor) Arrow column -> float32 [n, d]."""
    import pyarrow as pa

    chunks = [np.zeros((0, dimension), dtype=np.float32)]
    for chunk in column.chunks:
        if isinstance(chunk, pa.ExtensionArray):
            chunk = chunk.storage
        chunks.append(np.asarray(chunk.flatten(), dtype=np.float32).reshape(-1, dimension))
    return np.ascontiguousarray(np.concatenate(chunks))
