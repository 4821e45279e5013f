"""The `jobmatch` command line: the only module that prints or exits.

Heavy libraries (torch, sentence-transformers, faiss) are imported inside commands so that
`jobmatch --help` stays fast. Any JobmatchError becomes one line `error: ...` and exit 2.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from jobmatch.cli_options import (
    INPUT_FILE,
    TABLE_TYPES,
    JobmatchGroup,
    backend_options,
    model_option,
    progress_option,
    resolve_backend,
    wait_option,
    warn_if_incompatible,
)
from jobmatch.cli_options import show_progress as _show_progress
from jobmatch.cli_options import status as _status
from jobmatch.cli_options import waiting as _waiting
from jobmatch.cli_serve import serve
from jobmatch.cli_training import judge, mine_negatives, train


@click.group(cls=JobmatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jobmatch")
def main() -> None:
    """Match job descriptions to talent with a bi-encoder, FAISS and rule-based labels.

    \b
    Examples:
      jobmatch demo                                  # the whole pipeline, offline, ~1 minute
      jobmatch synth --candidates 2000 --jobs 50 --out data/
      jobmatch label --jobs data/jobs.parquet --candidates data/candidates.parquet \\
          --out data/qrels.parquet
      jobmatch index build --input data/candidates.parquet --index indexes/demo
      jobmatch query --index indexes/demo --text "Senior NLP engineer in Berlin" -k 5
      jobmatch evaluate --index indexes/demo --jobs data/jobs.parquet \\
          --qrels data/qrels.parquet --baseline bm25
    """


# --------------------------------------------------------------------------- synth


@main.command()
@click.option(
    "--candidates",
    "n_candidates",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Number of candidates.",
)
@click.option(
    "--jobs",
    "n_jobs",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Number of jobs.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for candidates.parquet and jobs.parquet.",
)
@progress_option()
def synth(n_candidates: int, n_jobs: int, seed: int, out_dir: str, progress: bool | None) -> None:
    """Write a seeded synthetic corpus of candidates and jobs.

    \b
    Example:
      jobmatch synth --candidates 100000 --jobs 1000 --seed 7 --out data/
    """
    from jobmatch.synth import write_corpus

    started = time.perf_counter()
    paths = write_corpus(
        out_dir,
        n_candidates=n_candidates,
        n_jobs=n_jobs,
        seed=seed,
        progress=_show_progress(progress),
    )
    _status(
        f"wrote {n_candidates} candidates to {paths['candidates']} and {n_jobs} jobs to "
        f"{paths['jobs']} in {time.perf_counter() - started:.1f}s"
    )


# --------------------------------------------------------------------------- label


@main.command()
@click.option("--jobs", "jobs_path", type=INPUT_FILE, required=True, help="Jobs table.")
@click.option(
    "--candidates", "candidates_path", type=INPUT_FILE, required=True, help="Candidates table."
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Rules TOML (default: the one shipped with jobmatch).",
)
@click.option(
    "--out",
    "out_path",
    type=TABLE_TYPES,
    required=True,
    help="qrels output (.parquet, .csv or .jsonl; '-' for JSONL on stdout).",
)
@click.option(
    "--block-size",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Jobs graded at once; memory is about block-size x candidates x 16 bytes.",
)
def label(
    jobs_path: str, candidates_path: str, rules_path: str | None, out_path: str, block_size: int
) -> None:
    """Grade every (job, candidate) pair with the matching rules; write relevance > 0 rows.

    \b
    Example:
      jobmatch label --jobs data/jobs.parquet --candidates data/candidates.parquet \\
          --out data/qrels.parquet
    """
    from jobmatch import io, rules, schema

    rule_set = rules.load_rules(rules_path)
    jobs = io.read_table(jobs_path, "jobs", columns=(*rules.RULE_FIELDS, schema.REMOTE))
    candidates = io.read_table(candidates_path, "candidates", columns=rules.RULE_FIELDS)
    rules.require_rule_fields(jobs, path=jobs_path)
    rules.require_rule_fields(candidates, path=candidates_path)
    per_job: list[int] = []

    def counted(frames):
        for frame in frames:
            per_job.extend(frame.group_by(schema.JOB_ID).len()["len"].to_list())
            yield frame

    started = time.perf_counter()
    blocks = rules.iter_labels(jobs, candidates, rule_set, block_size=block_size)
    rows = io.write_frames(counted(blocks), out_path)
    median = sorted(per_job)[len(per_job) // 2] if per_job else 0
    _status(
        f"wrote {rows} relevant pairs for {len(per_job)} of {jobs.height} jobs (median {median} "
        f"per job) to {out_path} in {time.perf_counter() - started:.1f}s"
    )


# --------------------------------------------------------------------------- index


@main.group()
def index() -> None:
    """Build and inspect index folders (index.faiss + metadata.parquet + manifest.json)."""


@index.command("build")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="PATH",
    help="Candidates: files (.parquet, .csv, .jsonl), folders or globs (repeatable).",
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
    engine: str,
    address: str | None,
    workers: int | None,
    gpus_per_worker: float | None,
    cpus_per_worker: float | None,
    stall_timeout: float | None,
    wait: bool,
    progress: bool | None,
) -> None:
    """Embed candidates into a FAISS index folder, streaming in bounded memory.

    \b
    Examples:
      jobmatch index build --input data/candidates.parquet --index indexes/demo
      jobmatch index build --input 'corpus/*.parquet' --index indexes/big \\
          --save-embeddings embeddings/big --factory IVF4096,Flat
      jobmatch index build --embeddings embeddings/big --index indexes/big-hnsw \\
          --factory HNSW32
      jobmatch index build --input 'corpus/*.parquet' --index indexes/big \\
          --save-embeddings embeddings/big --resume        # after a killed build
      jobmatch index build --input 'corpus/*.parquet' --index indexes/big \
          --engine ray --address auto --workers 8 --gpus-per-worker 1 --shards 4
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
    )
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
        rows = validate_inputs(inputs, "candidates", id_col=id_col, text_col=text_col)
        _status(f"validated {rows} candidates")
        manifest = build_index_ray(
            list(inputs),
            index_dir,
            model or default_model(),
            config,
            ray_config,
            validated_rows=rows,
            on_wait=_waiting,
        )
    else:
        rows = validate_inputs(inputs, "candidates", id_col=id_col, text_col=text_col)
        _status(f"validated {rows} candidates")
        encoder = load_encoder(model, backend=backend, quantize=quantize)
        started = time.perf_counter()  # the rate is the build's, not the model load's
        manifest = build_index(list(inputs), index_dir, encoder, config, on_wait=_waiting)
    elapsed = time.perf_counter() - started
    sharded = f", {manifest.shards} shards" if manifest.shards > 1 else ""
    # a rate over fewer than two encoder batches is mostly start-up cost: leave it out
    per_second = manifest.rows / elapsed
    rate = f" ({per_second:,.0f} docs/s)" if per_second >= 10 else f" ({per_second:.2f} docs/s)"
    if manifest.rows < 2 * batch_size or embeddings_dir:
        rate = ""
    _status(
        f"indexed {manifest.rows} candidates ({manifest.dimension}-d, {manifest.factory}{sharded}) "
        f"into {index_dir} in {elapsed:.1f}s{rate}"
    )


