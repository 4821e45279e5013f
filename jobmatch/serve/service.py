"""The matching service behind the HTTP app: one loaded model and index snapshot, swapped
for a new one between requests when the index folder changes.

The folder is opened by a directory descriptor, so every file of one load comes from the
same version: an index is never served half-written or mixed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from jobmatch import schema
from jobmatch.encoder import Encoder
from jobmatch.errors import IndexStoreError, InputError
from jobmatch.index import LoadedIndex
from jobmatch.index.filters import filter_mask, filterable_columns
from jobmatch.index.manifest import MANIFEST_FILE
from jobmatch.rules import RuleSet, load_rules
from jobmatch.search import open_index, search
from jobmatch.serve.schemas import MatchRequest, RequestProblem

log = logging.getLogger("jobmatch.serve")

CONFIG_ENV = "JOBMATCH_SERVE_CONFIG"
"""JSON ServeConfig handed to each worker process when --workers > 1."""


@dataclass(frozen=True)
class ServeConfig:
    """What `jobmatch serve` loads and how it watches the index folder."""

    index_dir: str
    """Index folder (index.faiss + metadata.parquet + manifest.json)."""
    model: str | None = None
    """Query model; None means the model recorded in the index manifest."""
    rules_path: str | None = None
    """Rules TOML for explanations; None means the shipped rules."""
    reload_interval: float = 2.0
    """Seconds between checks of the manifest for a swapped index; 0 disables reloading."""

    def __post_init__(self) -> None:
        if self.reload_interval < 0:
            raise ValueError(f"reload_interval must be >= 0 seconds, got {self.reload_interval}")

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        return cls(**json.loads(text))


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True)
class Snapshot:
    """One loaded version of the index folder and the manifest file it was loaded from."""

    loaded: LoadedIndex
    key: tuple[int, int, int]
    loaded_at: float


def _manifest_key(folder: Path) -> tuple[int, int, int] | None:
    """Identity of a folder's manifest.json: a swapped-in folder has a new file (inode)."""
    try:
        stat = (folder / MANIFEST_FILE).stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def load_snapshot(
    folder: str | Path, *, model: str | None = None, encoder: Encoder | None = None
) -> tuple[Encoder, Snapshot]:
    """Load the index (and the encoder unless given) from one version of the folder.

    The folder is pinned by a directory descriptor and read through /proc/self/fd, so a
    swap during the load cannot mix files of two versions; where /proc is missing, a load
    during which the manifest changed is retried.
    """
    folder = Path(folder)
    for attempt in range(3):
        try:
            descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as exc:
            raise IndexStoreError(f"{folder}: cannot open the index folder ({exc})") from exc
        try:
            pinned = Path(f"/proc/self/fd/{descriptor}")
            if not pinned.is_dir():
                pinned = folder
            before = _manifest_key(pinned)
            try:
                encoder, loaded = open_index(pinned, model, encoder=encoder)
            except IndexStoreError as exc:
                if _manifest_key(pinned) != before and attempt < 2:
                    continue
                raise IndexStoreError(str(exc).replace(str(pinned), str(folder))) from exc
            if before is None or _manifest_key(pinned) != before:
                continue
        finally:
            os.close(descriptor)
        loaded.path = folder
        return encoder, Snapshot(loaded, before, time.time())
    raise IndexStoreError(f"{folder}: the index kept changing while it was loaded; retry")


