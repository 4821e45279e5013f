"""The FastAPI app of `jobmatch serve`: POST /match, GET /health, GET /index; `run` starts
uvicorn with one or several worker processes."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from jobmatch.serve.schemas import MAX_BODY_BYTES, MatchRequest, MatchResponse, RequestProblem
from jobmatch.serve.service import CONFIG_ENV, MatchService, ServeConfig

log = logging.getLogger("jobmatch.serve")

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
    uvicorn.run("jobmatch.serve.app:app_from_env", factory=True, workers=workers, **options)
