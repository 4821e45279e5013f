"""HTTP matching service over a built index: POST /match, GET /health, GET /index.

The model and index are loaded once at start; encoding and search run in a worker thread
(one at a time: torch and FAISS already use every core), so the event loop stays free.
A background task polls the index folder's manifest; when `jobmatch index add` (or a
rebuild) swaps in a new folder, the new version is loaded beside the old one and replaces
it between requests. The folder is opened by a directory descriptor, so every file of one
load comes from the same version: an index is never served half-written or mixed.

FastAPI and uvicorn come from the `serve` extra (`pip install "jobmatch[serve]"`) and are
imported only by this module.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
import polars as pl
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from jobmatch import schema
from jobmatch.encoder import Encoder
from jobmatch.errors import IndexStoreError, InputError
from jobmatch.index import LoadedIndex
from jobmatch.index.filters import filter_mask, filterable_columns, parse_filter
from jobmatch.index.manifest import MANIFEST_FILE
from jobmatch.rules import RuleSet, load_rules
from jobmatch.search import open_index, search, text_jobs

log = logging.getLogger("jobmatch.serve")

MAX_K = 1000
"""Most hits one query may ask for."""
MAX_BATCH = 64
"""Most job texts in one request."""
MAX_TEXT_CHARS = 20_000
"""Longest job text accepted (the model truncates far earlier)."""
MAX_FILTERS = 16
MAX_BODY_BYTES = 1 << 20
"""Larger request bodies are refused with 413 before they are parsed."""
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


# --------------------------------------------------------------------------- request models


def _valid_filter(expression: str) -> str:
    try:
        parse_filter(expression)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    return expression


JobText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
FilterExpression = Annotated[str, AfterValidator(_valid_filter)]


class JobIn(BaseModel):
    """A job text with the structured fields the rules explain hits against (all optional)."""

    model_config = ConfigDict(extra="forbid")

    text: JobText
    job_id: str | None = Field(None, min_length=1, max_length=200)
    location: str | None = Field(None, examples=["Berlin, Germany"])
    seniority: int | None = Field(
        None,
        ge=schema.MIN_SENIORITY,
        le=schema.MAX_SENIORITY,
        description=f"Required level, 0..5 = {', '.join(schema.SENIORITY_LEVELS)}.",
    )
    areas: list[str] | None = Field(None, max_length=100)
    remote: bool | None = None


class MatchRequest(BaseModel):
    """Give exactly one of `text`, `texts` or `jobs`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "Senior NLP engineer in Berlin", "k": 5, "filters": ["country=Germany"]}
            ]
        },
    )

    text: JobText | None = Field(None, description="One job description.")
    texts: list[JobText] | None = Field(
        None, min_length=1, max_length=MAX_BATCH, description="Several job descriptions."
    )
    jobs: list[JobIn] | None = Field(
        None,
        min_length=1,
        max_length=MAX_BATCH,
        description="Jobs with structured fields, so that `explain` can compare them.",
    )
    k: int = Field(20, ge=1, le=MAX_K, description="Hits per job.")
    filters: list[FilterExpression] = Field(
        default_factory=list,
        max_length=MAX_FILTERS,
        description="ANDed metadata filters, as `jobmatch query --filter`: country=Germany, "
        "seniority>=senior, areas~nlp, remote=true, col!=value.",
    )
    explain: bool = Field(False, description="Add the rule explanation of each hit.")
    with_text: bool = Field(False, description="Include candidate texts in the hits.")

    @model_validator(mode="after")
    def _one_input(self) -> MatchRequest:
        given = [name for name in ("text", "texts", "jobs") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of text, texts or jobs (got {given or 'none'})")
        if self.jobs is not None and len(set(self.job_ids())) != len(self.jobs):
            raise ValueError("jobs: job_id values must be unique (a missing one is q<position>)")
        return self

    def job_ids(self) -> list[str]:
        """Ids of `jobs`: the given ones, else q1, q2, ... by position (as for `texts`)."""
        return [job.job_id or f"q{i + 1}" for i, job in enumerate(self.jobs or [])]

    def jobs_frame(self) -> pl.DataFrame:
        """The request as a jobs table for `search`: job_id, text and any structured fields."""
        if self.jobs is None:
            return text_jobs([self.text] if self.text is not None else self.texts or [])
        rows = [
            {**job.model_dump(), schema.JOB_ID: job_id}
            for job, job_id in zip(self.jobs, self.job_ids(), strict=True)
        ]
        return pl.DataFrame(
            rows,
            schema={
                schema.JOB_ID: pl.String,
                schema.TEXT: pl.String,
                schema.LOCATION: pl.String,
                schema.SENIORITY: pl.Int64,
                schema.AREAS: pl.List(pl.String),
                schema.REMOTE: pl.Boolean,
            },
        )


class Hit(BaseModel):
    rank: int
    candidate_id: str
    score: float
    metadata: dict[str, Any]
    explanation: str | None = None
    text: str | None = None


class JobHits(BaseModel):
    job_id: str
    hits: list[Hit]


class MatchResponse(BaseModel):
    results: list[JobHits]
    index_updated: str
    rows: int
    took_ms: float


class RequestProblem(Exception):
    """Input that validates but does not fit the loaded index; answered with 422."""

    def __init__(self, loc: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = tuple(loc)


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
        jobs = request.jobs_frame()
        hits = search(
            loaded,
            self.encoder,
            jobs,
            k=request.k,
            filters=request.filters,
            explain=self.rules if request.explain else None,
            with_text=request.with_text,
        )
        return {
            "results": _group_hits(jobs, hits, explain=request.explain),
            "index_updated": loaded.manifest.updated,
            "rows": loaded.rows,
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
            snapshot.loaded.rows,
            previous.loaded.rows,
            snapshot.loaded.manifest.updated,
        )
        return True

    def health(self) -> dict[str, Any]:
        loaded = self.snapshot.loaded
        return {
            "status": "ok",
            "model": self.encoder.name,
            "rows": loaded.rows,
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
            "rows": snapshot.loaded.rows,
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


# --------------------------------------------------------------------------- the app


def _problem(loc: Sequence[str | int], message: str, kind: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": message, "type": kind}


def create_app(service: MatchService) -> FastAPI:
    """The FastAPI app over a loaded service; the reload watcher runs in its lifespan."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One search at a time: torch and FAISS each use every core already.
        app.state.limiter = anyio.CapacityLimiter(1)
        async with anyio.create_task_group() as tasks:
            if service.config.reload_interval > 0:
                tasks.start_soon(_watch, service, service.config.reload_interval)
            yield
            tasks.cancel_scope.cancel()

    app = FastAPI(
        title="jobmatch",
        summary="Match job descriptions to candidates by dense retrieval over a FAISS index.",
        version=_version(),
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's shape without echoing the input back (job texts can be long).
        detail = [_problem(e["loc"], e["msg"], e["type"]) for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(RequestProblem)
    async def unfit(request: Request, exc: RequestProblem) -> JSONResponse:
        return JSONResponse({"detail": [_problem(exc.loc, str(exc), "value_error")]}, 422)

    @app.post("/match", response_model=MatchResponse)
    async def match(body: MatchRequest, request: Request) -> Response:
        """Top-k candidates per job text, with metadata and optional rule explanations."""
        result = await anyio.to_thread.run_sync(
            service.match, body, limiter=request.app.state.limiter
        )
        return Response(json.dumps(result, allow_nan=False), media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness plus the served index version and the last reload error, if any."""
        return service.health()

    @app.get("/index")
    async def index() -> dict[str, Any]:
        """Summary of the served index manifest and the columns filters may name."""
        return service.index_summary()

    return app


async def _watch(service: MatchService, interval: float) -> None:
    while True:
        await anyio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(service.reload_if_changed)
        except Exception:  # never let the watcher die; the old index keeps serving
            log.exception("index reload check failed")


def _version() -> str:
    import jobmatch

    return jobmatch.__version__


def app_from_env() -> FastAPI:
    """App factory for uvicorn worker processes: the config comes from JOBMATCH_SERVE_CONFIG."""
    config = ServeConfig.from_json(os.environ[CONFIG_ENV])
    return create_app(MatchService.load(config))


def run(
    config: ServeConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve until interrupted. One worker loads here first, so load errors surface at once;
    several workers each load their own copy of the model and index."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    log_config = {**LOGGING_CONFIG, "loggers": {**LOGGING_CONFIG["loggers"]}}
    log_config["loggers"]["jobmatch"] = {"handlers": ["default"], "level": "INFO"}
    options = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": log_config,
        "access_log": access_log,
    }
    if workers == 1:
        uvicorn.run(create_app(MatchService.load(config)), **options)
        return
    os.environ[CONFIG_ENV] = config.to_json()
    uvicorn.run("jobmatch.serve:app_from_env", factory=True, workers=workers, **options)
