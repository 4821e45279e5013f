"""Domain exceptions. The CLI turns any JobmatchError into one line `error: ...` and exit 2."""

from __future__ import annotations


class JobmatchError(Exception):
    """Base class of every error jobmatch reports to a user."""


class InputError(JobmatchError):
    """A bad input file: names the file, the line or row, and the column when known."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.row = row
        self.column = column
        self.reason = message
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class SchemaError(InputError):
    """A table does not follow the data contract (missing column, wrong type, bad value)."""


class DuplicateError(InputError):
    """An id column holds the same id twice."""


class IndexStoreError(JobmatchError):
    """An index folder is missing, corrupt, or does not fit the model or query."""


class ModelError(JobmatchError):
    """A model cannot be found or loaded."""


class RulesError(JobmatchError):
    """A rules configuration file is malformed."""


__all__ = [
    "DuplicateError",
    "IndexStoreError",
    "InputError",
    "JobmatchError",
    "ModelError",
    "RulesError",
    "SchemaError",
]
