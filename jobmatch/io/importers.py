"""Bring foreign training data into jobmatch tables: RankPO JSONL and resume/JD pair tables.

These formats carry bare texts without ids, so every text gets a content-hash id
(`text_id`): re-importing the same data gives the same ids, and a passage that appears in
two files becomes one candidate. Every input is parsed and checked before anything is
written, so a bad line leaves no partial output behind.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, NoReturn

import polars as pl

from jobmatch import io, schema
from jobmatch.errors import InputError
from jobmatch.io.jsonl import describe_json
from jobmatch.io.labels import qrels_frame
from jobmatch.io.readers import DEFAULT_ENCODING

TextKind = Literal["job", "candidate"]

# 16 hex digits = 64 bits: a collision among even a billion texts has odds below 1 in 30.
ID_HEX_DIGITS = 16
_ID_PREFIX: dict[TextKind, str] = {"job": "j", "candidate": "c"}

# "Preferred: B", "**Preferred:** a", "preferred passage : A" -- the last one in a response wins.
_PREFERRED = re.compile(
    r"\bpreferred(?:\s+passage)?[\s*_]*:[\s*_]*(?:passage\s*)?([AB])\b", re.IGNORECASE
)
_CONFIDENCE = re.compile(r"\bconfidence(?:\s+score)?[\s*_]*:[\s*_]*(\d+(?:\.\d+)?)", re.IGNORECASE)
MAX_CONFIDENCE = 100.0  # RankPO's confidence scale; stored divided by it, as 0..1


def text_id(text: str, kind: TextKind) -> str:
    """Stable id of a text: `j` (job) or `c` (candidate) + the first 16 hex of its SHA-256."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _ID_PREFIX[kind] + digest[:ID_HEX_DIGITS]


def relevance_of_label(label: float) -> int:
    """Graded relevance 0..3 of a 0..1 match label: label x 3 rounded half up (0.5 -> 2)."""
    return math.floor(label * schema.MAX_RELEVANCE + 0.5)


@dataclass(frozen=True)
class ImportedTables:
    """Tables made by an import; the optional ones are None when the input has no such rows."""

    jobs: pl.DataFrame
    candidates: pl.DataFrame
    qrels: pl.DataFrame | None = None
    preferences: pl.DataFrame | None = None
    pairs: pl.DataFrame | None = None

    def tables(self) -> dict[str, pl.DataFrame]:
        """The tables that have rows, by name (also their file stem)."""
        present = {field.name: getattr(self, field.name) for field in fields(self)}
        return {
            name: frame for name, frame in present.items() if frame is not None and frame.height
        }

    def counts(self) -> dict[str, int]:
        """Rows per written table, for summaries."""
        return {name: frame.height for name, frame in self.tables().items()}

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write `<name>.parquet` per table into `out_dir`, each atomically; returns the paths.

        Tables with a contract are validated first, so a broken table stops the import
        before any file is written.
        """
        out = Path(out_dir)
        tables = self.tables()
        for name, frame in tables.items():
            if name in schema.SPECS:
                io.validate(frame, name, path=str(out / f"{name}.parquet"))  # type: ignore[arg-type]
        written = {}
        for name, frame in tables.items():
            written[name] = out / f"{name}.parquet"
            io.write_table(frame, written[name])
        return written


# --------------------------------------------------------------------------- RankPO


def import_rankpo(
    train: str | Path | None = None,
    preferences: str | Path | None = None,
    *,
    encoding: str = DEFAULT_ENCODING,
) -> ImportedTables:
    """Read RankPO training and/or preference JSONL into jobs, candidates, qrels, preferences.

    Training rows `{"query", "positives": [..], "negatives": [..]}` give qrels of relevance 1
    for the positives; negatives only become candidates (missing pairs are relevance 0), and
    a passage positive for a query in any row stays positive. Preference rows
    `{"query", "passage1", "passage2", "preferred": "A"|"B"}` give (job_id, chosen, rejected,
    confidence); "A" means passage1 is chosen. When `preferred` is missing or empty it is read
    from the LLM judge's `response` ("...Preferred: B\\nConfidence score: 65"). Confidence
    comes from a `confidence` field or the response, on RankPO's 0-100 scale, stored as 0..1.
    Both files are read in `encoding` (default UTF-8).

    Raises:
        InputError: naming the file, the line and the field of the first bad row.
        ValueError: when neither file is given.
    """
    if train is None and preferences is None:
        raise ValueError("give a training file, a preference file, or both")
    jobs = _Texts("job")
    candidates = _Texts("candidate")
    qrels = None if train is None else _read_train(Path(train), jobs, candidates, encoding)
    prefs = (
        None
        if preferences is None
        else _read_preferences(Path(preferences), jobs, candidates, encoding)
    )
    return ImportedTables(
        jobs=jobs.frame(), candidates=candidates.frame(), qrels=qrels, preferences=prefs
    )


def _read_train(path: Path, jobs: _Texts, candidates: _Texts, encoding: str) -> pl.DataFrame:
    grades: dict[tuple[str, str], int] = {}
    for row in _json_rows(path, encoding):
        job = jobs.add(row.text("query"), row)
        positives = row.texts("positives", required=True)
        negatives = row.texts("negatives", required=False)
        for passage in positives:
            grades[job, candidates.add(passage, row)] = 1
        for passage in negatives:
            candidates.add(passage, row)
    return qrels_frame(grades)


def _read_preferences(path: Path, jobs: _Texts, candidates: _Texts, encoding: str) -> pl.DataFrame:
    rows: list[tuple[str, str, str, float | None]] = []
    for row in _json_rows(path, encoding):
        job = jobs.add(row.text("query"), row)
        first, second = row.text("passage1"), row.text("passage2")
        if first == second:
            row.fail("same text as passage1; a preference needs two different passages", "passage2")
        preferred = _preferred(row)
        confidence = _confidence(row)
        first_id, second_id = candidates.add(first, row), candidates.add(second, row)
        chosen, rejected = (first_id, second_id) if preferred == "A" else (second_id, first_id)
        rows.append((job, chosen, rejected, confidence))
    return pl.DataFrame(
        rows,
        schema={
            schema.JOB_ID: pl.String,
            schema.CHOSEN: pl.String,
            schema.REJECTED: pl.String,
            schema.CONFIDENCE: pl.Float32,
        },
        orient="row",
    )


def _preferred(row: _JsonRow) -> Literal["A", "B"]:
    """The `preferred` field, or the last "Preferred: A|B" in the judge's response."""
    value = row.record.get("preferred")
    if isinstance(value, str):
        value = value.strip() or None
    if value is not None:
        letter = value.upper() if isinstance(value, str) else None
        if letter not in ("A", "B"):
            row.fail(f"expected 'A' or 'B', got {describe_json(value)}", "preferred")
        return letter  # type: ignore[return-value]
    response = row.record.get("response")
    if response is None:
        row.fail("missing or empty, and no 'response' to read it from", "preferred")
    if not isinstance(response, str):
        row.fail(f"expected a string, got {describe_json(response)}", "response")
    found = _PREFERRED.findall(response)
    if not found:
        row.fail("missing or empty, and the response has no 'Preferred: A' or 'B'", "preferred")
    return found[-1].upper()


