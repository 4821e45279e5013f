"""Rules on any column: equal values, shared list items, numeric gaps -> points per pair.

A team's own table grades on its own columns (category, occupation code, skills, years of
experience) through `[[column]]` entries of a rules TOML, without code. Like the built-in
rules of `rules.py`, each rule has a scalar path (`ColumnRule.match`, for explanations) and a
vectorised one (`encode_column` + `score_column`, block-wise over jobs). The two agree because
both read values through the same three functions:

- `text_value` (kind `equal`): strings stripped, ints as written, integral floats as ints;
  compared after casefold.
- `list_items` (kind `overlap`): a list cell, or a string split at the first of
  `schema.LIST_SEPARATORS` it holds (as `read_table` splits list columns of a CSV); items
  stripped, blanks dropped, compared after casefold.
- `number` (kind `numeric`): ints, floats, or numeric strings (CSV cells).

None, blank strings, empty lists and NaN are missing: the rule then gives its `missing` points.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, NoReturn

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.errors import RulesError, SchemaError

ColumnKind = Literal["equal", "overlap", "numeric"]
COLUMN_KINDS: tuple[ColumnKind, ...] = ("equal", "overlap", "numeric")
Side = Literal["jobs", "candidates"]
_COMMON_KEYS = ("name", "kind", "job_column", "candidate_column", "missing")
_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "equal": ("points",),
    "overlap": ("points_by_shared",),
    "numeric": ("points", "within"),
}
_WITHIN_FORM = "within must be [min, max] or a table with min and/or max, e.g. { min = 0 }"


# --------------------------------------------------------------------------- values


def text_value(value: Any) -> str | None:
    """A cell as the text `equal` compares (before casefold) and explanations show."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        value = float(value)
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list | tuple):
        raise ValueError('expected a single value, got a list (use kind = "overlap")')
    raise ValueError(f"expected a string or a number, got {type(value).__name__}")


def list_items(value: Any) -> tuple[str, ...] | None:
    """The items of a list cell, or of a string split like a CSV list column."""
    if value is None:
        return None
    if isinstance(value, str):
        separator = next((s for s in schema.LIST_SEPARATORS if s in value), None)
        parts: Sequence[Any] = value.split(separator) if separator else [value]
    elif isinstance(value, list | tuple):
        parts = value
    else:
        raise ValueError(f"expected a list or a string, got {type(value).__name__}")
    items = tuple(item for item in map(text_value, parts) if item is not None)
    return items or None


def number(value: Any) -> float | None:
    """A cell as a float for `numeric`; numeric strings (CSV) are parsed."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            result = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        result = float(value)
    else:
        raise ValueError(f"expected a number, got {value!r}")
    if math.isnan(result):
        return None
    if math.isinf(result):
        raise ValueError(f"expected a finite number, got {value!r}")
    return result


def _number_text(value: float) -> str:
    return f"{value:g}"


# --------------------------------------------------------------------------- one rule


@dataclass(frozen=True)
class ColumnMatch:
    """How one pair fares on one column rule: its points and a readable detail."""

    name: str
    points: int
    detail: str  # e.g. "same (Data Science)", "2 shared — python, sql", "unknown"

    def explain(self) -> str:
        return f"{self.name}: {self.detail}"


@dataclass(frozen=True)
class ColumnRule:
    """One `[[column]]` entry of a rules TOML."""

    name: str
    kind: ColumnKind
    job_column: str
    candidate_column: str
    points: int = 0  # equal, numeric: points when the values match
    points_by_shared: tuple[int, ...] = ()  # overlap: by shared item count, last for more
    missing: int = 0  # when either side has no value
    low: float | None = None  # numeric: candidate minus job must be >= low ...
    high: float | None = None  # ... and <= high

    def column(self, side: Side) -> str:
        return self.job_column if side == "jobs" else self.candidate_column

    @property
    def max_points(self) -> int:
        best = max(self.points_by_shared) if self.kind == "overlap" else self.points
        return max(best, self.missing)

    def accepts(self, gap: float) -> bool:
        """Numeric: whether candidate minus job lies within the bounds."""
        return (self.low is None or gap >= self.low) and (self.high is None or gap <= self.high)

    def match(self, job: dict[str, Any], candidate: dict[str, Any]) -> ColumnMatch:
        """Apply the rule to one pair of row dicts; an absent key counts as missing."""
        job_value = self._read(job, "jobs")
        candidate_value = self._read(candidate, "candidates")
        if job_value is None or candidate_value is None:
            return ColumnMatch(self.name, self.missing, "unknown")
        if self.kind == "equal":
            if job_value.casefold() == candidate_value.casefold():
                return ColumnMatch(self.name, self.points, f"same ({candidate_value})")
            return ColumnMatch(self.name, 0, f"different ({candidate_value} vs {job_value})")
        if self.kind == "overlap":
            wanted = {item.casefold() for item in candidate_value}
            shared = tuple(_unique(item for item in job_value if item.casefold() in wanted))
            points = self.points_by_shared[min(len(shared), len(self.points_by_shared) - 1)]
            detail = f"{len(shared)} shared" + (f" — {', '.join(shared)}" if shared else "")
            return ColumnMatch(self.name, points, detail)
        gap = candidate_value - job_value
        if gap > 0:
            detail = f"{_number_text(gap)} over the job's {_number_text(job_value)}"
        elif gap < 0:
            detail = f"{_number_text(-gap)} under the job's {_number_text(job_value)}"
        else:
            detail = f"equal to the job's {_number_text(job_value)}"
        if self.accepts(gap):
            return ColumnMatch(self.name, self.points, detail)
        return ColumnMatch(self.name, 0, f"{detail} (needs {self.bounds_text()})")

    def bounds_text(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{_number_text(self.low)}..{_number_text(self.high)}"
        if self.low is not None:
            return f">= {_number_text(self.low)}"
        return f"<= {_number_text(self.high or 0.0)}"

    def _read(self, row: dict[str, Any], side: Side) -> Any:
        column = self.column(side)
        try:
            return self.read_value(row.get(column))
        except ValueError as exc:
            raise SchemaError(str(exc), column=column) from exc

    def read_value(self, value: Any) -> Any:
        """A cell in the form this rule compares: text, items or a float; None if missing."""
        if self.kind == "equal":
            return text_value(value)
        if self.kind == "overlap":
            return list_items(value)
        return number(value)


def _unique(items: Iterable[str]) -> list[str]:
    """Items in order, each casefolded value once (as the bitsets of the vectorised path)."""
    seen: set[str] = set()
    result = []
    for item in items:
        if item.casefold() not in seen:
            seen.add(item.casefold())
            result.append(item)
    return result


# --------------------------------------------------------------------------- parsing


def parse_column_rules(
    entries: Any, source: str, *, taken: Collection[str] = ()
) -> tuple[ColumnRule, ...]:
    """The `[[column]]` entries of a rules TOML; `taken` holds the active built-in names."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise RulesError(f"{source}: column must be an array of tables ([[column]] entries)")
    rules: list[ColumnRule] = []
    for position, entry in enumerate(entries, start=1):
        names = {*taken, *(rule.name for rule in rules)}
        rules.append(_parse_entry(entry, f"{source}: [[column]] {position}", names))
    return tuple(rules)


