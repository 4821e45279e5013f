"""Read and write jobmatch tables as Parquet, CSV or JSONL, chosen by file extension.

Reading validates against the contracts of `schema.py` and converts columns to their Arrow
types, so a bad file fails here with the file, line/row and column named, not deep inside
a model or an index. Writing is atomic: a temporary sibling is renamed over the target.
"""

from __future__ import annotations

import contextlib
import csv
import io as _io
import json
import os
import sys
import tempfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import polars as pl

from jobmatch import schema
from jobmatch.errors import DuplicateError, InputError, SchemaError

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


# --------------------------------------------------------------------------- reading


def read_table(
    path: str | Path,
    kind: schema.TableKind,
    *,
    id_col: str | None = None,
    text_col: str | None = None,
    file_format: FileFormat | None = None,
    columns: Sequence[str] | None = None,
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

    Raises:
        InputError: naming the file, the line (JSONL) or row (CSV, Parquet) and the column.
    """
    name = "<stdin>" if str(path) == STDIO else str(path)
    fmt = file_format or format_of(path)
    spec = schema.SPECS[kind]
    renames = {}
    if id_col and spec.id_column and id_col != spec.id_column:
        renames[id_col] = spec.id_column
    if text_col and text_col != schema.TEXT and schema.TEXT in spec.required:
        renames[text_col] = schema.TEXT
    wanted = keep = None
    if columns is not None:
        keep = [spec.id_column, *columns] if spec.id_column else list(columns)
        source_names = {v: k for k, v in renames.items()}
        wanted = [source_names.get(c, c) for c in dict.fromkeys(keep)]
    frame, lines = read_raw(
        path, file_format=fmt, columns=wanted, strings=schema.STRING_COLUMNS | set(renames)
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
) -> tuple[pl.DataFrame, list[int] | None]:
    """A table's columns as stored (CSV cells as strings), before contract validation.

    Returns the frame and, for JSONL, the file line of each row (None for other formats).
    `columns` limits a Parquet read to these columns; `strings` names the JSON keys whose
    values must all be strings (ids and texts: a number there fails, naming the line).
    """
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
        return _read_csv(_read_bytes(path), name), None
    return _read_jsonl(_read_bytes(path), name, strings=strings)


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


def _decode(raw: bytes, name: str, *, csv_header: bool) -> str:
    """Decode UTF-8, naming the line (and CSV column) of the first undecodable byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = raw.count(b"\n", 0, exc.start) + 1
        column = None
        lines = raw.split(b"\n")
        bad_line = lines[line_no - 1].decode("utf-8", errors="replace")
        if csv_header:
            header = next(csv.reader([lines[0].decode("utf-8-sig", errors="replace")]), [])
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
        raise InputError(
            f"undecodable bytes (not UTF-8) at byte {exc.start}",
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


def _read_csv(raw: bytes, name: str) -> pl.DataFrame:
    text = _decode(raw, name, csv_header=True)
    if not text.strip():
        raise InputError("no rows", path=name)
    check_csv_structure(_io.StringIO(text, newline=""), name)
    try:
        return pl.read_csv(_io.StringIO(text), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"malformed CSV ({_first_line(exc)})", path=name) from exc


def _read_jsonl(
    raw: bytes, name: str, *, strings: Collection[str]
) -> tuple[pl.DataFrame, list[int]]:
    """Parse JSON lines one by one so errors can name the line; returns frame and line numbers."""
    text = _decode(raw, name, csv_header=False)
    # split on "\n" only: str.splitlines() would also split at U+2028 inside JSON strings
    lines_of_text = (line.removesuffix("\r") for line in text.split("\n"))
    frame, lines = parse_json_lines(enumerate(lines_of_text, start=1), name, strings=strings)
    if not lines:
        raise InputError("no rows", path=name)
    return frame, lines


def parse_json_lines(
    numbered_lines: Iterable[tuple[int, str]],
    name: str,
    *,
    strings: Collection[str] = schema.STRING_COLUMNS,
) -> tuple[pl.DataFrame, list[int]]:
    """JSON objects from (line number, text) pairs; blank lines are skipped.

    Keys in `strings` must hold strings (or null); any other value fails naming its line.
    """
    records: list[dict] = []
    lines: list[int] = []
    for line_no, line in numbered_lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON ({exc.msg})", path=name, line=line_no) from exc
        except _RepeatedKey as exc:
            raise InputError(
                "this key appears twice in one object", path=name, line=line_no, column=exc.key
            ) from None
        if not isinstance(record, dict):
            found = _json_type(record)
            raise InputError(f"expected a JSON object, found {found}", path=name, line=line_no)
        records.append(record)
        lines.append(line_no)
    columns: dict[str, list] = {}
    for row, record in enumerate(records):
        for key in record:
            columns.setdefault(key, [None] * len(records))[row] = record[key]
    series = [
        _json_series(key, values, name, lines, must_be_strings=key in strings)
        for key, values in columns.items()
    ]
    return pl.DataFrame(series), lines


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """json.loads keeps the last of repeated keys silently; a table row must not."""
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return record


def _json_series(
    key: str, values: list, name: str, lines: list[int], *, must_be_strings: bool
) -> pl.Series:
    """One column of JSON values; a metadata column mixing types is kept as JSON strings."""
    if must_be_strings:
        for row, value in enumerate(values):
            if value is not None and not isinstance(value, str):
                raise SchemaError(
                    f"expected a string, found {_json_type(value)} {json.dumps(value)[:40]}",
                    path=name,
                    line=lines[row],
                    column=key,
                )
        return pl.Series(key, values, dtype=pl.String)
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int, float} and kinds:
        kinds = {float} if float in kinds else {int}
    if len(kinds) <= 1:
        try:
            return pl.Series(key, values)
        except Exception:  # nested or ragged values polars cannot type
            pass
    as_text = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
    return pl.Series(key, as_text, dtype=pl.String)


def _json_type(value: object) -> str:
    """JSON's own name for a decoded value's type."""
    names = {bool: "boolean", int: "number", float: "number", list: "array", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --------------------------------------------------------------------------- validation


def validate(
    frame: pl.DataFrame,
    kind: schema.TableKind,
    *,
    path: str = "<table>",
    line_numbers: list[int] | None = None,
    renamed: dict[str, str] | None = None,
    required: Sequence[str] | None = None,
    row_offset: int = 0,
    check_duplicates: bool = True,
) -> pl.DataFrame:
    """Check a table against its contract and convert known columns to their Arrow types.

    Unknown columns are kept as metadata. `line_numbers` maps row index -> file line (JSONL);
    otherwise rows are numbered from `row_offset + 1` (for batches of a larger file).
    `required` narrows the contract's required columns (for projected reads).
    """
    spec = schema.SPECS[kind]
    original = {v: k for k, v in (renamed or {}).items()}

    def where(row: int | None) -> dict:
        if row is None:
            return {}
        if line_numbers is not None:
            return {"line": line_numbers[row]}
        return {"row": row_offset + row + 1}

    def fail(message: str, column: str, row: int | None = None, error=SchemaError) -> None:
        raise error(message, path=path, column=original.get(column, column), **where(row))

    required_columns = {c: spec.required[c] for c in (required or spec.required)}
    for column in required_columns:
        if column not in frame.columns:
            fail("missing column", column)
    if frame.height == 0:
        raise InputError("no rows", path=path)

    converted = []
    for column in frame.columns:
        target = spec.all_columns.get(column)
        series = frame[column]
        if target is not None:
            series = _convert(series, target, lambda msg, row, c=column: fail(msg, c, row))
        converted.append(series)
    frame = pl.DataFrame(converted)

    for column, dtype in required_columns.items():
        if dtype == schema.pa.string():
            blank = frame[column].is_null() | (frame[column].str.strip_chars() == "")
            if blank.any():
                row = int(blank.arg_max())
                fail(
                    "empty value",
                    column,
                    row,
                )
    for column, (low, high) in schema.VALUE_RANGES.items():
        if column in frame.columns:
            bad = frame[column].is_not_null() & ((frame[column] < low) | (frame[column] > high))
            if bad.any():
                row = int(bad.arg_max())
                fail(f"value {frame[column][row]} outside {low}..{high}", column, row)
    if spec.id_column is not None and check_duplicates:
        duplicated = frame[spec.id_column].is_duplicated()
        if duplicated.any():
            ids = frame[spec.id_column]
            second = _second_occurrence(ids)
            first = int((ids == ids[second]).arg_max())
            fail(
                f"duplicate id {ids[second]!r} (first seen at {_describe(where(first))})",
                spec.id_column,
                second,
                error=DuplicateError,
            )
    return frame


def _describe(location: dict) -> str:
    return " ".join(f"{key} {value}" for key, value in location.items())


def _second_occurrence(ids: pl.Series) -> int:
    seen: set = set()
    for row, value in enumerate(ids.to_list()):
        if value in seen:
            return row
        seen.add(value)
    raise AssertionError("is_duplicated() found a duplicate that the scan did not")


def _convert(series: pl.Series, target, fail) -> pl.Series:
    """Convert one column to its contract type; `fail(message, row)` reports the first bad row."""
    import pyarrow as pa

    dtype = series.dtype
    if target == pa.string():
        if dtype == pl.String:
            return series
        if dtype == pl.Null:  # every value null: empty values are reported later
            return series.cast(pl.String)
        fail(f"expected strings, found {_type_name(dtype)} (store the column as text)", None)
    if pa.types.is_integer(target):
        if dtype.is_integer():
            _fits_int8(series, fail)
            return series.cast(pl.Int8)
        if dtype == pl.String or dtype.is_float():
            as_float = series.cast(pl.Float64, strict=False)
            bad = series.is_not_null() & (as_float.is_null() | (as_float.round(0) != as_float))
            if bad.any():
                row = int(bad.arg_max())
                fail(f"expected an integer, got {series[row]!r}", row)
            _fits_int8(as_float, fail)
            return as_float.cast(pl.Int8, strict=False)
        fail(f"expected integers, got {dtype}", None)
    if pa.types.is_floating(target):
        if dtype.is_numeric():
            return series.cast(pl.Float32)
        if dtype == pl.String:
            as_float = series.cast(pl.Float32, strict=False)
            bad = series.is_not_null() & as_float.is_null()
            if bad.any():
                row = int(bad.arg_max())
                fail(f"expected a number, got {series[row]!r}", row)
            return as_float
        fail(f"expected numbers, got {dtype}", None)
    if pa.types.is_boolean(target):
        if dtype == pl.Boolean:
            return series
        lowered = series.cast(pl.String).str.strip_chars().str.to_lowercase()
        mapping = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        mapped = lowered.replace_strict(mapping, default=None, return_dtype=pl.Boolean)
        bad = series.is_not_null() & mapped.is_null()
        if bad.any():
            row = int(bad.arg_max())
            fail(f"expected true/false, got {series[row]!r}", row)
        return mapped
    if pa.types.is_list(target):
        if dtype == pl.List(pl.String):
            return series
        if dtype == pl.List(pl.Null):
            return series.cast(pl.List(pl.String))
        if dtype == pl.String:
            return _split_list_cells(series, fail)
        fail(f"expected a list of strings, got {dtype}", None)
    raise AssertionError(f"no converter for {target}")


def _type_name(dtype: pl.DataType) -> str:
    """A column type as a user knows it: int64, float64, bool, list[str]."""
    return str(dtype).lower().replace("string", "str")


def _fits_int8(series: pl.Series, fail) -> None:
    bad = series.is_not_null() & ((series < -128) | (series > 127))
    if bad.any():
        row = int(bad.arg_max())
        fail(f"value {series[row]} out of range", row)


def _split_list_cells(series: pl.Series, fail) -> pl.Series:
    """List cells written as text: a JSON array, or values separated by ';' or '|'."""
    values = []
    for row, cell in enumerate(series.to_list()):
        if cell is None or not cell.strip():
            values.append([] if cell is not None else None)
            continue
        cell = cell.strip()
        if cell.startswith("["):
            try:
                parsed = json.loads(cell)
            except json.JSONDecodeError:
                fail(f"malformed list {cell!r}", row)
            if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
                fail(f"expected a list of strings, got {cell!r}", row)
            values.append(parsed)
            continue
        separator = next((s for s in schema.LIST_SEPARATORS if s in cell), None)
        parts = cell.split(separator) if separator else [cell]
        values.append([part.strip() for part in parts if part.strip()])
    return pl.Series(series.name, values, dtype=pl.List(pl.String))


# --------------------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path`; on success it is fsynced and renamed over `path`.

    On any exception the temporary file is removed and `path` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_table(
    frame: pl.DataFrame, path: str | Path, *, file_format: FileFormat | None = None
) -> None:
    """Write a table atomically (or to stdout for `-`), in the format of the extension."""
    fmt = file_format or format_of(path)
    if str(path) == STDIO:
        buffer = _io.BytesIO()
        _write(frame, buffer, fmt)
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.flush()
        return
    with atomic_path(path) as tmp:
        _write(frame, tmp, fmt)


def write_frames(
    frames: Iterable[pl.DataFrame], path: str | Path, *, file_format: FileFormat | None = None
) -> int:
    """Stream frames of one schema into a file (atomically) or stdout; returns rows written.

    Memory holds one frame at a time, so outputs larger than memory can be written.
    """
    import pyarrow.parquet as pq

    fmt = file_format or format_of(path)
    rows = 0
    with contextlib.ExitStack() as stack:
        if str(path) == STDIO:
            sink = sys.stdout.buffer
        else:
            sink = stack.enter_context(open(stack.enter_context(atomic_path(path)), "wb"))
        writer = None
        for frame in frames:
            if fmt == "parquet":
                table = frame.to_arrow()
                if writer is None:
                    writer = stack.enter_context(pq.ParquetWriter(sink, table.schema))
                writer.write_table(table)
            else:
                buffer = _io.BytesIO()
                if fmt == "csv" and rows > 0:
                    _csv_ready(frame).write_csv(buffer, include_header=False)
                else:
                    _write(frame, buffer, fmt)
                sink.write(buffer.getvalue())
            rows += frame.height
        if writer is None and fmt == "parquet":
            raise ValueError("write_frames needs at least one frame to know the Parquet schema")
    return rows


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV has no lists: join list cells with ';' (read back by `read_table`)."""
    list_columns = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    return frame.with_columns(pl.col(list_columns).list.join(";"))


def _write(frame: pl.DataFrame, sink, fmt: FileFormat) -> None:
    if fmt == "parquet":
        frame.write_parquet(sink)
    elif fmt == "csv":
        _csv_ready(frame).write_csv(sink)
    else:
        frame.write_ndjson(sink)
