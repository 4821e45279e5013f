"""Metadata filter expressions (`jobmatch query --filter EXPR`) and FAISS ID selectors.

An expression is `column OP value`, e.g. `location=Berlin, Germany`, `seniority>=senior`,
`areas~nlp`, `remote=true`. Row i of the metadata describes FAISS id i, so a boolean mask
over the metadata rows becomes an `IDSelectorBitmap` that restricts a search to those ids.

Operators by column type (nulls and NaNs never match):

- string: `=`, `!=` (exact), `~` (case-insensitive substring)
- numeric: `=`, `!=`, `>`, `>=`, `<`, `<=`; `seniority` also takes level names
- boolean: `=`, `!=` with true/false, yes/no, 1/0
- list: `~` (the list holds the value; string elements compare case-insensitively)

`country` is a virtual column (the country part of `location`, none for "Remote") unless
the metadata has a real `country` column. Hidden columns (`hidden_*`) cannot be filtered on.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.errors import InputError

if TYPE_CHECKING:
    import faiss

FilterOp = Literal["=", "!=", ">", ">=", "<", "<=", "~"]

COUNTRY = "country"
OPERATORS: tuple[FilterOp, ...] = get_args(FilterOp)
# Longest first, so `>=` is never read as `>` followed by a value starting with `=`.
_BY_LENGTH: tuple[FilterOp, ...] = tuple(sorted(OPERATORS, key=len, reverse=True))
_OPERATOR_CHARS = frozenset("".join(OPERATORS))
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMPARISONS: tuple[FilterOp, ...] = ("=", "!=", ">", ">=", "<", "<=")
_EQUALITY: tuple[FilterOp, ...] = ("=", "!=")
_COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


@dataclass(frozen=True)
class Filter:
    """One parsed expression `column OP value`; the value stays text until typed."""

    column: str
    op: FilterOp
    value: str

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"op must be one of {', '.join(OPERATORS)}, got {self.op!r}")

    def __str__(self) -> str:
        return f"{self.column}{self.op}{self.value}"


def parse_filter(expr: str) -> Filter:
    """Parse `column OP value` (syntax only; columns and types are checked by filter_mask)."""
    try:
        return _parse(expr)
    except _Invalid as exc:
        raise InputError(f"filter '{expr}': {exc}") from None


def filter_mask(metadata: pl.DataFrame, filters: Sequence[Filter | str]) -> np.ndarray:
    """Boolean array, one entry per metadata row: True where every filter holds."""
    conditions = []
    for item in filters:
        flt = parse_filter(item) if isinstance(item, str) else item
        try:
            conditions.append(_condition(metadata, flt))
        except _Invalid as exc:
            # Quote the expression as the user wrote it.
            raise InputError(f"filter '{item}': {exc}") from None
    if not conditions:
        return np.ones(metadata.height, dtype=bool)
    condition = pl.all_horizontal(conditions).fill_null(False)
    return np.asarray(metadata.select(condition).to_series().to_numpy(), dtype=bool)


def id_selector(mask: np.ndarray) -> faiss.IDSelector:
    """An `IDSelectorBitmap` selecting the FAISS ids i where `mask[i]` is True.

    The selector keeps the packed bitmap alive (the C++ object only holds a pointer).
    Pass it as `faiss.SearchParameters(sel=...)` (or a subclass such as
    `SearchParametersHNSW`), which keeps a reference to the selector in turn.
    """
    import faiss

    mask = np.asarray(mask)
    if mask.ndim != 1 or mask.dtype != np.bool_:
        raise ValueError(f"mask must be a 1-d bool array, got {mask.dtype} of shape {mask.shape}")
    # Bit i % 8 of byte i // 8 is id i: numpy's little bit order. An empty mask still gets
    # one (zero) byte so there is a valid pointer to hand over.
    bits = np.packbits(mask, bitorder="little") if mask.size else np.zeros(1, dtype=np.uint8)
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    # IDSelectorBitmap(n, bitmap): n counts bytes; id i is selected iff i / 8 < n and bit i % 8
    # of bitmap[i / 8] is set (faiss/impl/IDSelector.h).
    selector = faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits))
    # The faiss wrapper's own convention for Python objects a C++ object points into.
    selector.referenced_objects = [bits]
    return selector


def filterable_columns(metadata: pl.DataFrame) -> list[str]:
    """Columns filters may name, sorted: metadata columns minus hidden ones, plus `country`."""
    columns = {c for c in metadata.columns if not c.startswith(schema.HIDDEN_PREFIX)}
    if schema.LOCATION in columns:
        columns.add(COUNTRY)
    return sorted(columns)


class _Invalid(Exception):
    """A filter problem; the public functions prefix it with the expression."""


def _parse(expr: str) -> Filter:
    at = next((i for i, char in enumerate(expr) if char in _OPERATOR_CHARS), None)
    if at is None:
        raise _Invalid(f"no operator (use one of {' '.join(OPERATORS)})")
    op = next((o for o in _BY_LENGTH if expr.startswith(o, at)), None)
    if op is None:
        raise _Invalid(f"unknown operator {expr[at]!r} (use one of {' '.join(OPERATORS)})")
    column = expr[:at].strip()
    value = expr[at + len(op) :].strip()
    if not column:
        raise _Invalid("empty column name")
    if not _IDENTIFIER.fullmatch(column):
        raise _Invalid(f"column name {column!r} is not an identifier")
    if not value:
        raise _Invalid("empty value")
    return Filter(column, op, value)


def _condition(metadata: pl.DataFrame, flt: Filter) -> pl.Expr:
    """The polars condition of one filter after checking it against the column type."""
    columns = filterable_columns(metadata)
    if flt.column not in columns:
        raise _Invalid(f"unknown column {flt.column!r} (columns: {', '.join(columns)})")
    if flt.column in metadata.columns:
        column, dtype = pl.col(flt.column), metadata.schema[flt.column]
    else:
        column, dtype = _country(pl.col(schema.LOCATION)), pl.String()
    if dtype.is_numeric():
        _check_op(flt, _COMPARISONS, "numeric")
        condition = _COMPARE[flt.op](column, _number(flt))
        # polars orders NaN above every number; a NaN is missing data here, like null.
        return condition & column.is_not_nan() if dtype.is_float() else condition
    if dtype == pl.Boolean:
        _check_op(flt, _EQUALITY, "boolean")
        return _COMPARE[flt.op](column, _boolean(flt))
    if isinstance(dtype, pl.List):
        return _list_condition(column, dtype, flt)
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        _check_op(flt, (*_EQUALITY, "~"), "string")
        text = column.cast(pl.String)
        if flt.op == "~":
            return text.str.to_lowercase().str.contains(flt.value.lower(), literal=True)
        return _COMPARE[flt.op](text, flt.value)
    raise _Invalid(f"column {flt.column!r} has type {dtype}, which filters do not support")


def _country(location: pl.Expr) -> pl.Expr:
    """Vectorised `schema.country_of`: text after the last comma; none for Remote or empty."""
    location = location.cast(pl.String)
    missing = location.is_null() | (location == "") | (location == schema.REMOTE_LOCATION)
    country = location.str.split(",").list.last().str.strip_chars()
    return pl.when(missing).then(None).otherwise(country)


def _list_condition(column: pl.Expr, dtype: pl.List, flt: Filter) -> pl.Expr:
    _check_op(flt, ("~",), "list")
    inner = dtype.inner
    if inner == pl.String:
        lowered = column.list.eval(pl.element().str.to_lowercase())
        return lowered.list.contains(flt.value.lower())
    if inner is not None and inner.is_numeric():
        return column.list.contains(_number(flt))
    raise _Invalid(f"column {flt.column!r} has type {dtype}, which filters do not support")


def _check_op(flt: Filter, allowed: tuple[FilterOp, ...], kind: str) -> None:
    if flt.op not in allowed:
        raise _Invalid(
            f"operator '{flt.op}' does not apply to {kind} column {flt.column!r} "
            f"(use {' '.join(allowed)})"
        )


def _number(flt: Filter) -> int | float:
    """The value as a number; seniority also accepts a level name such as `senior`."""
    text = flt.value
    if flt.column == schema.SENIORITY and text.lower() in schema.SENIORITY_LEVELS:
        return schema.SENIORITY_LEVELS.index(text.lower())
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isnan(number):
        levels = ""
        if flt.column == schema.SENIORITY:
            levels = f" or a level ({', '.join(schema.SENIORITY_LEVELS)})"
        raise _Invalid(f"{text!r} is not a number{levels} for numeric column {flt.column!r}")
    return number


def _boolean(flt: Filter) -> bool:
    text = flt.value.lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Invalid(
        f"{flt.value!r} is not a boolean for column {flt.column!r} (use true/false, yes/no, 1/0)"
    )


__all__ = [
    "COUNTRY",
    "OPERATORS",
    "Filter",
    "FilterOp",
    "filter_mask",
    "filterable_columns",
    "id_selector",
    "parse_filter",
]