@index.command("add")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    metavar="PATH",
    help="Candidates to add or update: files, folders or globs (repeatable).",
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
    progress: bool | None,
) -> None:
    """Upsert candidates by candidate_id: new ones are added, changed ones replaced.

    Unchanged candidates (same content hash) are not re-encoded.

    \b
    Example:
      jobmatch index add --input new_candidates.csv --index indexes/demo
    """
    from jobmatch.encoder import load_encoder
    from jobmatch.index import read_manifest
    from jobmatch.index.lifecycle import upsert
    from jobmatch.io.batches import validate_inputs

    validate_inputs(inputs, "candidates", id_col=id_col, text_col=text_col)
    manifest = read_manifest(index_dir)
    backend, quantize = resolve_backend(backend, quantize, manifest)
    encoder = load_encoder(model or manifest.model, backend=backend, quantize=quantize)
    warn_if_incompatible(manifest, encoder)
    summary = upsert(
        index_dir,
        list(inputs),
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
@wait_option()
def index_remove(index_dir: str, ids_file: str | None, ids: tuple[str, ...], wait: bool) -> None:
    """Remove candidates by id.

    \b
    Examples:
      jobmatch index remove --index indexes/demo c0000012 c0000013
      jobmatch index remove --index indexes/demo --ids leavers.csv
    """
    from jobmatch.index.lifecycle import remove

    wanted = list(ids)
    if ids_file:
        wanted += _read_ids(ids_file)
    if not wanted:
        raise click.UsageError("give ids as arguments or with --ids FILE")
    summary = remove(index_dir, wanted, wait=wait, on_wait=_waiting)
    _status(f"{index_dir}: {summary}")


def _read_ids(path: str) -> list[str]:
    from jobmatch import io, schema
    from jobmatch.errors import InputError

    if path.endswith(".txt"):
        try:
            return [
                line.strip() for line in Path(path).read_text("utf-8").splitlines() if line.strip()
            ]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read ids ({exc})", path=path) from exc
    frame = io.read_table(path, "candidates", columns=())
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


# --------------------------------------------------------------------------- query


def _open_index(
    index_dir: str,
    model: str | None,
    *,
    backend: str | None = None,
    quantize: str | None = None,
    allow_model_mismatch: bool = False,
):
    """Load the encoder (default: the index's own model) and the index, checked against it."""
    from jobmatch.encoder import load_encoder
    from jobmatch.index import read_manifest
    from jobmatch.search import open_index

    manifest = read_manifest(index_dir)
    backend, quantize = resolve_backend(backend, quantize, manifest)
    encoder = load_encoder(model or manifest.model, backend=backend, quantize=quantize)
    warn_if_incompatible(manifest, encoder)
    return open_index(index_dir, encoder=encoder, allow_model_mismatch=allow_model_mismatch)


@main.command()
@click.option(
    "--index", "index_dir", type=click.Path(file_okay=False), required=True, help="Index folder."
)
@click.option("--text", "texts", multiple=True, help="A job description (repeatable).")
@click.option("--jobs", "jobs_path", type=INPUT_FILE, default=None, help="Jobs table.")
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1, max=10_000),
    default=20,
    show_default=True,
    help="Hits per job.",
)
@click.option("--explain", is_flag=True, help="Add the rule explanation of each hit.")
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Rules TOML for --explain (default: the shipped rules).",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "jsonl", "csv", "parquet"]),
    default=None,
    help="Output format (default: table on stdout, else by extension).",
)
@click.option(
    "--out", "out_path", type=TABLE_TYPES, default="-", show_default=True, help="Output file."
)
@click.option("--with-text", is_flag=True, help="Include candidate texts in the output.")
@model_option("Query model; default: the model recorded in the index.")
@backend_options()
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="EXPR",
    help="Metadata filter, e.g. country=Germany, seniority>=3, areas~nlp (repeatable).",
)
@click.option(
    "--nprobe",
    type=click.IntRange(min=1),
    default=None,
    help="IVF lists to visit (default: the manifest's).",
)
@click.option(
    "--ef-search",
    type=click.IntRange(min=1),
    default=None,
    help="HNSW search breadth (default: the manifest's).",
)
@click.option(
    "--allow-model-mismatch",
    is_flag=True,
    help="Expert: query with a model whose fingerprint differs from the index's.",
)
def query(
    index_dir: str,
    texts: tuple[str, ...],
    jobs_path: str | None,
    k: int,
    explain: bool,
    rules_path: str | None,
    out_format: str | None,
    out_path: str,
    with_text: bool,
    model: str | None,
    backend: str | None,
    quantize: str | None,
    filters: tuple[str, ...],
    nprobe: int | None,
    ef_search: int | None,
    allow_model_mismatch: bool,
) -> None:
    """Retrieve the top-k candidates for job descriptions.

    Filters (repeatable, ANDed) run inside the FAISS search, so a query returns k hits
    whenever at least k candidates pass: location=Berlin, Germany | country=Germany |
    seniority>=3 (or >=senior) | areas~nlp (list contains) | remote=true | col!=value.

    \b
    Examples:
      jobmatch query --index indexes/demo --text "Staff backend engineer, Go, Berlin" -k 5
      jobmatch query --index indexes/demo --jobs data/jobs.parquet --explain \\
          --out hits.parquet
      jobmatch query --index indexes/demo --text "NLP researcher" \\
          --filter country=Germany --filter "seniority>=senior" --filter areas~nlp
    """
    from jobmatch import io
    from jobmatch.rules import load_rules
    from jobmatch.search import search, text_jobs

    if bool(texts) == bool(jobs_path):
        raise click.UsageError("give either --text (one or more) or --jobs")
    jobs = io.read_table(jobs_path, "jobs") if jobs_path else text_jobs(texts)
    from jobmatch.index.filters import parse_filter

    parsed = [parse_filter(expression) for expression in filters]
    params = {
        name: value
        for name, value in (("nprobe", nprobe), ("efSearch", ef_search))
        if value is not None
    }
    rule_set = load_rules(rules_path) if explain else None
    encoder, loaded = _open_index(
        index_dir,
        model,
        backend=backend,
        quantize=quantize,
        allow_model_mismatch=allow_model_mismatch,
    )
    hits = search(
        loaded,
        encoder,
        jobs,
        k=k,
        params=params,
        filters=parsed,
        explain=rule_set,
        with_text=with_text,
    )
    fmt = out_format or ("table" if out_path == "-" else io.format_of(out_path))
    if fmt == "table":
        if out_path != "-":
            raise click.UsageError("--format table prints to stdout; use jsonl/csv/parquet files")
        click.echo(format_table(hits))
    else:
        io.write_table(hits, out_path, file_format=fmt)


