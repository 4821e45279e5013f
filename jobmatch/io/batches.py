"""Stream validated tables from many files in fixed-size chunks, in bounded memory.

Index builds read corpora far larger than memory: Parquet by row group batches, CSV through
pyarrow's streaming reader, JSONL line by line. Every chunk is validated like a whole table,
with rows and lines numbered as in the file. On a low-level parse error the whole-file
reader of `io` is asked for its precise message (file, line, column).
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from jobmatch import io, schema
from jobmatch.errors import DuplicateError, InputError

DEFAULT_CHUNK_ROWS = 8192
_READ_ROWS = 8192


@dataclass(frozen=True)
class Chunk:
    """Validated rows `start .. start + height` of the concatenated inputs."""

    index: int
    start: int
    frame: pl.DataFrame


def expand_inputs(paths: Sequence[str | Path]) -> list[Path]:
    """Files, directories (their table files, recursively) and globs -> sorted unique files."""
    files: list[Path] = []
    for raw in paths:
        text = str(raw)
        if any(ch in text for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True))
            if not matches:
                raise InputError("no file matches this pattern", path=text)
            files.extend(p for p in matches if p.is_file())
        elif Path(text).is_dir():
            found = sorted(
                p
                for p in Path(text).rglob("*")
                if p.is_file() and is_table_file(p) and not p.name.startswith(".")
            )
            if not found:
                raise InputError("folder holds no .parquet, .csv or .jsonl file", path=text)
            files.extend(found)
        elif Path(text).is_file():
            files.append(Path(text))
        else:
            raise InputError("file not found", path=text)
    return list(dict.fromkeys(files))


def is_table_file(path: Path) -> bool:
    """Whether the extension is one `jobmatch.io` reads as a table."""
    try:
        io.format_of(path)
    except InputError:
        return False
    return True


def iter_chunks(
    paths: Sequence[str | Path],
    kind: schema.TableKind,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    id_col: str | None = None,
    text_col: str | None = None,
    hashes: bool = True,
) -> Iterator[Chunk]:
    """Validated chunks of exactly `chunk_rows` rows (the last may be shorter) across files.

    With `hashes`, each chunk gets a `content_hash` column (see `content_hashes`).

    Ids must be unique across all files; a duplicate raises DuplicateError naming the file
    and row of the second occurrence and where the first was seen.
    """
    spec = schema.SPECS[kind]
    files = expand_inputs(paths)
    seen: dict[str, tuple[int, int]] = {}  # id -> (file number, row/line number in that file)

    reference: dict[str, pl.DataType] = {}

    def frames() -> Iterator[pl.DataFrame]:
        for file_no, path in enumerate(files):
            unit = "line" if io.format_of(path) == "jsonl" else "row"
            for frame, numbers in _iter_file(path, kind, id_col=id_col, text_col=text_col):
                frame = conform_types(frame, reference, str(path))
                if spec.id_column is not None:
                    for value, number in zip(frame[spec.id_column].to_list(), numbers, strict=True):
                        if value in seen:
                            first_file, first_number = seen[value]
                            first = f"{unit_of(files[first_file])} {first_number}"
                            if first_file != file_no:
                                first = f"{files[first_file]} {first}"
                            raise DuplicateError(
                                f"duplicate id {value!r} (first seen at {first})",
                                path=str(path),
                                column=spec.id_column,
                                **{unit: number},
                            )
                        seen[value] = (file_no, number)
                yield frame

    yield from rechunk(frames(), chunk_rows=chunk_rows, hashes=hashes)


def validate_inputs(
    paths: Sequence[str | Path],
    kind: schema.TableKind,
    *,
    id_col: str | None = None,
    text_col: str | None = None,
) -> int:
    """Validate every input before expensive work starts; returns the row count."""
    chunks = iter_chunks(paths, kind, id_col=id_col, text_col=text_col, hashes=False)
    return sum(chunk.frame.height for chunk in chunks)


def conform_types(
    frame: pl.DataFrame, reference: dict[str, pl.DataType], path: str
) -> pl.DataFrame:
    """Give metadata columns the type they had in earlier inputs (CSV has no lists, say)."""
    columns = []
    for series in frame.get_columns():
        target = reference.setdefault(series.name, series.dtype)
        if series.dtype != target and series.dtype != pl.Null:
            series = _cast_like(series, target, path)
        columns.append(series.cast(target) if series.dtype == pl.Null else series)
    return pl.DataFrame(columns)


def _cast_like(series: pl.Series, target: pl.DataType, path: str) -> pl.Series:
    separator = schema.LIST_SEPARATORS[0]
    try:
        if target == pl.List(pl.String) and series.dtype == pl.String:
            return series.str.split(separator)
        if target == pl.String and series.dtype == pl.List(pl.String):
            return series.list.join(separator)
        return series.cast(target, strict=True)
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"type {series.dtype} differs from {target} in the inputs before this one",
            path=path,
            column=series.name,
        ) from exc


def unit_of(path: Path) -> str:
    """How a file's records are numbered in messages: JSONL by line, the others by row."""
    return "line" if io.format_of(path) == "jsonl" else "row"


