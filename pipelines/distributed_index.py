"""Build an index on a Ray cluster: distributed encoding, optionally sharded index.

Usage:
    ray start --head                                   # or an existing cluster
    python pipelines/distributed_index.py --input 'corpus/*.parquet' --name talent \\
        --address auto --workers 8 --gpus-per-worker 1 --shards 4 \\
        --save-embeddings s3://bucket/embeddings/talent  # keep parts: --resume after a crash
    RAY_ADDRESS=ray://head:10001 python pipelines/distributed_index.py --input corpus/ \\
        --name talent --workers 4

Validates every input first (exit 2 with a one-line error on a bad row), encodes on Ray
actors (each loads the model once), writes the embedding store on the driver and builds
`indexes/<name>` from it (one index, or --shards N searched with merged top-k). Prints one
summary line. Without --address and RAY_ADDRESS a local Ray cluster is started for the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import click


@dataclass
class DistributedIndexConfig:
    inputs: list[str]
    """Candidate files, folders or globs (Parquet, CSV, JSONL)."""
    index: Path
    """Index folder to write (replaced atomically)."""
    model: str | None = None
    """Model id or folder every Ray node can load (default: the bundled MiniLM)."""
    factory: str = "auto"
    shards: int = 1
    """Shard indexes over consecutive rows; 1 builds one index."""
    address: str | None = None
    """Ray cluster address; None: env RAY_ADDRESS, else a local cluster."""
    workers: int = 1
    gpus_per_worker: float = 0.0
    chunk_rows: int = 8192
    batch_size: int = 64
    save_embeddings: str | None = None
    """Keep the embedding store here (folder or URI such as s3://bucket/store); with resume,
    continue a killed build from it."""
    resume: bool = False


def main(config: DistributedIndexConfig) -> str:
    """Validate, encode on Ray, build the index; returns the summary line."""
    from jobmatch.encoder import default_model
    from jobmatch.index import BuildConfig
    from jobmatch.index.distributed import RayConfig, build_index_ray, require_ray
    from jobmatch.io.batches import validate_inputs

    require_ray()
    started = time.perf_counter()
    rows = validate_inputs(config.inputs, "candidates")
    manifest = build_index_ray(
        config.inputs,
        config.index,
        config.model or default_model(),
        BuildConfig(
            factory=config.factory,
            shards=config.shards,
            chunk_rows=config.chunk_rows,
            batch_size=config.batch_size,
            save_embeddings=config.save_embeddings,
            resume=config.resume,
        ),
        RayConfig(
            address=config.address,
            workers=config.workers,
            gpus_per_worker=config.gpus_per_worker,
        ),
        validated_rows=rows,
    )
    seconds = time.perf_counter() - started
    return (
        f"{config.index}: {manifest.rows} rows, {manifest.factory}, {manifest.shards} shard(s), "
        f"{config.workers} worker(s); {seconds:.1f}s ({manifest.rows / seconds:.0f} docs/s)"
    )


@click.command(help=__doc__)
@click.option("--input", "inputs", multiple=True, required=True, metavar="PATH")
@click.option("--name", default="default", show_default=True, help="Index name under indexes/.")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), default=None)
@click.option("--model", envvar="JOBMATCH_MODEL", default=None)
@click.option("--factory", default="auto", show_default=True)
@click.option("--shards", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--address", default=None, help="Ray address; default: env RAY_ADDRESS.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--gpus-per-worker", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--chunk-rows", type=click.IntRange(min=1), default=8192, show_default=True)
@click.option(
    "--save-embeddings",
    metavar="DIR|URI",
    default=None,
    help="Embedding store: a folder every run can reach, or a URI (s3://, gs://, hdfs://).",
)
@click.option("--resume", is_flag=True, help="Continue a killed build from --save-embeddings.")
def cli(
    inputs: tuple[str, ...],
    name: str,
    index_dir: str | None,
    model: str | None,
    factory: str,
    shards: int,
    address: str | None,
    workers: int,
    gpus_per_worker: float,
    chunk_rows: int,
    save_embeddings: str | None,
    resume: bool,
) -> None:
    from jobmatch.errors import JobmatchError

    config = DistributedIndexConfig(
        list(inputs),
        Path(index_dir) if index_dir else Path("indexes") / name,
        model=model,
        factory=factory,
        shards=shards,
        address=address,
        workers=workers,
        gpus_per_worker=gpus_per_worker,
        chunk_rows=chunk_rows,
        save_embeddings=save_embeddings,
        resume=resume,
    )
    try:
        summary = main(config)
    except JobmatchError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    click.echo(summary)


if __name__ == "__main__":
    cli()
