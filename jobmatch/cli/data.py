"""`jobmatch synth`, `label` and `import`: making and bringing in the tables."""

from __future__ import annotations

import time

import click

from jobmatch.cli.documents import document_options, read_document_inputs, write_skipped
from jobmatch.cli.options import (
    INPUT_FILE,
    TABLE_TYPES,
    encoding_option,
    progress_option,
)
from jobmatch.cli.options import show_progress as _show_progress
from jobmatch.cli.options import status as _status

# --------------------------------------------------------------------------- synth


@click.command()
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
@click.option(
    "--long",
    "long_texts",
    is_flag=True,
    help="Candidates as long resumes of 1,000-2,000 model tokens with the graded facts spread "
    "through the text (same structured fields and jobs as without).",
)
@progress_option()
def synth(
    n_candidates: int,
    n_jobs: int,
    seed: int,
    out_dir: str,
    long_texts: bool,
    progress: bool | None,
) -> None:
    """Write a seeded synthetic corpus of candidates and jobs.

    \b
    Examples:
      jobmatch synth --candidates 100000 --jobs 1000 --seed 7 --out data/
      jobmatch synth --candidates 2000 --jobs 50 --long --out data/long/
    """
    from jobmatch.synth import write_corpus

    started = time.perf_counter()
    paths = write_corpus(
        out_dir,
        n_candidates=n_candidates,
        n_jobs=n_jobs,
        seed=seed,
        style="long" if long_texts else "short",
        progress=_show_progress(progress),
    )
    _status(
        f"wrote {n_candidates} candidates to {paths['candidates']} and {n_jobs} jobs to "
        f"{paths['jobs']} in {time.perf_counter() - started:.1f}s"
    )


# --------------------------------------------------------------------------- label