def _confidence(row: _JsonRow) -> float | None:
    """The `confidence` field, else the last "Confidence score: N" of the response; 0..1."""
    value = row.record.get("confidence")
    column = "confidence"
    if value is None:
        response = row.record.get("response")
        found = _CONFIDENCE.findall(response) if isinstance(response, str) else []
        if not found:
            return None
        value, column = found[-1], "response"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        row.fail(f"expected a number 0..100, got {describe_json(value)}", column)
    try:
        number = float(value.strip().rstrip("%")) if isinstance(value, str) else float(value)
    except ValueError:
        row.fail(f"expected a number 0..100, got {value!r}", column)
    if not 0.0 <= number <= MAX_CONFIDENCE:
        row.fail(f"confidence {value!r} outside 0..100", column)
    return number / MAX_CONFIDENCE


# --------------------------------------------------------------------------- pair tables


def import_pairs(
    path: str | Path,
    *,
    resume_col: str = "resume",
    jd_col: str = "jd",
    label_col: str = "label",
    encoding: str = DEFAULT_ENCODING,
) -> ImportedTables:
    """Read a (resume, jd, label) table -- CSV, Parquet or JSONL -- into jobmatch tables.

    Every input row becomes a `pairs` row (job_id, candidate_id, label float32), so training
    sees the data as given. `qrels` grade each pair as relevance = label x 3 rounded half up
    (0.5 -> 2, 1.0 -> 3); pairs that round to 0 (label < 1/6) are left out, as missing pairs
    are relevance 0, and a pair listed twice keeps its highest grade. CSV and JSONL are read
    in `encoding` (default UTF-8; e.g. "cp949" for a legacy Korean export).

    Raises:
        InputError: naming the file, the row (CSV, Parquet; 1-based data rows) or line (JSONL)
            and the column of the first bad value.
    """
    source = Path(path)
    name = str(source)
    frame, lines = io.read_raw(source, encoding=encoding)  # same decoding and errors as read_table
    for column in (resume_col, jd_col, label_col):
        if column not in frame.columns:
            raise InputError("missing column", path=name, column=column)
    if frame.height == 0:
        raise InputError("no rows", path=name)

    def cell(convert, value: Any, index: int, column: str):
        try:
            return convert(value)
        except ValueError as exc:
            where = {"line": lines[index]} if lines is not None else {"row": index + 1}
            raise InputError(str(exc), path=name, column=column, **where) from None

    jobs, candidates = _Texts("job"), _Texts("candidate")
    job_ids, candidate_ids, labels = [], [], []
    grades: dict[tuple[str, str], int] = {}
    columns = (frame[resume_col].to_list(), frame[jd_col].to_list(), frame[label_col].to_list())
    for index, (raw_resume, raw_jd, raw_label) in enumerate(zip(*columns, strict=True)):
        resume = cell(_pair_text, raw_resume, index, resume_col)
        jd = cell(_pair_text, raw_jd, index, jd_col)
        label = cell(_pair_label, raw_label, index, label_col)
        candidate = candidates.add(resume)
        job = jobs.add(jd)
        job_ids.append(job)
        candidate_ids.append(candidate)
        labels.append(label)
        grade = relevance_of_label(label)
        if grade > 0:
            grades[job, candidate] = max(grade, grades.get((job, candidate), 0))
    pairs = pl.DataFrame(
        {schema.JOB_ID: job_ids, schema.CANDIDATE_ID: candidate_ids, schema.LABEL: labels},
        schema={schema.JOB_ID: pl.String, schema.CANDIDATE_ID: pl.String, schema.LABEL: pl.Float32},
    )
    qrels = qrels_frame(grades)
    return ImportedTables(
        jobs=jobs.frame(),
        candidates=candidates.frame(),
        qrels=qrels if qrels.height else None,
        pairs=pairs,
    )


