"""The scheduled indexing job: build an index, or upsert only new and changed candidates.

Usage:
    python pipelines/index_corpus.py --input 'corpus/*.parquet' --name talent
    python pipelines/index_corpus.py --input corpus/ --name talent --prune   # mirror the corpus
    python pipelines/index_corpus.py --input corpus/ --index /data/indexes/talent \\
        --model ./models/stage1 --factory HNSW32

The first run builds `indexes/<name>` (streaming, bounded memory). Later runs hash every
candidate's content and re-encode only new and changed ones; with --prune, candidates no
longer in the corpus are removed. Each run prints one summary line and exits non-zero
(2) with a one-line error on bad input; the index is never left half-written.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click


@dataclass
class IndexCorpusConfig:
    inputs: list[str]
    """Candidate files, folders or globs."""
    index: Path
    """Index folder (default: indexes/<name>)."""
    model: str | None = None
    """Model for a new index; an existing index keeps its own model."""
    factory: str = "auto"
    """FAISS factory for a new index."""
    prune: bool = False
    """Remove indexed candidates that are no longer in the inputs."""
    batch_size: int = 64
    wait: bool = True
    progress: bool = field(default_factory=lambda: sys.stderr.isatty())


@dataclass
class RunSummary:
    mode: str
    added: int
    updated: int
    removed: int
    unchanged: int
    rows: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.mode}: added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"unchanged {self.unchanged}; {self.rows} rows in the index; {self.seconds:.1f}s"
        )


def main(config: IndexCorpusConfig) -> RunSummary:
    """Build `config.index` if missing, else upsert the inputs into it."""
    from jobmatch.encoder import load_encoder
    from jobmatch.index import BuildConfig, build_index, read_manifest
    from jobmatch.index.lifecycle import upsert
    from jobmatch.io.batches import validate_inputs

    started = time.perf_counter()
    validate_inputs(config.inputs, "candidates")
    if not (config.index / "manifest.json").is_file():
        encoder = load_encoder(config.model)
        build = BuildConfig(
            factory=config.factory,
            batch_size=config.batch_size,
            wait=config.wait,
            progress=config.progress,
        )
        manifest = build_index(config.inputs, config.index, encoder, build)
        seconds = time.perf_counter() - started
        return RunSummary("built", manifest.rows, 0, 0, 0, manifest.rows, seconds)
    encoder = load_encoder(config.model or read_manifest(config.index).model)
    result = upsert(
        config.index,
        config.inputs,
        encoder,
        prune=config.prune,
        batch_size=config.batch_size,
        wait=config.wait,
        progress=config.progress,
    )
    return RunSummary(
        "updated",
        result.added,
        result.updated,
        result.removed,
        result.unchanged,
        result.rows,
        time.perf_counter() - started,
    )


@click.command(help=__doc__)
@click.option("--input", "inputs", multiple=True, required=True, metavar="PATH")
@click.option("--name", default="default", show_default=True, help="Index name under indexes/.")
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Index folder (overrides --name).",
)
@click.option("--model", envvar="JOBMATCH_MODEL", default=None)
@click.option("--factory", default="auto", show_default=True)
@click.option("--prune", is_flag=True, help="Remove candidates absent from the inputs.")
@click.option("--no-wait", is_flag=True, help="Fail if another writer holds the lock.")
def cli(
    inputs: tuple[str, ...],
    name: str,
    index_dir: str | None,
    model: str | None,
    factory: str,
    prune: bool,
    no_wait: bool,
) -> None:
    from jobmatch.errors import JobmatchError

    index = Path(index_dir) if index_dir else Path("indexes") / name
    config = IndexCorpusConfig(
        list(inputs), index, model=model, factory=factory, prune=prune, wait=not no_wait
    )
    try:
        summary = main(config)
    except JobmatchError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    click.echo(f"{config.index}: {summary}")


if __name__ == "__main__":
    cli()
