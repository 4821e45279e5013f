"""The index store: FAISS index + Parquet metadata + manifest, written atomically."""

from __future__ import annotations

from jobmatch.index.build import BuildConfig, build_from_embeddings, build_index
from jobmatch.index.manifest import Manifest, read_manifest
from jobmatch.index.passages import Chunking
from jobmatch.index.store import LoadedIndex, load_index, save_index, verify_index

__all__ = [
    "BuildConfig",
    "Chunking",
    "LoadedIndex",
    "Manifest",
    "build_from_embeddings",
    "build_index",
    "load_index",
    "read_manifest",
    "save_index",
    "verify_index",
]
