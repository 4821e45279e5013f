"""Read jobmatch tables from Parquet, CSV or JSONL, chosen by file extension.

Reading validates against the contracts of `schema.py` (see `validation`) and converts
columns to their Arrow types, so a bad file fails here with the file, line/row and column
named, not deep inside a model or an index.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io as _io
import json
import sys
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Literal

import polars as pl

from jobmatch import schema
from jobmatch.errors import InputError, SchemaError
from jobmatch.io.jsonl import parse_json_lines, split_lines
from jobmatch.io.validation import column_renames, validate

FileFormat = Literal["parquet", "csv", "jsonl"]

_EXTENSIONS: dict[str, FileFormat] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
STDIO = "-"
DEFAULT_ENCODING = "utf-8"
"""Text encoding of CSV and JSONL files unless told otherwise; Parquet is always UTF-8."""
ENCODING_HINT = "pass --encoding, e.g. --encoding cp949"


def format_of(path: str | Path, *, default: FileFormat | None = None) -> FileFormat:
    """File format from the extension; `-` (stdin/stdout) uses `default` or JSONL."""
    if str(path) == STDIO:
        return default or "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in _EXTENSIONS:
        if default is not None:
            return default
        known = ", ".join(sorted(_EXTENSIONS))
        raise InputError(
            f"unknown file type {suffix or '(none)'}; use one of {known}", path=str(path)
        )
    return _EXTENSIONS[suffix]


def read_table(
    path: str | Path,
    kind: schema.TableKind,
    *,
    id_col: str | None = None,
    text_col: str | None = None,
    file_format: FileFormat | None = None,
    columns: Sequence[str] | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> pl.DataFrame:
    """Read and validate a candidates, jobs or qrels table.

    Args:
        path: file path, or `-` for stdin.
        kind: which contract the table must follow.
        id_col: name of the id column in the file when it is not the contract's name.
        text_col: name of the text column in the file when it is not `text`.
        file_format: overrides the format implied by the extension.
        columns: read only the id column and these contract columns (Parquet reads no other
            column from disk), e.g. the rule fields of a million candidates without their text.
        encoding: text encoding of a CSV or JSONL file (a Python codec name: utf-8, cp949,
            euc-kr, shift_jis, ...). UTF-8 may start with a byte-order mark.

    Raises:
        InputError: naming the file, the line (JSONL) or row (CSV, Parquet) and the column;
            or an unknown encoding.
    """
    name = "<stdin>" if str(path) == STDIO else str(path)
    fmt = file_format or format_of(path)
    spec = schema.SPECS[kind]
    renames = column_renames(kind, id_col=id_col, text_col=text_col)
    wanted = keep = None
    if columns is not None:
        keep = [spec.id_column, *columns] if spec.id_column else list(columns)
        source_names = {v: k for k, v in renames.items()}
        wanted = [source_names.get(c, c) for c in dict.fromkeys(keep)]
    frame, lines = read_raw(
        path,
        file_format=fmt,
        columns=wanted,
        strings=schema.STRING_COLUMNS | set(renames),
        encoding=encoding,
    )
    for source in renames:
        if source not in frame.columns:
            raise SchemaError("missing column", path=name, column=source)
    if wanted is not None:
        frame = frame.select([c for c in wanted if c in frame.columns])
    frame = frame.rename(renames)
    required = None if keep is None else [c for c in spec.required if c in keep]
    return validate(frame, kind, path=name, line_numbers=lines, renamed=renames, required=required)


def read_raw(
    path: str | Path,
    *,
    file_format: FileFormat | None = None,
    columns: Sequence[str] | None = None,
    strings: Collection[str] = schema.STRING_COLUMNS,
    encoding: str = DEFAULT_ENCODING,
) -> tuple[pl.DataFrame, list[int] | None]:
    """A table's columns as stored (CSV cells as strings), before contract validation.

    Returns the frame and, for JSONL, the file line of each row (None for other formats).
    `columns` limits a Parquet read to these columns; `strings` names the JSON keys whose
    values must all be strings (ids and texts: a number there fails, naming the line);
    `encoding` is the text encoding of CSV and JSONL (see `read_table`).
    """
    check_encoding(encoding)
    name = "<stdin>" if str(path) == STDIO else str(path)
    if str(path) != STDIO:
        if Path(path).is_dir():
            raise InputError("is a folder, expected a file", path=name)
        if not Path(path).is_file():
            raise InputError("file not found", path=name)
        if Path(path).stat().st_size == 0:
            raise InputError("empty file", path=name)
    fmt = file_format or format_of(path)
    if fmt == "parquet":
        return _read_parquet(path, name, None if columns is None else list(columns)), None
    if fmt == "csv":
        return _read_csv(_read_bytes(path), name, encoding), None
    return _read_jsonl(_read_bytes(path), name, strings=strings, encoding=encoding)


def _read_bytes(path: str | Path) -> bytes:
    if str(path) == STDIO:
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def _read_parquet(path: str | Path, name: str, columns: list[str] | None = None) -> pl.DataFrame:
    source = _io.BytesIO(_read_bytes(path)) if str(path) == STDIO else path
    try:
        if columns is not None:
            present = pl.read_parquet_schema(source)
            columns = [c for c in columns if c in present]
        return pl.read_parquet(source, columns=columns)
    except Exception as exc:  # polars raises several types for corrupt files
        raise InputError(f"not a readable Parquet file ({_first_line(exc)})", path=name) from exc


def check_encoding(encoding: str) -> str:
    """The canonical name of a text codec ("UTF8" -> "utf-8", "EUC-KR" -> "euc_kr").

    Raises:
        InputError: the name is no codec Python knows, or not a text codec (base64, rot13).
    """
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        codec = None
    # str.decode refuses bytes-to-bytes codecs by this flag of the CodecInfo
    if codec is None or not getattr(codec, "_is_text_encoding", True):
        raise InputError(
            f"unknown text encoding {encoding!r}; use a Python codec name such as utf-8, "
            "cp949, euc-kr, shift_jis, gb18030 or latin-1"
        )
    return codec.name


def decode_text(
    raw: bytes, name: str, *, csv_header: bool, encoding: str = DEFAULT_ENCODING
) -> str:
    """Decode with `encoding` (UTF-8: a byte-order mark is dropped), naming the line (and
    the CSV column or JSON key) of the first undecodable byte.

    Raises:
        InputError: undecodable bytes (for UTF-8 with a hint to pass --encoding), or an
            unknown encoding.
    """
    codec = check_encoding(encoding)
    if codec == "utf-8":
        codec = "utf-8-sig"
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        line_no = raw.count(b"\n", 0, exc.start) + 1
        column = None
        lines = raw.split(b"\n")
        bad_line = lines[line_no - 1].decode(codec, errors="replace")
        if csv_header:
            header = next(csv.reader([lines[0].decode(codec, errors="replace")]), [])
            fields = next(csv.reader([bad_line]), [])
            for position, field in enumerate(fields):
                if "\ufffd" in field and position < len(header):
                    column = header[position]
                    break
        else:
            with contextlib.suppress(ValueError):
                record = json.loads(bad_line)
                if isinstance(record, dict):
                    column = next((k for k, v in record.items() if "\ufffd" in str(v)), None)
        expected = "UTF-8" if codec == "utf-8-sig" else encoding
        hint = f" ({ENCODING_HINT})" if codec == "utf-8-sig" else ""
        raise InputError(
            f"undecodable bytes (not {expected}) at byte {exc.start}{hint}",
            path=name,
            line=line_no,
            column=column,
        ) from exc


def check_csv_structure(lines: Iterable[str], name: str) -> int:
    """Parse CSV text strictly, as a guard for the fast readers; returns the record count.

    Fast CSV readers (polars, pyarrow) take a quote that is never closed as the start of a
    field that runs to the end of the file, swallowing every row after it into one cell.
    Quoted fields that hold line breaks are legitimate (resume text exported from a
    spreadsheet has them, and jobmatch's own CSV writer produces them); a quote that reaches
    the end of the file, or one followed by anything but a delimiter or a line end, is not,
    and fails here naming the line where the record with the quote began.

    Args:
        lines: the decoded text as lines that keep their line ends: a file or StringIO
            opened with `newline=""` (str.splitlines would also split at U+2028).
        name: the file's name for error messages.
    """
    reader = csv.reader(lines, strict=True)
    header: list[str] | None = None
    records = 0
    record_line = 1  # line where the record being parsed began
    try:
        for fields in reader:
            if header is None:
                header = fields
                twice = next((f for i, f in enumerate(fields) if f in fields[:i]), None)
                if twice is not None:
                    raise InputError(
                        "this name appears twice in the header", path=name, line=1, column=twice
                    )
            elif fields and len(fields) != len(header):
                raise InputError(
                    f"expected {len(header)} fields, found {len(fields)}",
                    path=name,
                    line=record_line,
                    row=records + 1,
                )
            elif fields:
                records += 1
            record_line = reader.line_num + 1
    except csv.Error as exc:
        if "end of data" in str(exc):
            reason = (
                "a quote opened in this record is never closed (it runs to the end of the file)"
            )
        else:
            reason = f"malformed quoting ({exc}) in the record that begins here"
        raise InputError(reason, path=name, line=record_line, row=records + 1) from exc
    return records


def _read_csv(raw: bytes, name: str, encoding: str = DEFAULT_ENCODING) -> pl.DataFrame:
    text = decode_text(raw, name, csv_header=True, encoding=encoding)
    if not text.strip():
        raise InputError("no rows", path=name)
    check_csv_structure(_io.StringIO(text, newline=""), name)
    try:
        return pl.read_csv(_io.StringIO(text), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"malformed CSV ({_first_line(exc)})", path=name) from exc


def _read_jsonl(
    raw: bytes, name: str, *, strings: Collection[str], encoding: str = DEFAULT_ENCODING
) -> tuple[pl.DataFrame, list[int]]:
    """Parse JSON lines one by one so errors can name the line; returns frame and line numbers."""
    text = decode_text(raw, name, csv_header=False, encoding=encoding)
    frame, lines = parse_json_lines(split_lines(text), name, strings=strings)
    if not lines:
        raise InputError("no rows", path=name)
    return frame, lines


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
