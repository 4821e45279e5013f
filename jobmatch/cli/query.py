"""`jobmatch query`, `evaluate` and `demo`: retrieval, its scores, and the whole tour."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from jobmatch.cli.index import aggregate_option
from jobmatch.cli.options import (
    INPUT_FILE,
    TABLE_TYPES,
    backend_options,
    encoding_option,
    model_option,
    progress_option,
    resolve_backend,
    warn_if_incompatible,
)
from jobmatch.cli.options import show_progress as _show_progress
from jobmatch.cli.options import status as _status

AGGREGATE_HELP = (
    "How an index built with --chunking passages scores a candidate from its passages: "
    "first, max (best passage), mean (of passage scores), first+max (half each).  "
    "[default: the index's]"
)

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


@click.command()
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
@aggregate_option(AGGREGATE_HELP)
@click.option(
    "--allow-model-mismatch",
    is_flag=True,
    help="Expert: query with a model whose fingerprint differs from the index's.",
)
@encoding_option()
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
    aggregate: str | None,
    allow_model_mismatch: bool,
    encoding: str,
) -> None:
    """Retrieve the top-k candidates for job descriptions.

    Filters (repeatable, ANDed) run inside the FAISS search, so a query returns k hits
    whenever at least k candidates pass: location=Berlin, Germany | country=Germany |
    seniority>=3 (or >=senior) | areas~nlp (list contains) | remote=true | col!=value.
    An index of passages (--chunking passages) returns k distinct candidates, each scored
    by --aggregate over its passages.

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
    jobs = io.read_table(jobs_path, "jobs", encoding=encoding) if jobs_path else text_jobs(texts)
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
        aggregate=aggregate,
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


@click.command()
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
@aggregate_option(AGGREGATE_HELP)
@encoding_option()
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
    aggregate: str | None,
    encoding: str,
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

    jobs = io.read_table(jobs_path, "jobs", encoding=encoding)
    qrels = io.read_table(qrels_path, "qrels", encoding=encoding)
    encoder, loaded = _open_index(index_dir, model, backend=backend, quantize=quantize)
    reports = run_evaluation(
        loaded,
        encoder,
        jobs,
        qrels,
        k=k,
        baselines=baselines,
        aggregate=aggregate,
        qrels_path=qrels_path,
        progress=_show_progress(progress),
    )
    rows = {system: report.as_dict() for system, report in reports.items()}
    if preferences_path:
        from jobmatch.evaluation import preference_alignment

        preferences = io.read_table(preferences_path, "preferences", encoding=encoding)
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


# --------------------------------------------------------------------------- demo


@click.command()
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
