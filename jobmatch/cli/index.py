"""`jobmatch index build|add|remove|verify|info`: the index folder's lifecycle."""

from __future__ import annotations

import time
from pathlib import Path

import click

from jobmatch.cli.documents import document_options, staged_inputs
from jobmatch.cli.options import (
    INPUT_FILE,
    backend_options,
    encoding_option,
    model_option,
    progress_option,
    resolve_backend,
    wait_option,
    warn_if_incompatible,
)
from jobmatch.cli.options import show_progress as _show_progress
from jobmatch.cli.options import status as _status
from jobmatch.cli.options import waiting as _waiting

AGGREGATES = ("first", "max", "mean", "first+max")
"""jobmatch.index.aggregate.AGGREGATES, spelled out: importing jobmatch.index at start-up
would load polars and FAISS helpers for `--help` (a test keeps the two equal)."""


def aggregate_option(help_text: str):
    """`--aggregate`: how a chunked index scores a candidate from its passages."""
    return click.option(
        "--aggregate",
        type=click.Choice(AGGREGATES),
        default=None,
        help=help_text,
    )


# --------------------------------------------------------------------------- index


@click.group()
def index() -> None:
    """Build and inspect index folders (index.faiss + metadata.parquet + manifest.json)."""


@index.command("build")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="PATH",
    help="Candidates: tables (.parquet, .csv, .jsonl) or documents (.pdf, .docx, .html, .txt, "
    ".md): files, folders or quoted globs (repeatable).",
)
@click.option(
    "--embeddings",
    "embeddings_dir",
    metavar="DIR|URI",
    default=None,
    help="Build from a saved embedding store (folder or filesystem URI) instead of encoding "
    "--input.",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Index folder to write (replaced atomically if it exists).",
)
@click.option(
    "--factory",
    default="auto",
    show_default=True,
    help="FAISS index_factory string (Flat, HNSW32, IVF4096,Flat, IVF65536_HNSW32,PQ32x4fs, ...)"
    " or auto (by corpus size).",
)
@model_option()
@backend_options()
@click.option(
    "--save-embeddings",
    metavar="DIR|URI",
    default=None,
    help="Keep the embeddings as Parquet parts here (reusable with --embeddings): a folder or "
    "any pyarrow filesystem URI, e.g. s3://bucket/store.",
)
@click.option("--resume", is_flag=True, help="Continue a killed build from --save-embeddings.")
@click.option("--id-col", default=None, help="Id column of the input, if not candidate_id.")
@click.option("--text-col", default=None, help="Text column of the input, if not text.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=8192,
    show_default=True,
    help="Rows encoded per chunk (the unit of memory and of --resume).",
)
@click.option(
    "--memory-budget-gb",
    type=click.FloatRange(min=0.01),
    default=None,
    help="For --factory auto: vector memory above which a compressed (PQ) index is chosen.",
)
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Split the index into N shards over consecutive rows, searched with merged top-k.",
)
@click.option(
    "--chunking",
    type=click.Choice(["none", "passages"]),
    default=None,
    help="none: one vector per candidate, the text truncated at the model's max_seq_length; "
    "passages: one vector per passage of --chunk-tokens, queries return distinct candidates.  "
    "[default: none; with --embeddings, the store's]",
)
@click.option(
    "--chunk-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Tokens per passage in the model's own tokenizer, special tokens included.  "
    "[default: the model's max_seq_length, 256 for MiniLM]",
)
@click.option(
    "--chunk-overlap",
    type=click.IntRange(min=0),
    default=None,
    help="Tokens shared by consecutive passages.  [default: 32]",
)
@aggregate_option(
    "Default passage aggregate the manifest records for queries (--chunking passages).  "
    "[default: first+max]"
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Encode in this process, or on a Ray cluster (pip install 'jobmatch[ray]').",
)
@click.option(
    "--address",
    default=None,
    help="Ray cluster to join (auto, host:6379, ray://...); default: env RAY_ADDRESS, else a "
    "local cluster for this build.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Ray encoder actors, each loading the model once.  [default: 1]",
)
@click.option(
    "--gpus-per-worker",
    type=click.FloatRange(min=0),
    default=None,
    help="GPUs per Ray encoder actor (fractions share a GPU).  [default: 0, CPU]",
)
@click.option(
    "--cpus-per-worker",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="CPUs per Ray encoder actor.  [default: the cluster's CPUs, less what reading "
    "needs, shared by the workers, at most 1 each]",
)
@click.option(
    "--stall-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Fail a Ray build that receives no encoded rows for this long.  [default: 900]",
)
@wait_option()
@document_options(workers=False)
@encoding_option()
@progress_option()
def index_build(
    inputs: tuple[str, ...],
    embeddings_dir: str | None,
    index_dir: str,
    factory: str,
    model: str | None,
    backend: str | None,
    quantize: str | None,
    save_embeddings: str | None,
    resume: bool,
    id_col: str | None,
    text_col: str | None,
    batch_size: int,
    chunk_rows: int,
    memory_budget_gb: float | None,
    shards: int,
    chunking: str | None,
    chunk_tokens: int | None,
    chunk_overlap: int | None,
    aggregate: str | None,
    engine: str,
    address: str | None,
    workers: int | None,
    gpus_per_worker: float | None,
    cpus_per_worker: float | None,
    stall_timeout: float | None,
    wait: bool,
    id_from: str,
    on_unreadable: str,
    encoding: str,
    progress: bool | None,
) -> None:
    """Embed candidates into a FAISS index folder, streaming in bounded memory.

    Document inputs (PDF, DOCX, HTML, .txt, .md) are extracted first, in parallel
    processes; an unreadable one fails the build before anything is encoded (or, with
    --on-unreadable skip, is listed in skipped.jsonl beside the index folder).

    \b
    Examples:
      jobmatch index build --input data/candidates.parquet --index indexes/demo
      jobmatch index build --input 'resumes/**/*.pdf' --input resumes/ --index indexes/cv
      jobmatch index build --input 'corpus/*.parquet' --index indexes/big \\
          --save-embeddings embeddings/big --factory IVF4096,Flat
      jobmatch index build --embeddings embeddings/big --index indexes/big-hnsw \\
          --factory HNSW32
      jobmatch index build --input 'corpus/*.parquet' --index indexes/big \\
          --save-embeddings embeddings/big --resume        # after a killed build
      jobmatch index build --input 'corpus/*.parquet' --index indexes/big \
          --engine ray --address auto --workers 8 --gpus-per-worker 1 --shards 4
      jobmatch index build --input long_resumes.parquet --index indexes/long \
          --chunking passages --chunk-tokens 256 --chunk-overlap 32 --aggregate max
    """
    from jobmatch.encoder import default_model, load_encoder
    from jobmatch.index import BuildConfig, build_from_embeddings, build_index
    from jobmatch.io.batches import validate_inputs

    if bool(inputs) == bool(embeddings_dir):
        raise click.UsageError("give either --input (one or more) or --embeddings")
    backend, quantize = resolve_backend(backend, quantize)
    ray_options = (address, workers, gpus_per_worker, cpus_per_worker, stall_timeout)
    if engine == "local" and any(option is not None for option in ray_options):
        raise click.UsageError(
            "--address, --workers, --gpus-per-worker, --cpus-per-worker and --stall-timeout "
            "need --engine ray"
        )
    if engine == "ray" and embeddings_dir:
        raise click.UsageError("--engine ray encodes --input; --embeddings needs no encoding")
    chunking_config = _chunking(chunking, chunk_tokens, chunk_overlap, aggregate, embeddings_dir)
    config = BuildConfig(
        factory=factory,
        chunk_rows=chunk_rows,
        batch_size=batch_size,
        save_embeddings=save_embeddings,
        resume=resume,
        id_col=id_col,
        text_col=text_col,
        memory_budget_bytes=int(memory_budget_gb * 2**30) if memory_budget_gb else None,
        wait=wait,
        progress=_show_progress(progress),
        shards=shards,
        chunking=chunking_config,
    )
    with staged_inputs(
        inputs,
        output=index_dir,
        id_from=id_from,
        on_unreadable=on_unreadable,
        progress=config.progress,
        encoding=encoding,
    ) as staged:
        started = time.perf_counter()
        if embeddings_dir:
            manifest = build_from_embeddings(embeddings_dir, index_dir, config, on_wait=_waiting)
        elif engine == "ray":
            from jobmatch.index.distributed import (
                DEFAULT_STALL_TIMEOUT_S,
                RayConfig,
                build_index_ray,
                require_ray,
            )

            require_ray()
            ray_config = RayConfig(
                address=address,
                workers=workers or 1,
                gpus_per_worker=gpus_per_worker or 0.0,
                cpus_per_worker=cpus_per_worker,
                stall_timeout_s=stall_timeout or DEFAULT_STALL_TIMEOUT_S,
            )
            rows = validate_inputs(staged, "candidates", id_col=id_col, text_col=text_col)
            _status(f"validated {rows} candidates")
            manifest = build_index_ray(
                staged,
                index_dir,
                model or default_model(),
                config,
                ray_config,
                validated_rows=rows,
                on_wait=_waiting,
            )
        else:
            rows = validate_inputs(staged, "candidates", id_col=id_col, text_col=text_col)
            _status(f"validated {rows} candidates")
            encoder = load_encoder(model, backend=backend, quantize=quantize)
            started = time.perf_counter()  # the rate is the build's, not the model load's
            manifest = build_index(staged, index_dir, encoder, config, on_wait=_waiting)
    elapsed = time.perf_counter() - started
    sharded = f", {manifest.shards} shards" if manifest.shards > 1 else ""
    # a rate over fewer than two encoder batches is mostly start-up cost: leave it out
    candidates = manifest.candidate_rows
    passages = f" in {manifest.rows} passages" if manifest.chunked else ""
    per_second = candidates / elapsed
    rate = f" ({per_second:,.0f} docs/s)" if per_second >= 10 else f" ({per_second:.2f} docs/s)"
    if candidates < 2 * batch_size or embeddings_dir:
        rate = ""
    _status(
        f"indexed {candidates} candidates{passages} ({manifest.dimension}-d, "
        f"{manifest.factory}{sharded}) into {index_dir} in {elapsed:.1f}s{rate}"
    )


