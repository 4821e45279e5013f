"""`jobmatch serve`: the HTTP matching service. FastAPI and uvicorn load only when it runs."""

from __future__ import annotations

import click

from jobmatch.cli.options import UserError, model_option

SERVE_EXTRA_HINT = 'pip install "jobmatch[serve]"'


@click.command()
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Index folder to serve; a version swapped in by `jobmatch index add` is picked up.",
)
@model_option("Query model; default: the model recorded in the index.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes; each loads its own copy of the model and index.",
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Rules TOML for explanations (default: the shipped rules).",
)
@click.option(
    "--reload-interval",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Seconds between checks for a new index version on disk; 0 turns reloading off.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@click.option("--access-log/--no-access-log", default=True, help="Log one line per request.")
def serve(
    index_dir: str,
    model: str | None,
    host: str,
    port: int,
    workers: int,
    rules_path: str | None,
    reload_interval: float,
    log_level: str,
    access_log: bool,
) -> None:
    """Serve matches over HTTP: POST /match, GET /health, GET /index, docs at /docs.

    POST /match takes {"text": ...}, {"texts": [...]} or {"jobs": [{"text", "location",
    "seniority", "areas", "remote"}]} plus k (1..1000, default 20), filters (as
    `jobmatch query --filter`), explain and with_text. Invalid input is answered with 422
    naming the field. Needs the serve extra: pip install "jobmatch[serve]".

    \b
    Examples:
      jobmatch serve --index indexes/demo
      jobmatch serve --index indexes/demo --host 0.0.0.0 --port 8080 --workers 2
      curl -s localhost:8000/match -H 'content-type: application/json' \\
          -d '{"text": "Senior NLP engineer in Berlin", "k": 5, "filters": ["country=Germany"]}'
    """
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise UserError(f"{exc.name} is not installed: {SERVE_EXTRA_HINT}") from exc
    from jobmatch.index import read_manifest
    from jobmatch.serve import ServeConfig, run

    read_manifest(index_dir)  # a missing or foreign folder fails here, before any loading
    config = ServeConfig(
        index_dir=index_dir, model=model, rules_path=rules_path, reload_interval=reload_interval
    )
    run(
        config,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
    )