def _parse_entry(entry: dict[str, Any], where: str, taken: Collection[str]) -> ColumnRule:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RulesError(f"{where}: name must be a non-empty string")
    where = f"{where} ({name})"

    def fail(problem: str) -> NoReturn:
        raise RulesError(f"{where}: {problem}")

    if name in taken:
        fail("duplicate rule name (names must differ from each other and the built-in rules)")
    kind = entry.get("kind")
    if kind not in COLUMN_KINDS:
        fail(f"kind must be one of {', '.join(COLUMN_KINDS)}, got {kind!r}")
    allowed = (*_COMMON_KEYS, *_KIND_KEYS[kind])
    unknown = [key for key in entry if key not in allowed]
    if unknown:
        fail(f"unknown key {unknown[0]!r} for kind {kind} (keys: {', '.join(allowed)})")
    for key in _KIND_KEYS[kind]:
        if key not in entry:
            fail(f"missing key {key!r} (kind {kind} needs {', '.join(_KIND_KEYS[kind])})")
    job_column = entry.get("job_column")
    if not isinstance(job_column, str) or not job_column.strip():
        fail("job_column must be a column name")
    candidate_column = entry.get("candidate_column", job_column)
    if not isinstance(candidate_column, str) or not candidate_column.strip():
        fail("candidate_column must be a column name")

    def points(key: str) -> int:
        value = entry.get(key, 0)
        if not _is_int(value) or value < 0:
            fail(f"{key} must be a non-negative integer")
        return value

    rule = ColumnRule(
        name=name,
        kind=kind,
        job_column=job_column,
        candidate_column=candidate_column,
        points=points("points"),
        missing=points("missing"),
    )
    if kind == "overlap":
        table = entry["points_by_shared"]
        if not (isinstance(table, list) and table and all(_is_int(p) and p >= 0 for p in table)):
            fail("points_by_shared must be a list of integers (each >= 0)")
        return dataclasses.replace(rule, points_by_shared=tuple(table))
    if kind == "numeric":
        low, high = _bounds(entry["within"], fail)
        return dataclasses.replace(rule, low=low, high=high)
    return rule


def _bounds(within: Any, fail: Callable[[str], NoReturn]) -> tuple[float | None, float | None]:
    """(min, max) of candidate minus job from `[min, max]` or `{ min = .., max = .. }`."""
    if isinstance(within, list):
        if len(within) != 2:
            fail(_WITHIN_FORM)
        low, high = within
    elif isinstance(within, dict):
        unknown = [key for key in within if key not in ("min", "max")]
        if unknown or not within:
            fail(_WITHIN_FORM)
        low, high = within.get("min"), within.get("max")
    else:
        fail(_WITHIN_FORM)
    for bound in (low, high):
        if bound is not None and not (_is_number(bound) and math.isfinite(bound)):
            fail(f"{_WITHIN_FORM}; bounds must be numbers")
    if low is not None and high is not None and low > high:
        fail(f"within: min {low} is above max {high}")
    return (None if low is None else float(low)), (None if high is None else float(high))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --------------------------------------------------------------------------- vectorised