def _chunking(
    mode: str | None,
    tokens: int | None,
    overlap: int | None,
    aggregate: str | None,
    embeddings_dir: str | None,
):
    """The build's Chunking from the options; passage options without passages are refused."""
    from jobmatch.index.passages import DEFAULT_AGGREGATE, DEFAULT_OVERLAP, Chunking

    if embeddings_dir and (tokens is not None or overlap is not None):
        raise click.UsageError(
            "--chunk-tokens and --chunk-overlap apply when encoding; a store keeps its own"
        )
    passages = mode == "passages" or (mode is None and embeddings_dir is not None)
    if not passages and (tokens is not None or overlap is not None or aggregate is not None):
        raise click.UsageError(
            "--chunk-tokens, --chunk-overlap and --aggregate need --chunking passages"
        )
    return Chunking(
        "passages" if mode == "passages" else "none",
        tokens,
        DEFAULT_OVERLAP if overlap is None else overlap,
        aggregate or DEFAULT_AGGREGATE,
    )


@index.command("add")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    metavar="PATH",
    help="Candidates to add or update: tables or documents; files, folders or globs (repeatable).",
)
@click.option("--index", "index_dir", type=click.Path(file_okay=False), required=True)
@click.option(
    "--prune",
    is_flag=True,
    help="Also remove indexed candidates that are absent from --input (full sync).",
)
@click.option("--id-col", default=None, help="Id column of the input, if not candidate_id.")
@click.option("--text-col", default=None, help="Text column of the input, if not text.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@model_option("Model; default: the index's own (must match its fingerprint).")
@backend_options()
@wait_option()
@document_options(workers=False)
@encoding_option()
@progress_option()
def index_add(
    inputs: tuple[str, ...],
    index_dir: str,
    prune: bool,
    id_col: str | None,
    text_col: str | None,
    batch_size: int,
    model: str | None,
    backend: str | None,
    quantize: str | None,
    wait: bool,
    id_from: str,
    on_unreadable: str,
    encoding: str,
    progress: bool | None,
) -> None:
    """Upsert candidates by candidate_id: new ones are added, changed ones replaced.

    Unchanged candidates (same content hash) are not re-encoded.

    \b
    Examples:
      jobmatch index add --input new_candidates.csv --index indexes/demo
      jobmatch index add --input resumes/ --index indexes/cv --prune   # sync a folder
    """
    from jobmatch.encoder import load_encoder
    from jobmatch.index import read_manifest
    from jobmatch.index.lifecycle import upsert
    from jobmatch.io.batches import validate_inputs

    with staged_inputs(
        inputs,
        output=index_dir,
        id_from=id_from,
        on_unreadable=on_unreadable,
        progress=_show_progress(progress),
        encoding=encoding,
    ) as staged:
        validate_inputs(staged, "candidates", id_col=id_col, text_col=text_col)
        manifest = read_manifest(index_dir)
        backend, quantize = resolve_backend(backend, quantize, manifest)
        encoder = load_encoder(model or manifest.model, backend=backend, quantize=quantize)
        warn_if_incompatible(manifest, encoder)
        summary = upsert(
            index_dir,
            staged,
            encoder,
            prune=prune,
            batch_size=batch_size,
            id_col=id_col,
            text_col=text_col,
            wait=wait,
            on_wait=_waiting,
            progress=_show_progress(progress),
        )
    _status(f"{index_dir}: {summary}")


@index.command("remove")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), required=True)
@click.option(
    "--ids",
    "ids_file",
    type=INPUT_FILE,
    default=None,
    help="File with a candidate_id column (or one id per line in .txt).",
)
@click.argument("ids", nargs=-1)
@encoding_option()
@wait_option()
def index_remove(
    index_dir: str, ids_file: str | None, ids: tuple[str, ...], encoding: str, wait: bool
) -> None:
    """Remove candidates by id.

    \b
    Examples:
      jobmatch index remove --index indexes/demo c0000012 c0000013
      jobmatch index remove --index indexes/demo --ids leavers.csv
    """
    from jobmatch.index.lifecycle import remove

    wanted = list(ids)
    if ids_file:
        wanted += _read_ids(ids_file, encoding)
    if not wanted:
        raise click.UsageError("give ids as arguments or with --ids FILE")
    summary = remove(index_dir, wanted, wait=wait, on_wait=_waiting)
    _status(f"{index_dir}: {summary}")


