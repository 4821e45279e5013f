"""manifest.json: what an index folder holds and how it was made, checked on every load."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobmatch.errors import IndexStoreError
from jobmatch.index.aggregate import AGGREGATES
from jobmatch.index.passages import DEFAULT_AGGREGATE, DEFAULT_OVERLAP, Chunking

FORMAT_VERSION = 1
PASSAGES_FORMAT_VERSION = 2
"""Written by chunked indexes, so that a jobmatch that predates passages refuses them
instead of misreading rows as candidates; version 1 manifests read as chunking "none"."""
READABLE_VERSIONS = (FORMAT_VERSION, PASSAGES_FORMAT_VERSION)
MANIFEST_FILE = "manifest.json"
INDEX_FILE = "index.faiss"
METADATA_FILE = "metadata.parquet"
PASSAGES_FILE = "passages.parquet"


def shard_file(index: int) -> str:
    """File of shard `index` in a sharded index folder (which has no index.faiss)."""
    return f"shard-{index:05d}.faiss"


@dataclass
class Manifest:
    """Description of one index folder; `files` holds sha256 and size of the data files."""

    model: str
    model_fingerprint: str
    dimension: int
    rows: int
    factory: str = "Flat"
    metric: str = "inner_product"
    normalized: bool = True
    backend: str = "torch"
    """Encoding runtime of the vectors: torch, onnx or openvino (jobmatch.backends)."""
    quantize: str = "none"
    """none, int8 or bf16; query embeddings made differently get a warning."""
    format_version: int = FORMAT_VERSION
    created: str = ""
    updated: str = ""
    jobmatch_version: str = ""
    faiss_version: str = ""
    search_params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    shards: int = 1
    """1: one index.faiss; N > 1: shard-00000.faiss .. over consecutive row ranges."""
    candidates: int | None = None
    """Metadata rows; None in manifests written before chunking existed (then = rows)."""
    chunking: str = "none"
    """none: one FAISS row per candidate; passages: one per passage, mapped to candidates
    by passages.parquet (see index/passages.py)."""
    chunk_tokens: int | None = None
    """Tokens per passage, the model's special tokens included (chunking passages)."""
    chunk_overlap: int | None = None
    """Tokens shared by consecutive passages (chunking passages)."""
    aggregate: str | None = None
    """Default passage aggregate of queries: first, max, mean, first+max (chunking passages)."""

    @property
    def chunked(self) -> bool:
        return self.chunking == "passages"

    def chunking_config(self) -> Chunking:
        """How this index turned texts into vectors, for encoding additions the same way."""
        if not self.chunked:
            return Chunking()
        return Chunking(
            "passages",
            self.chunk_tokens,
            DEFAULT_OVERLAP if self.chunk_overlap is None else self.chunk_overlap,
            self.aggregate or DEFAULT_AGGREGATE,
        )

    @property
    def candidate_rows(self) -> int:
        """Metadata rows: one per candidate."""
        return self.rows if self.candidates is None else self.candidates

    def index_files(self) -> list[str]:
        """The FAISS files of this folder, in row order."""
        if self.shards == 1:
            return [INDEX_FILE]
        return [shard_file(j) for j in range(self.shards)]

    def data_files(self) -> list[str]:
        passages = [PASSAGES_FILE] if self.chunked else []
        return [*self.index_files(), METADATA_FILE, *passages]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str) -> Manifest:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IndexStoreError(f"{source}: malformed manifest ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise IndexStoreError(f"{source}: manifest is not a JSON object")
        version = data.get("format_version")
        if version not in READABLE_VERSIONS:
            raise IndexStoreError(
                f"{source}: index format version {version} is not supported "
                f"(this jobmatch reads versions {', '.join(map(str, READABLE_VERSIONS))})"
            )
        if data.get("chunking", "none") not in ("none", "passages"):
            raise IndexStoreError(
                f"{source}: field 'chunking' is {data['chunking']!r}; expected none or passages"
            )
        if data.get("chunking") == "passages" and data.get("aggregate") not in AGGREGATES:
            raise IndexStoreError(
                f"{source}: field 'aggregate' is {data.get('aggregate')!r}; expected one of "
                f"{', '.join(AGGREGATES)}"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in data and _required(f)]
        if missing:
            raise IndexStoreError(f"{source}: manifest lacks {', '.join(missing)}")
        return cls(**{key: value for key, value in data.items() if key in known})


def _required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def file_digest(path: Path) -> dict[str, Any]:
    """sha256 and size of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def read_manifest(folder: str | Path) -> Manifest:
    path = Path(folder) / MANIFEST_FILE
    if not Path(folder).is_dir():
        raise IndexStoreError(f"{folder}: no index folder there")
    if not path.is_file():
        raise IndexStoreError(f"{folder}: not an index folder ({MANIFEST_FILE} missing)")
    return Manifest.from_json(path.read_text("utf-8"), source=str(path))
