"""A team's own labels as graded qrels: (job, candidate, outcome) rows -> relevance 0..3.

Recruiting systems export events such as applied, shortlisted, interviewed, hired. Each
outcome maps to a grade through a small TOML table (`[grades]`, outcome = 0..3), or the
default below. A candidate usually has several events for one job (applied, then
shortlisted, then hired): the pair keeps its highest grade. An outcome the mapping does not
name fails naming the file, row and column, so a typo never becomes a silent zero; an
outcome mapped to 0 is kept out of the qrels, as unlisted pairs are relevance 0 already.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import tomllib

from jobmatch import schema
from jobmatch.errors import InputError
from jobmatch.io.readers import DEFAULT_ENCODING, read_raw

DEFAULT_GRADES: dict[str, int] = {
    "hired": 3,
    "offer": 3,
    "interviewed": 2,
    "shortlisted": 2,
    "applied": 1,
    "rejected": 0,
    "withdrawn": 0,
}
"""Outcome -> grade when no mapping file is given; outcomes compare case-insensitively."""


def load_grades(path: str | Path | None) -> dict[str, int]:
    """The outcome mapping of a TOML file's `[grades]` table (None: `DEFAULT_GRADES`)."""
    if path is None:
        return dict(DEFAULT_GRADES)
    name = str(path)
    try:
        config = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({exc})", path=name) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML ({exc})", path=name) from exc
    table = config.get("grades")
    if not isinstance(table, dict) or not table:
        raise InputError("expected a [grades] table of outcome = grade", path=name)
    grades: dict[str, int] = {}
    for outcome, grade in table.items():
        valid = isinstance(grade, int) and not isinstance(grade, bool)
        if not valid or not schema.MIN_RELEVANCE <= grade <= schema.MAX_RELEVANCE:
            raise InputError(
                f"grade of {outcome!r} must be an integer "
                f"{schema.MIN_RELEVANCE}..{schema.MAX_RELEVANCE}, got {grade!r}",
                path=name,
            )
        grades[outcome.strip().lower()] = grade
    return grades


def import_labels(
    path: str | Path,
    grades: dict[str, int],
    *,
    job_col: str = schema.JOB_ID,
    candidate_col: str = schema.CANDIDATE_ID,
    outcome_col: str = "outcome",
    encoding: str = DEFAULT_ENCODING,
) -> pl.DataFrame:
    """Read an outcome table (CSV, Parquet or JSONL; text in `encoding`) into a qrels table.

    Raises:
        InputError: naming the file, the row (line for JSONL) and the column of the first
            missing column, empty id, or outcome the mapping does not know.
    """
    name = str(path)
    strings = {job_col, candidate_col, outcome_col}
    frame, lines = read_raw(path, strings=strings, encoding=encoding)
    for column in (job_col, candidate_col, outcome_col):
        if column not in frame.columns:
            raise InputError("missing column", path=name, column=column)
    if frame.height == 0:
        raise InputError("no rows", path=name)
    known = ", ".join(sorted(grades))
    best: dict[tuple[str, str], int] = {}
    rows = frame.select(job_col, candidate_col, outcome_col).iter_rows()
    for index, (job, candidate, outcome) in enumerate(rows):
        where = {"line": lines[index]} if lines is not None else {"row": index + 1}
        for column, value in ((job_col, job), (candidate_col, candidate)):
            if value is None or not str(value).strip():
                raise InputError("empty id", path=name, column=column, **where)
        grade = grades.get(str(outcome or "").strip().lower())
        if grade is None:
            raise InputError(
                f"unknown outcome {outcome!r} (known: {known}; map it with --grades)",
                path=name,
                column=outcome_col,
                **where,
            )
        key = (str(job).strip(), str(candidate).strip())
        best[key] = max(grade, best.get(key, 0))
    return qrels_frame({key: grade for key, grade in best.items() if grade > 0})


def qrels_frame(grades: dict[tuple[str, str], int]) -> pl.DataFrame:
    """A qrels table from {(job_id, candidate_id): relevance}, in insertion order."""
    return pl.DataFrame(
        {
            schema.JOB_ID: [job for job, _ in grades],
            schema.CANDIDATE_ID: [candidate for _, candidate in grades],
            schema.RELEVANCE: list(grades.values()),
        },
        schema={
            schema.JOB_ID: pl.String,
            schema.CANDIDATE_ID: pl.String,
            schema.RELEVANCE: pl.Int8,
        },
    )
