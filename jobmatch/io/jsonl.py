"""The one JSON Lines reader: every JSONL input goes through `json_objects`.

Lines are split on "\\n" only (str.splitlines would also split at U+2028 inside JSON
strings); a blank line is skipped; a malformed line, a line that is not an object or an
object that repeats a key fails naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator

import polars as pl

from jobmatch import schema
from jobmatch.errors import InputError, SchemaError


def split_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) of a decoded JSONL text, CRLF line ends included."""
    for line_no, line in enumerate(text.split("\n"), start=1):
        yield line_no, line.removesuffix("\r")


def json_objects(
    numbered_lines: Iterable[tuple[int, str]], name: str
) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; anything else fails naming the line."""
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
            found = describe_json(record)
            raise InputError(f"expected a JSON object, found {found}", path=name, line=line_no)
        yield line_no, record


def parse_json_lines(
    numbered_lines: Iterable[tuple[int, str]],
    name: str,
    *,
    strings: Collection[str] = schema.STRING_COLUMNS,
) -> tuple[pl.DataFrame, list[int]]:
    """A frame of the JSON objects of (line number, text) pairs, and each row's line number.

    Keys in `strings` must hold strings (or null); any other value fails naming its line.
    """
    records: list[dict] = []
    lines: list[int] = []
    for line_no, record in json_objects(numbered_lines, name):
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
                    f"expected a string, found {describe_json(value)}",
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


def describe_json(value: object) -> str:
    """A decoded JSON value as an error message names it: `the number 7`, `an array`."""
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    kinds = {dict: "an object", list: "an array", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)
