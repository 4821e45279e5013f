"""The `jobmatch` command line: the only module that prints or exits.

Heavy libraries (torch, sentence-transformers, faiss) are imported inside commands so that
`jobmatch --help` stays fast. Any JobmatchError becomes one line `error: ...` and exit 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from jobmatch.errors import JobmatchError

TABLE_TYPES = click.Path(exists=False, dir_okay=False, allow_dash=True)
INPUT_FILE = click.Path(dir_okay=False, allow_dash=True)


class UserError(click.ClickException):
    """A JobmatchError shown as one line `error: ...` with exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class JobmatchGroup(click.Group):
    """Turns domain errors raised by any sub-command into UserError."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JobmatchError as exc:
            raise UserError(str(exc)) from exc


def _status(message: str) -> None:
    click.echo(message, err=True)


def model_option(help_text: str = "sentence-transformers model id or folder."):
    return click.option(
        "--model",
        "model",
        envvar="JOBMATCH_MODEL",
        default=None,
        metavar="MODEL",
        help=f"{help_text} Default: the bundled all-MiniLM-L6-v2 (offline). Env: JOBMATCH_MODEL.",
    )


def progress_option():
    return click.option(
        "--progress/--no-progress",
        default=None,
        help="Show progress bars (default: when stderr is a terminal).",
    )


def _show_progress(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else flag


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
    "input_path",
    type=INPUT_FILE,
    required=True,
    help="Candidates table (.parquet, .csv, .jsonl).",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Index folder to write (replaced atomically if it exists).",
)
@model_option()
@click.option("--id-col", default=None, help="Id column of the input, if not candidate_id.")
@click.option("--text-col", default=None, help="Text column of the input, if not text.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@progress_option()
def index_build(
    input_path: str,
    index_dir: str,
    model: str | None,
    id_col: str | None,
    text_col: str | None,
    batch_size: int,
    progress: bool | None,
) -> None:
    """Embed a candidate table into an exact inner-product FAISS index.

    \b
    Example:
      jobmatch index build --input data/candidates.parquet --index indexes/demo
    """
    from jobmatch import io
    from jobmatch.encoder import load_encoder
    from jobmatch.index import build_index

    candidates = io.read_table(input_path, "candidates", id_col=id_col, text_col=text_col)
    encoder = load_encoder(model)
    started = time.perf_counter()
    manifest = build_index(
        candidates, index_dir, encoder, batch_size=batch_size, progress=_show_progress(progress)
    )
    elapsed = time.perf_counter() - started
    _status(
        f"indexed {manifest.rows} candidates ({manifest.dimension}-d, {manifest.factory}) "
        f"into {index_dir} in {elapsed:.1f}s ({manifest.rows / max(elapsed, 1e-9):.0f} docs/s)"
    )


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


def _open_index(index_dir: str, model: str | None):
    """Load the encoder (default: the index's own model) and the index, checked against it."""
    from jobmatch.encoder import load_encoder
    from jobmatch.index import load_index, read_manifest

    manifest = read_manifest(index_dir)
    encoder = load_encoder(model or manifest.model)
    return encoder, load_index(index_dir, fingerprint=encoder.fingerprint)


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
) -> None:
    """Retrieve the top-k candidates for job descriptions.

    \b
    Examples:
      jobmatch query --index indexes/demo --text "Staff backend engineer, Go, Berlin" -k 5
      jobmatch query --index indexes/demo --jobs data/jobs.parquet --explain \\
          --out hits.parquet
    """
    import polars as pl

    from jobmatch import io, schema
    from jobmatch.rules import load_rules
    from jobmatch.search import search

    if bool(texts) == bool(jobs_path):
        raise click.UsageError("give either --text (one or more) or --jobs")
    if jobs_path:
        jobs = io.read_table(jobs_path, "jobs")
    else:
        jobs = pl.DataFrame(
            {schema.JOB_ID: [f"q{i + 1}" for i in range(len(texts))], schema.TEXT: list(texts)}
        )
    rule_set = load_rules(rules_path) if explain else None
    encoder, loaded = _open_index(index_dir, model)
    hits = search(loaded, encoder, jobs, k=k, explain=rule_set, with_text=with_text)
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
@model_option("Query model; default: the model recorded in the index.")
@progress_option()
def evaluate(
    index_dir: str,
    jobs_path: str,
    qrels_path: str,
    k: int,
    baselines: tuple[str, ...],
    as_json: bool,
    model: str | None,
    progress: bool | None,
) -> None:
    """Score retrieval against graded qrels: nDCG@k, Recall@k, MRR@k, MAP@k, paper nDCG.

    \b
    Example:
      jobmatch evaluate --index indexes/demo --jobs data/jobs.parquet \\
          --qrels data/qrels.parquet --baseline bm25
    """
    from jobmatch import io
    from jobmatch.evaluation import evaluate as run_evaluation

    jobs = io.read_table(jobs_path, "jobs")
    qrels = io.read_table(qrels_path, "qrels")
    encoder, loaded = _open_index(index_dir, model)
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


if __name__ == "__main__":
    main()