def format_table(frame) -> str:
    """A readable fixed-width rendering of a polars frame (all rows, lists joined)."""
    import polars as pl

    list_columns = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    shown = frame.with_columns(pl.col(list_columns).list.join(", "))
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        fmt_str_lengths=200,
        tbl_width_chars=250,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        float_precision=4,
        tbl_formatting="ASCII_MARKDOWN",
    ):
        return str(shown)


# --------------------------------------------------------------------------- evaluate


@main.command()
@click.option(
    "--index", "index_dir", type=click.Path(file_okay=False), required=True, help="Index folder."
)
@click.option("--jobs", "jobs_path", type=INPUT_FILE, required=True, help="Jobs table.")
@click.option("--qrels", "qrels_path", type=INPUT_FILE, required=True, help="Graded qrels.")
@click.option("-k", "k", type=click.IntRange(min=1, max=1000), default=20, show_default=True)
@click.option(
    "--baseline",
    "baselines",
    type=click.Choice(["bm25"]),
    multiple=True,
    help="Also score a lexical baseline on the same texts (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--preferences",
    "preferences_path",
    type=INPUT_FILE,
    default=None,
    help="Also report alignment with these judge preferences (pairs of the given jobs).",
)
@model_option("Query model; default: the model recorded in the index.")
@backend_options()
@progress_option()
def evaluate(
    index_dir: str,
    jobs_path: str,
    qrels_path: str,
    k: int,
    baselines: tuple[str, ...],
    as_json: bool,
    preferences_path: str | None,
    model: str | None,
    backend: str | None,
    quantize: str | None,
    progress: bool | None,
) -> None:
    """Score retrieval against graded qrels: nDCG@k, Recall@k, MRR@k, MAP@k, paper nDCG.

    With --preferences, alignment (share of pairs where s(job, chosen) > s(job, rejected))
    is added for the model; pass held-out jobs to score held-out pairs.

    \b
    Example:
      jobmatch evaluate --index indexes/demo --jobs data/jobs.parquet \\
          --qrels data/qrels.parquet --baseline bm25 --preferences data/preferences.parquet
    """
    from jobmatch import io
    from jobmatch.evaluation import evaluate as run_evaluation

    jobs = io.read_table(jobs_path, "jobs")
    qrels = io.read_table(qrels_path, "qrels")
    encoder, loaded = _open_index(index_dir, model, backend=backend, quantize=quantize)
    reports = run_evaluation(
        loaded,
        encoder,
        jobs,
        qrels,
        k=k,
        baselines=baselines,
        qrels_path=qrels_path,
        progress=_show_progress(progress),
    )
    rows = {system: report.as_dict() for system, report in reports.items()}
    if preferences_path:
        from jobmatch.evaluation import preference_alignment

        preferences = io.read_table(preferences_path, "preferences")
        share, pairs = preference_alignment(
            loaded, encoder, jobs, preferences, preferences_path=preferences_path
        )
        rows[encoder.name].update(alignment=share, preference_pairs=pairs)
        for system in rows:
            rows[system].setdefault("alignment", None)
            rows[system].setdefault("preference_pairs", None)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(metrics_table(rows))