@dataclass(frozen=True)
class ColumnCodes:
    """One rule's column of a table as arrays: the vectorised form of `ColumnRule.read_value`.

    `values` is int32 codes (equal; shared with the other table), uint64 bitsets [n, words]
    (overlap) or float64 (numeric, 0 where missing); `missing` is bool [n].
    """

    values: np.ndarray
    missing: np.ndarray

    def __getitem__(self, rows: slice) -> ColumnCodes:
        return ColumnCodes(self.values[rows], self.missing[rows])


def encode_column(
    rule: ColumnRule,
    frame: pl.DataFrame,
    *,
    side: Side,
    codes: dict[str, int],
    path: str,
) -> ColumnCodes:
    """Encode one rule's column; `codes` maps casefolded values to integers for both tables.

    Raises:
        SchemaError: the column is absent, or a cell is not a value the rule can read
            (names the file, row and column).
    """
    column = rule.column(side)
    if column not in frame.columns:
        raise SchemaError(
            f"missing column (the rule {rule.name!r} reads it)", path=path, column=column
        )
    series = frame[column]
    if rule.kind == "numeric" and series.dtype.is_numeric():
        values = series.cast(pl.Float64).fill_null(float("nan")).to_numpy().copy()
        infinite = np.isinf(values)
        if infinite.any():
            row = int(np.argmax(infinite))
            raise SchemaError(
                f"expected a finite number, got {series[row]!r}",
                path=path,
                row=row + 1,
                column=column,
            )
        missing = np.isnan(values)
        values[missing] = 0.0
        return ColumnCodes(values, missing)
    cells = []
    for row, value in enumerate(series.to_list()):
        try:
            cells.append(rule.read_value(value))
        except ValueError as exc:
            raise SchemaError(str(exc), path=path, row=row + 1, column=column) from exc
    missing = np.array([cell is None for cell in cells], dtype=bool)
    if rule.kind == "numeric":
        return ColumnCodes(
            np.array([0.0 if cell is None else cell for cell in cells], dtype=np.float64), missing
        )
    if rule.kind == "equal":
        values = np.array(
            [
                -1 if cell is None else codes.setdefault(cell.casefold(), len(codes))
                for cell in cells
            ],
            dtype=np.int32,
        )
        return ColumnCodes(values, missing)
    item_codes = [
        [codes.setdefault(item.casefold(), len(codes)) for item in cell] if cell else []
        for cell in cells
    ]
    return ColumnCodes(item_bits(item_codes), missing)


def score_column(rule: ColumnRule, jobs: ColumnCodes, candidates: ColumnCodes) -> np.ndarray:
    """Points int16 [n_jobs, n_candidates] of one rule for a block of jobs."""
    if rule.kind == "equal":
        points = np.where(jobs.values[:, None] == candidates.values[None, :], rule.points, 0)
    elif rule.kind == "overlap":
        table = np.array(rule.points_by_shared, dtype=np.int16)
        shared = count_shared(jobs.values, candidates.values)
        points = table[np.minimum(shared, len(table) - 1)]
    else:
        gap = candidates.values[None, :] - jobs.values[:, None]
        fits = np.ones(gap.shape, dtype=bool)
        if rule.low is not None:
            fits &= gap >= rule.low
        if rule.high is not None:
            fits &= gap <= rule.high
        points = np.where(fits, rule.points, 0)
    missing = jobs.missing[:, None] | candidates.missing[None, :]
    return np.where(missing, rule.missing, points).astype(np.int16)


# --------------------------------------------------------------------------- bitsets


def item_bits(codes: list[list[int]], words: int | None = None) -> np.ndarray:
    """uint64 [n, words] with bit c set in row i when row i lists item code c."""
    top = max((max(c) for c in codes if c), default=0)
    words = words or top // 64 + 1
    bits = np.zeros((len(codes), words), dtype=np.uint64)
    for row, row_codes in enumerate(codes):
        for code in row_codes:
            bits[row, code // 64] |= np.uint64(1) << np.uint64(code % 64)
    return bits


def count_shared(jobs: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """int16 [n_jobs, n_candidates]: items in both bitsets (tables may differ in width)."""
    words = max(jobs.shape[1], candidates.shape[1])
    jobs, candidates = _widen(jobs, words), _widen(candidates, words)
    shared = np.zeros((jobs.shape[0], candidates.shape[0]), dtype=np.int16)
    for word in range(words):
        shared += np.bitwise_count(jobs[:, None, word] & candidates[None, :, word])
    return shared


def _widen(bits: np.ndarray, words: int) -> np.ndarray:
    if bits.shape[1] >= words:
        return bits
    return np.pad(bits, ((0, 0), (0, words - bits.shape[1])))