@click.command()
@click.option("--jobs", "jobs_path", type=INPUT_FILE, required=True, help="Jobs table.")
@click.option(
    "--candidates", "candidates_path", type=INPUT_FILE, required=True, help="Candidates table."
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Rules TOML (default: the one shipped with jobmatch); [[column]] entries grade on "
    "your own columns.",
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
@encoding_option()
def label(
    jobs_path: str,
    candidates_path: str,
    rules_path: str | None,
    out_path: str,
    block_size: int,
    encoding: str,
) -> None:
    """Grade every (job, candidate) pair with the matching rules; write relevance > 0 rows.

    Only the ids and the columns the rules read are loaded. A rules TOML with [[column]]
    entries grades on any column of your tables: equal values (category, occupation code),
    shared list items (skills; a CSV cell "python;sql"), numeric gaps (years of experience).
    A column a rule reads that a table lacks is an error naming the file and the column.

    \b
    Examples:
      jobmatch label --jobs data/jobs.parquet --candidates data/candidates.parquet \\
          --out data/qrels.parquet
      jobmatch label --jobs team/jobs.csv --candidates team/candidates.csv \\
          --rules team/rules.toml --out team/qrels.parquet
    """
    from jobmatch import io, rules, schema

    rule_set = rules.load_rules(rules_path)
    jobs = io.read_table(jobs_path, "jobs", columns=rule_set.job_columns(), encoding=encoding)
    candidates = io.read_table(
        candidates_path, "candidates", columns=rule_set.candidate_columns(), encoding=encoding
    )
    rules.require_rule_fields(jobs, rule_set, side="jobs", path=jobs_path)
    rules.require_rule_fields(candidates, rule_set, side="candidates", path=candidates_path)
    per_job: list[int] = []

    def counted(frames):
        for frame in frames:
            per_job.extend(frame.group_by(schema.JOB_ID).len()["len"].to_list())
            yield frame

    started = time.perf_counter()
    blocks = rules.iter_labels(
        jobs,
        candidates,
        rule_set,
        block_size=block_size,
        jobs_path=jobs_path,
        candidates_path=candidates_path,
    )
    rows = io.write_frames(counted(blocks), out_path)
    median = sorted(per_job)[len(per_job) // 2] if per_job else 0
    _status(
        f"wrote {rows} relevant pairs for {len(per_job)} of {jobs.height} jobs (median {median} "
        f"per job) to {out_path} in {time.perf_counter() - started:.1f}s"
    )


# --------------------------------------------------------------------------- import


@click.group("import")
def import_group() -> None:
    """Turn foreign training data into jobs, candidates, qrels and preference tables.

    Texts there have no ids, so each gets a stable content-hash id: j (jobs) or c (candidates)
    + the first 16 hex digits of its SHA-256. Re-imports give the same ids, and a text shared
    by several files is one row. Nothing is written unless every input line is valid.

    `import documents` reads PDF, DOCX, HTML, .txt and .md files instead; their ids come
    from the file paths.

    \b
    Examples:
      jobmatch import rankpo --train train.jsonl --preferences prefs.jsonl --out data/rankpo/
      jobmatch import pairs --pairs matches.csv --out data/pairs/
      jobmatch import documents --input resumes/ --out data/candidates.parquet
      jobmatch import labels --input ats_export.csv --out data/qrels.parquet
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
@encoding_option()
def import_rankpo(
    train_path: str | None, preferences_path: str | None, out_dir: str, encoding: str
) -> None:
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
    tables = importers.import_rankpo(train_path, preferences_path, encoding=encoding)
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
@encoding_option()
def import_pairs(
    pairs_path: str, resume_col: str, jd_col: str, label_col: str, out_dir: str, encoding: str
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
        pairs_path, resume_col=resume_col, jd_col=jd_col, label_col=label_col, encoding=encoding
    )
    tables.write(out_dir)
    _status(f"imported {_row_counts(tables.counts())} into {out_dir}")


@import_group.command("labels")
@click.option(
    "--input",
    "input_path",
    type=INPUT_FILE,
    required=True,
    help="A team's outcome events: (job, candidate, outcome) rows, .csv, .parquet or .jsonl.",
)
@click.option(
    "--grades",
    "grades_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML with a [grades] table of outcome = 0..3 (default: hired/offer 3, "
    "interviewed/shortlisted 2, applied 1, rejected/withdrawn 0).",
)
@click.option("--job-col", default="job_id", show_default=True, help="Job id column.")
@click.option("--candidate-col", default="candidate_id", show_default=True)
@click.option("--outcome-col", default="outcome", show_default=True)
@click.option("--out", "out_path", type=TABLE_TYPES, required=True, help="qrels output table.")
@encoding_option()
def import_labels(
    input_path: str,
    grades_path: str | None,
    job_col: str,
    candidate_col: str,
    outcome_col: str,
    out_path: str,
    encoding: str,
) -> None:
    """Grade a team's own outcomes (applied, shortlisted, hired, ...) into qrels.

    A pair with several events keeps its highest grade; outcomes graded 0 are left out, as
    unlisted pairs are relevance 0. An outcome the mapping does not name is an error naming
    its row, so a typo never becomes a silent zero. The qrels go wherever rule labels go
    (`train contrastive --qrels`, `evaluate --qrels`, `mine-negatives`).

    \b
    Examples:
      jobmatch import labels --input ats_export.csv --out data/qrels.parquet
      jobmatch import labels --input events.jsonl --grades grades.toml \\
          --job-col requisition --candidate-col applicant --outcome-col stage \\
          --out data/qrels.parquet
    """
    from jobmatch import io, schema
    from jobmatch.io.labels import import_labels as read_labels
    from jobmatch.io.labels import load_grades

    qrels = read_labels(
        input_path,
        load_grades(grades_path),
        job_col=job_col,
        candidate_col=candidate_col,
        outcome_col=outcome_col,
        encoding=encoding,
    )
    io.write_table(qrels, out_path)
    counts = qrels.group_by(schema.RELEVANCE).len().sort(schema.RELEVANCE)
    grades = ", ".join(f"{n} of grade {g}" for g, n in counts.iter_rows())
    _status(f"wrote {qrels.height} labels ({grades or 'none relevant'}) to {out_path}")


@import_group.command("documents")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    metavar="PATH_OR_GLOB",
    help="A file, a folder (every .pdf .docx .html .htm .txt .md below it) or a quoted glob "
    "('resumes/**/*.pdf'); repeat for more.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Output table (.parquet, .csv or .jsonl); skip mode writes skipped.jsonl beside it.",
)
@click.option(
    "--kind",
    type=click.Choice(["candidates", "jobs"]),
    default="candidates",
    show_default=True,
    help="Rows are candidates (candidate_id) or jobs (job_id).",
)
@document_options()
@encoding_option()
@progress_option()
def import_documents(
    inputs: tuple[str, ...],
    out_path: str,
    kind: str,
    id_from: str,
    on_unreadable: str,
    workers: int | None,
    encoding: str,
    progress: bool | None,
) -> None:
    """Turn resume (or job description) files into a candidates (or jobs) table.

    Each file's text is extracted (PDF with pypdf, DOCX with python-docx, HTML without
    scripts, styles and menus, .txt and .md in --encoding), then cleaned: Unicode NFKC,
    words broken at line ends joined, running headers/footers and page numbers dropped, one
    newline per line. Metadata columns: source_path, format, pages, bytes, content_sha256. Rows are
    sorted by id. Nothing is written unless the run succeeds.

    \b
    Examples:
      jobmatch import documents --input resumes/ --out data/candidates.parquet
      jobmatch import documents --input 'resumes/**/*.pdf' --input extra/cv.docx \\
          --id-from stem --on-unreadable skip --out data/candidates.parquet
      jobmatch import documents --input postings/ --kind jobs --out data/jobs.parquet
    """
    from jobmatch import io

    io.format_of(out_path)  # an unknown output type fails before any file is read
    started = time.perf_counter()
    table = read_document_inputs(
        inputs,
        kind=kind,
        id_from=id_from,
        on_unreadable=on_unreadable,
        workers=workers,
        progress=_show_progress(progress),
        encoding=encoding,
    )
    frame = io.validate(table.frame, kind, path=out_path)  # type: ignore[arg-type]
    io.write_table(frame, out_path)
    elapsed = time.perf_counter() - started
    _status(
        f"wrote {frame.height} {kind} from {table.files} files to {out_path} in {elapsed:.1f}s "
        f"({table.files / max(elapsed, 1e-9):.1f} files/s)"
    )
    if on_unreadable == "skip":
        write_skipped(table, out_path)


def _row_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{rows} {name}" for name, rows in counts.items())