def metrics_table(rows: dict[str, dict[str, float | int]]) -> str:
    """Systems as rows, metrics as columns."""
    import polars as pl

    frame = pl.DataFrame([{"system": system, **values} for system, values in rows.items()])
    return format_table(frame)


# --------------------------------------------------------------------------- import


@main.group("import")
def import_group() -> None:
    """Turn foreign training data into jobs, candidates, qrels and preference tables.

    Texts there have no ids, so each gets a stable content-hash id: j (jobs) or c (candidates)
    + the first 16 hex digits of its SHA-256. Re-imports give the same ids, and a text shared
    by several files is one row. Nothing is written unless every input line is valid.

    \b
    Examples:
      jobmatch import rankpo --train train.jsonl --preferences prefs.jsonl --out data/rankpo/
      jobmatch import pairs --pairs matches.csv --out data/pairs/
    """


@import_group.command("rankpo")
@click.option(
    "--train",
    "train_path",
    type=click.Path(dir_okay=False),
    default=None,
    help='RankPO training JSONL: {"query", "positives": [...], "negatives": [...]}.',
)
@click.option(
    "--preferences",
    "preferences_path",
    type=click.Path(dir_okay=False),
    default=None,
    help='RankPO preference JSONL: {"query", "passage1", "passage2", "preferred": "A"|"B"}; '
    'without "preferred", read from "response" ("Preferred: B\\nConfidence score: 65").',
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for jobs, candidates, qrels and preferences .parquet.",
)
def import_rankpo(train_path: str | None, preferences_path: str | None, out_dir: str) -> None:
    """Import RankPO training and/or preference JSONL; give at least one.

    Positives become qrels of relevance 1 (negatives only become candidates: missing pairs
    are relevance 0). Preferences keep (job_id, chosen, rejected, confidence 0..1); "A" means
    passage1 is chosen. qrels.parquet needs --train, preferences.parquet --preferences.

    \b
    Example:
      jobmatch import rankpo --train rankpo/train.jsonl \\
          --preferences rankpo/preferences.jsonl --out data/rankpo/
    """
    from jobmatch.io import importers

    if train_path is None and preferences_path is None:
        raise click.UsageError("give --train, --preferences or both")
    tables = importers.import_rankpo(train_path, preferences_path)
    tables.write(out_dir)
    _status(f"imported {_row_counts(tables.counts())} into {out_dir}")


