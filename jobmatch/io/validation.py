"""Check tables against the contracts of `schema.py` and convert columns to their types.

Unknown columns are kept as metadata. Every failure names the file, the row or line and the
column, so the one error path of the CLI can print it as one line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import polars as pl

from jobmatch import schema
from jobmatch.errors import DuplicateError, InputError, SchemaError


def column_renames(
    kind: schema.TableKind, *, id_col: str | None = None, text_col: str | None = None
) -> dict[str, str]:
    """{name in the file: contract name} for the id and text columns a user maps by option."""
    spec = schema.SPECS[kind]
    renames = {}
    if id_col and spec.id_column and id_col != spec.id_column:
        renames[id_col] = spec.id_column
    if text_col and text_col != schema.TEXT and schema.TEXT in spec.required:
        renames[text_col] = schema.TEXT
    return renames


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