def rechunk(
    frames: Iterable[pl.DataFrame], *, chunk_rows: int, hashes: bool = True
) -> Iterator[Chunk]:
    """Regroup frames into chunks of exactly `chunk_rows` rows, adding content hashes."""
    pending: list[pl.DataFrame] = []
    pending_rows = start = index = 0
    for frame in frames:
        pending.append(frame.with_columns(content_hashes(frame)) if hashes else frame)
        pending_rows += frame.height
        while pending_rows >= chunk_rows:
            merged = pl.concat(pending, how="diagonal_relaxed")
            yield Chunk(index, start, merged.head(chunk_rows))
            index, start = index + 1, start + chunk_rows
            rest = merged.slice(chunk_rows)
            pending, pending_rows = ([rest], rest.height) if rest.height else ([], 0)
    if pending_rows:
        yield Chunk(index, start, pl.concat(pending, how="diagonal_relaxed"))


def content_hashes(frame: pl.DataFrame) -> pl.Series:
    """Stable hash of each row's content (every column, canonical JSON): detects changes."""
    columns = [c for c in frame.columns if c != schema.CONTENT_HASH]
    hashes = [
        hashlib.blake2b(
            json.dumps(row, sort_keys=True, default=str, ensure_ascii=False).encode(),
            digest_size=8,
        ).hexdigest()
        for row in frame.select(columns).iter_rows(named=True)
    ]
    return pl.Series(schema.CONTENT_HASH, hashes, dtype=pl.String)


def _iter_file(
    path: Path, kind: schema.TableKind, *, id_col: str | None, text_col: str | None
) -> Iterator[tuple[pl.DataFrame, list[int]]]:
    """(validated frame, row or line number of each row) for each batch of one file."""
    fmt = io.format_of(path)
    renames = io.column_renames(kind, id_col=id_col, text_col=text_col)
    offset = 0
    try:
        if fmt == "jsonl":
            strings = schema.STRING_COLUMNS | set(renames)
            for frame, lines in _jsonl_batches(path, strings):
                offset += frame.height
                yield validated_batch(frame, kind, path, renames, line_numbers=lines), lines
        else:
            for batch in _arrow_batches(path, fmt):
                frame = pl.from_arrow(batch)
                validated = validated_batch(frame, kind, path, renames, row_offset=offset)
                yield validated, list(range(offset + 1, offset + frame.height + 1))
                offset += frame.height
    except (UnicodeDecodeError, OSError, ValueError) as exc:
        io.read_table(path, kind, id_col=id_col, text_col=text_col)  # raises the precise error
        raise InputError(f"unreadable ({exc})", path=str(path)) from exc
    if offset == 0:  # an empty file is never skipped silently
        raise InputError("no rows" if path.stat().st_size else "empty file", path=str(path))


def validated_batch(
    frame: pl.DataFrame,
    kind: schema.TableKind,
    path: Path,
    renames: dict[str, str],
    *,
    row_offset: int = 0,
    line_numbers: list[int] | None = None,
) -> pl.DataFrame:
    for source in renames:
        if source not in frame.columns:
            raise InputError("missing column", path=str(path), column=source)
    return io.validate(
        frame.rename(renames),
        kind,
        path=str(path),
        line_numbers=line_numbers,
        renamed=renames,
        row_offset=row_offset,
        check_duplicates=False,
    )


def _arrow_batches(path: Path, fmt: io.FileFormat):
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    if fmt == "parquet":
        try:
            parquet = pq.ParquetFile(path)
        except pa.ArrowInvalid as exc:
            raise ValueError(str(exc)) from exc
        yield from parquet.iter_batches(batch_size=_READ_ROWS)
        return
    with open(path, encoding="utf-8-sig", newline="") as handle:
        records = io.check_csv_structure(handle, str(path))
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    names = next(csv.reader([header]), [])
    options = pa_csv.ConvertOptions(column_types={name: pa.string() for name in names})
    read = 0
    try:
        # quoted fields may hold line breaks: tell the chunker, or it may cut inside one
        parse = pa_csv.ParseOptions(newlines_in_values=True)
        for batch in pa_csv.open_csv(path, convert_options=options, parse_options=parse):
            read += batch.num_rows
            yield batch
    except pa.ArrowInvalid as exc:
        raise ValueError(str(exc)) from exc
    if read != records:  # the fast reader disagrees with the strict one: never lose a row
        raise InputError(
            f"read {read} records where a strict CSV parser finds {records}; "
            "check the quoting of this file",
            path=str(path),
        )


def _jsonl_batches(
    path: Path, strings: Collection[str]
) -> Iterator[tuple[pl.DataFrame, list[int]]]:
    name = str(path)
    with open(path, "rb") as handle:
        numbered: list[tuple[int, str]] = []
        for line_no, raw in enumerate(handle, start=1):
            numbered.append((line_no, raw.decode("utf-8-sig" if line_no == 1 else "utf-8")))
            if len(numbered) >= _READ_ROWS:
                frame, lines = io.parse_json_lines(numbered, name, strings=strings)
                numbered = []
                if lines:
                    yield frame, lines
        if numbered:
            frame, lines = io.parse_json_lines(numbered, name, strings=strings)
            if lines:
                yield frame, lines