@import_group.command("pairs")
@click.option(
    "--pairs",
    "pairs_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Table of (resume, jd, label in 0..1): .csv, .parquet or .jsonl.",
)
@click.option("--resume-col", default="resume", show_default=True, help="Resume text column.")
@click.option("--jd-col", default="jd", show_default=True, help="Job description column.")
@click.option("--label-col", default="label", show_default=True, help="Match label column.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for jobs, candidates, pairs and qrels .parquet.",
)
def import_pairs(
    pairs_path: str, resume_col: str, jd_col: str, label_col: str, out_dir: str
) -> None:
    """Import a resume/JD pair table with match labels in [0, 1].

    pairs.parquet keeps every row as (job_id, candidate_id, label). qrels.parquet grades
    each pair as relevance = label x 3 rounded half up (0.5 -> 2, 1.0 -> 3); pairs that
    round to 0 (label < 1/6) are left out, since missing pairs are relevance 0.

    \b
    Example:
      jobmatch import pairs --pairs matches.csv --resume-col resume_text \\
          --jd-col job_text --out data/pairs/
    """
    from jobmatch.io import importers

    tables = importers.import_pairs(
        pairs_path, resume_col=resume_col, jd_col=jd_col, label_col=label_col
    )
    tables.write(out_dir)
    _status(f"imported {_row_counts(tables.counts())} into {out_dir}")


def _row_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{rows} {name}" for name, rows in counts.items())


# --------------------------------------------------------------------------- demo


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="jobmatch-demo",
    show_default=True,
    help="Folder for the demo's data, index and results.",
)
@click.option(
    "--candidates", "n_candidates", type=click.IntRange(min=10), default=2000, show_default=True
)
@click.option("--jobs", "n_jobs", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@model_option()
@progress_option()
def demo(
    out_dir: str,
    n_candidates: int,
    n_jobs: int,
    seed: int,
    model: str | None,
    progress: bool | None,
) -> None:
    """Run the whole pipeline offline: synth -> label -> index -> evaluate -> one query.

    \b
    Example:
      jobmatch demo --out /tmp/jobmatch-demo
    """
    from jobmatch.demo import run_demo
    from jobmatch.schema import JOB_ID, TEXT

    started = time.perf_counter()
    result = run_demo(
        Path(out_dir),
        n_candidates=n_candidates,
        n_jobs=n_jobs,
        seed=seed,
        model=model,
        progress=_show_progress(progress),
        on_step=_status,
    )
    rows = {system: report.as_dict() for system, report in result.reports.items()}
    click.echo("\nRetrieval quality against rule-based graded labels:")
    click.echo(metrics_table(rows))
    job = result.example_job
    click.echo(f"\nExample query, job {job[JOB_ID]}:\n  {job[TEXT]}\n")
    shown = [
        c
        for c in ("rank", "candidate_id", "score", "location", "seniority", "explanation")
        if c in result.example_hits.columns
    ]
    click.echo(format_table(result.example_hits.select(shown)))
    click.echo("\nArtifacts:")
    for name, path in result.paths.items():
        click.echo(f"  {name:<11} {path}")
    steps = ", ".join(f"{name} {secs:.1f}s" for name, secs in result.seconds.items())
    click.echo(f"\nDone in {time.perf_counter() - started:.1f}s ({steps}).")


main.add_command(mine_negatives)
main.add_command(train)
main.add_command(judge)
main.add_command(serve)

if __name__ == "__main__":
    main()