def _pair_text(value: Any) -> str:
    """A non-empty text cell; ValueError says what is wrong with it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("empty text")
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


def _pair_label(value: Any) -> float:
    """A label cell in 0..1 (number or numeric text); ValueError says what is wrong with it."""
    if value is None:
        raise ValueError("missing label")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        label = float(value)
    except ValueError:
        raise ValueError(f"expected a number, got {value!r}") from None
    if not 0.0 <= label <= 1.0:  # also rejects NaN
        raise ValueError(f"label {value!r} outside 0..1")
    return label


# --------------------------------------------------------------------------- shared helpers


class _Texts:
    """Distinct texts of one kind in first-seen order, keyed by their content id."""

    def __init__(self, kind: TextKind) -> None:
        self.kind = kind
        self.by_id: dict[str, str] = {}

    def add(self, text: str, row: _JsonRow | None = None) -> str:
        key = text_id(text, self.kind)
        if self.by_id.setdefault(key, text) != text:  # 64-bit hash collision: never silent
            message = f"two different texts hash to id {key}"
            if row is None:
                raise InputError(message)
            row.fail(message, None)
        return key

    def frame(self) -> pl.DataFrame:
        id_column = schema.JOB_ID if self.kind == "job" else schema.CANDIDATE_ID
        return pl.DataFrame(
            {id_column: list(self.by_id), schema.TEXT: list(self.by_id.values())},
            schema={id_column: pl.String, schema.TEXT: pl.String},
        )


@dataclass(frozen=True)
class _JsonRow:
    """One JSON object with its file and line, so every field error can name both."""

    record: dict[str, Any]
    path: str
    line: int

    def fail(self, message: str, column: str | None) -> NoReturn:
        raise InputError(message, path=self.path, line=self.line, column=column)

    def text(self, key: str) -> str:
        """A required non-empty string field."""
        if key not in self.record:
            self.fail("missing field", key)
        value = self.record[key]
        if value is not None and not isinstance(value, str):
            self.fail(f"expected a string, got {describe_json(value)}", key)
        if value is None or not value.strip():
            self.fail("empty text", key)
        return value

    def texts(self, key: str, *, required: bool) -> list[str]:
        """A list of non-empty strings; a required list must hold at least one."""
        value = self.record.get(key)
        if value is None:
            if required:
                self.fail("missing field", key)
            return []
        if not isinstance(value, list):
            self.fail(f"expected a list of strings, got {describe_json(value)}", key)
        if required and not value:
            self.fail("empty list; expected at least one passage", key)
        for position, item in enumerate(value):
            if not isinstance(item, str):
                self.fail(f"item {position}: expected a string, got {describe_json(item)}", key)
            if not item.strip():
                self.fail(f"item {position}: empty text", key)
        return value


def _json_rows(path: Path, encoding: str) -> Iterator[_JsonRow]:
    """JSON objects of a JSONL file with their 1-based line numbers; blank lines skipped."""
    name = str(path)
    if not path.is_file():
        raise InputError("file not found", path=name)
    text = io.decode_text(path.read_bytes(), name, csv_header=False, encoding=encoding)
    rows = 0
    for line_no, record in io.json_objects(io.split_lines(text), name):
        rows += 1
        yield _JsonRow(record, name, line_no)
    if rows == 0:
        raise InputError("no rows", path=name)