def _read_ids(path: str, encoding: str) -> list[str]:
    from jobmatch import io, schema
    from jobmatch.errors import InputError

    if path.endswith(".txt"):
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read ids ({exc.strerror})", path=path) from exc
        text = io.decode_text(raw, path, csv_header=False, encoding=encoding)
        return [line.strip() for line in text.splitlines() if line.strip()]
    frame = io.read_table(path, "candidates", columns=(), encoding=encoding)
    return frame[schema.CANDIDATE_ID].to_list()


@index.command("verify")
@click.argument("index_dir", type=click.Path(file_okay=False))
def index_verify(index_dir: str) -> None:
    """Check checksums, row counts, dimension and readability; exit 1 on any problem.

    \b
    Example:
      jobmatch index verify indexes/demo
    """
    from jobmatch.index import verify_index

    problems = verify_index(index_dir)
    if problems:
        for problem in problems:
            click.echo(f"{index_dir}: {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"{index_dir}: ok")


@index.command("info")
@click.argument("index_dir", type=click.Path(file_okay=False))
def index_info(index_dir: str) -> None:
    """Print an index folder's manifest as JSON.

    \b
    Example:
      jobmatch index info indexes/demo
    """
    from jobmatch.index import read_manifest

    click.echo(read_manifest(index_dir).to_json(), nl=False)
