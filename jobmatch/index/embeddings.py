"""The embedding store: Parquet parts of (metadata, content hash, embedding), one per chunk.

Encoding dominates build time, so its output is kept in parts written atomically one by one:
a killed build resumes from the finished parts (`--resume`), and another index type can be
built from the same parts without re-encoding (`--embeddings DIR`). `store.json` records the
model fingerprint and chunk size; a part is reused only when its ids equal the chunk's ids.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from jobmatch import io, schema
from jobmatch.errors import IndexStoreError

STORE_FILE = "store.json"
STORE_FORMAT = 1


@dataclass(frozen=True)
class StoreInfo:
    model: str
    model_fingerprint: str
    dimension: int
    chunk_rows: int
    format_version: int = STORE_FORMAT
    backend: str = "torch"
    quantize: str = "none"


class EmbeddingStore:
    """A folder of `part-NNNNN.parquet` files plus `store.json`."""

    def __init__(self, folder: Path, info: StoreInfo) -> None:
        self.folder = folder
        self.info = info

    @classmethod
    def open(cls, folder: str | Path) -> EmbeddingStore:
        """Open an existing store for reading."""
        folder = Path(folder)
        path = folder / STORE_FILE
        if not path.is_file():
            raise IndexStoreError(f"{folder}: not an embedding store ({STORE_FILE} missing)")
        try:
            info = StoreInfo(**json.loads(path.read_text("utf-8")))
        except (json.JSONDecodeError, TypeError) as exc:
            raise IndexStoreError(f"{path}: malformed store description") from exc
        if info.format_version != STORE_FORMAT:
            raise IndexStoreError(f"{path}: unsupported store format {info.format_version}")
        return cls(folder, info)

    @classmethod
    def create(cls, folder: str | Path, info: StoreInfo, *, resume: bool) -> EmbeddingStore:
        """A store to write into; with `resume`, an existing compatible store is reused."""
        folder = Path(folder)
        if (folder / STORE_FILE).is_file():
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
        if folder.exists() and any(folder.iterdir()):
            raise IndexStoreError(f"{folder}: not empty and not an embedding store")
        folder.mkdir(parents=True, exist_ok=True)
        with io.atomic_path(folder / STORE_FILE) as tmp:
            tmp.write_text(json.dumps(dataclasses.asdict(info), indent=2) + "\n", "utf-8")
        return cls(folder, info)

    def part_path(self, index: int) -> Path:
        return self.folder / f"part-{index:05d}.parquet"

    def has_part(self, index: int, ids: pl.Series) -> bool:
        """True when part `index` exists and holds exactly these ids (a finished chunk)."""
        path = self.part_path(index)
        if not path.is_file():
            return False
        try:
            stored = pl.read_parquet(path, columns=[schema.CANDIDATE_ID])[schema.CANDIDATE_ID]
        except Exception:  # a torn file from a crash is simply redone
            return False
        return stored.equals(ids.rename(schema.CANDIDATE_ID))

    def write_part(self, index: int, frame: pl.DataFrame, embeddings: np.ndarray) -> None:
        """Write one part atomically: metadata columns plus the embedding column."""
        if embeddings.shape != (frame.height, self.info.dimension):
            raise IndexStoreError(
                f"embeddings of shape {embeddings.shape} for {frame.height} rows of "
                f"dimension {self.info.dimension}"
            )
        column = pl.Series(
            schema.EMBEDDING, embeddings, dtype=pl.Array(pl.Float32, self.info.dimension)
        )
        with io.atomic_path(self.part_path(index)) as tmp:
            frame.with_columns(column).write_parquet(tmp)

    def part_indices(self) -> list[int]:
        """Indices of the parts present, checked to be contiguous from 0."""
        indices = sorted(int(p.stem.split("-")[1]) for p in self.folder.glob("part-*.parquet"))
        if indices != list(range(len(indices))):
            missing = sorted(set(range(max(indices, default=-1) + 1)) - set(indices))
            raise IndexStoreError(f"{self.folder}: parts missing: {missing[:5]}")
        return indices

    def iter_parts(self) -> Iterator[tuple[pl.DataFrame, np.ndarray]]:
        """(metadata, embeddings float32 [n, d]) per part, in order."""
        for index in self.part_indices():
            frame = pl.read_parquet(self.part_path(index))
            vectors = frame[schema.EMBEDDING].to_numpy().astype(np.float32, copy=False)
            yield frame.drop(schema.EMBEDDING), np.ascontiguousarray(vectors)

    def rows(self) -> int:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(self.part_path(i)).metadata.num_rows for i in self.part_indices())

    def sample(self, size: int, *, seed: int = 0) -> np.ndarray:
        """`size` embeddings drawn uniformly without replacement, for IVF/PQ training."""
        import pyarrow.parquet as pq

        counts = [pq.ParquetFile(self.part_path(i)).metadata.num_rows for i in self.part_indices()]
        total = sum(counts)
        chosen = np.sort(np.random.default_rng(seed).choice(total, min(size, total), replace=False))
        out = []
        start = 0
        for index, count in enumerate(counts):
            local = chosen[(chosen >= start) & (chosen < start + count)] - start
            if len(local):
                column = pl.read_parquet(self.part_path(index), columns=[schema.EMBEDDING])
                out.append(column[schema.EMBEDDING].to_numpy()[local])
            start += count
        return np.ascontiguousarray(np.concatenate(out).astype(np.float32, copy=False))