class MatchService:
    """The loaded model, the current index snapshot and the rules; thread-safe to query."""

    def __init__(self, config: ServeConfig, encoder: Encoder, snapshot: Snapshot) -> None:
        self.config = config
        self.encoder = encoder
        self.snapshot = snapshot
        self.rules: RuleSet = load_rules(config.rules_path)
        self.reload_error: str | None = None
        self._failed_key: tuple[int, int, int] | None = None

    @classmethod
    def load(cls, config: ServeConfig) -> MatchService:
        encoder, snapshot = load_snapshot(config.index_dir, model=config.model)
        return cls(config, encoder, snapshot)

    def match(self, request: MatchRequest) -> dict[str, Any]:
        """Run one request against the snapshot current at its start (blocking)."""
        started = time.perf_counter()
        loaded = self.snapshot.loaded
        empty = loaded.metadata.clear()
        for i, expression in enumerate(request.filters):
            try:  # column and value types, checked on the schema alone
                filter_mask(empty, [expression])
            except InputError as exc:
                raise RequestProblem(("body", "filters", i), str(exc)) from None
        if request.aggregate is not None and not loaded.manifest.chunked:
            raise RequestProblem(
                ("body", "aggregate"),
                "aggregate needs an index built with --chunking passages; this one has one "
                "vector per candidate",
            )
        jobs = request.jobs_frame()
        hits = search(
            loaded,
            self.encoder,
            jobs,
            k=request.k,
            filters=request.filters,
            aggregate=request.aggregate,
            explain=self.rules if request.explain else None,
            with_text=request.with_text,
        )
        return {
            "results": _group_hits(jobs, hits, explain=request.explain),
            "index_updated": loaded.manifest.updated,
            "rows": loaded.candidates,
            "took_ms": round((time.perf_counter() - started) * 1000, 3),
        }

    def reload_if_changed(self) -> bool:
        """Load the folder again if its manifest changed; True when a new version is live.

        A version that fails to load is reported in /health and not retried until the
        folder changes again; the previous version keeps serving meanwhile.
        """
        folder = Path(self.config.index_dir)
        key = _manifest_key(folder)
        if key is None or key == self.snapshot.key or key == self._failed_key:
            return False
        try:
            _, snapshot = load_snapshot(folder, encoder=self.encoder)
        except IndexStoreError as exc:
            self._failed_key = key
            self.reload_error = str(exc)
            log.error("index reload failed, still serving the previous version: %s", exc)
            return False
        previous, self.snapshot = self.snapshot, snapshot
        self.reload_error = self._failed_key = None
        log.info(
            "reloaded %s: %d rows (was %d), updated %s",
            folder,
            snapshot.loaded.candidates,
            previous.loaded.candidates,
            snapshot.loaded.manifest.updated,
        )
        return True

    def health(self) -> dict[str, Any]:
        loaded = self.snapshot.loaded
        return {
            "status": "ok",
            "model": self.encoder.name,
            "rows": loaded.candidates,
            "index_updated": loaded.manifest.updated,
            "reload_error": self.reload_error,
        }

    def index_summary(self) -> dict[str, Any]:
        snapshot = self.snapshot
        manifest = snapshot.loaded.manifest
        return {
            "path": str(self.config.index_dir),
            "model": manifest.model,
            "model_fingerprint": manifest.model_fingerprint,
            "query_model": self.encoder.name,
            "dimension": manifest.dimension,
            "rows": snapshot.loaded.candidates,
            "vectors": snapshot.loaded.rows,
            "chunking": manifest.chunking,
            "chunk_tokens": manifest.chunk_tokens,
            "chunk_overlap": manifest.chunk_overlap,
            "aggregate": manifest.aggregate,
            "factory": manifest.factory,
            "metric": manifest.metric,
            "normalized": manifest.normalized,
            "search_params": manifest.search_params,
            "created": manifest.created,
            "updated": manifest.updated,
            "jobmatch_version": manifest.jobmatch_version,
            "faiss_version": manifest.faiss_version,
            "filterable_columns": filterable_columns(snapshot.loaded.metadata),
            "loaded_at": datetime.fromtimestamp(snapshot.loaded_at).astimezone().isoformat(),
        }


_HIT_FIELDS = (schema.JOB_ID, schema.RANK, schema.CANDIDATE_ID, schema.SCORE)


def _group_hits(jobs: pl.DataFrame, hits: pl.DataFrame, *, explain: bool) -> list[dict]:
    """Hits of `search` grouped per job in request order, metadata columns nested."""
    extra = {schema.EXPLANATION, schema.TEXT}
    metadata_columns = [c for c in hits.columns if c not in _HIT_FIELDS and c not in extra]
    per_job: dict[str, list[dict[str, Any]]] = {job_id: [] for job_id in jobs[schema.JOB_ID]}
    for row in hits.iter_rows(named=True):
        hit: dict[str, Any] = {
            "rank": row[schema.RANK],
            "candidate_id": row[schema.CANDIDATE_ID],
            "score": _plain(row[schema.SCORE]),
            "metadata": {c: _plain(row[c]) for c in metadata_columns},
        }
        if explain:
            hit["explanation"] = row.get(schema.EXPLANATION)
        if schema.TEXT in row:
            hit["text"] = row[schema.TEXT]
        per_job[row[schema.JOB_ID]].append(hit)
    return [{"job_id": job_id, "hits": hits} for job_id, hits in per_job.items()]


def _plain(value: Any) -> Any:
    """A JSON-safe value: NaN and infinities become null, dates ISO strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
