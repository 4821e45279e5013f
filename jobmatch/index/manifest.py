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

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
INDEX_FILE = "index.faiss"
METADATA_FILE = "metadata.parquet"


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

    def index_files(self) -> list[str]:
        """The FAISS files of this folder, in row order."""
        if self.shards == 1:
            return [INDEX_FILE]
        return [shard_file(j) for j in range(self.shards)]

    def data_files(self) -> list[str]:
        return [*self.index_files(), METADATA_FILE]

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
        if version != FORMAT_VERSION:
            raise IndexStoreError(
                f"{source}: index format version {version} is not supported "
                f"(this jobmatch reads version {FORMAT_VERSION})"
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
