"""Column names and Arrow schemas of jobmatch tables: the single source of truth.

Every table that enters jobmatch is validated here, so the rest of the code can trust
column names and types. Validation errors name the file, the row and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

TableKind = Literal["candidates", "jobs", "qrels", "preferences"]

# Identifier and text columns.
CANDIDATE_ID = "candidate_id"
JOB_ID = "job_id"
TEXT = "text"

# Structured fields the rules read. The model never sees them, only the text.
LOCATION = "location"
SENIORITY = "seniority"
AREAS = "areas"
YEARS_EXPERIENCE = "years_experience"
REMOTE = "remote"

# Hash of a row's content, kept in index metadata so upserts re-encode only changed rows.
CONTENT_HASH = "content_hash"
# Embedding vectors in the embedding store.
EMBEDDING = "embedding"

# qrels
RELEVANCE = "relevance"

# query results
RANK = "rank"
SCORE = "score"
EXPLANATION = "explanation"

# Columns with this prefix hold attributes only the free text reveals; rules never read them.
HIDDEN_PREFIX = "hidden_"

REMOTE_LOCATION = "Remote"
SENIORITY_LEVELS = ("intern", "junior", "mid", "senior", "staff", "principal")
MIN_SENIORITY = 0
MAX_SENIORITY = len(SENIORITY_LEVELS) - 1
MIN_RELEVANCE = 0
MAX_RELEVANCE = 3


@dataclass(frozen=True)
class TableSpec:
    """What a table kind must and may contain."""

    kind: TableKind
    id_column: str | None
    required: dict[str, pa.DataType]
    optional: dict[str, pa.DataType]

    @property
    def all_columns(self) -> dict[str, pa.DataType]:
        return {**self.required, **self.optional}


CANDIDATES = TableSpec(
    kind="candidates",
    id_column=CANDIDATE_ID,
    required={CANDIDATE_ID: pa.string(), TEXT: pa.string()},
    optional={
        LOCATION: pa.string(),
        SENIORITY: pa.int8(),
        AREAS: pa.list_(pa.string()),
        YEARS_EXPERIENCE: pa.float32(),
    },
)

JOBS = TableSpec(
    kind="jobs",
    id_column=JOB_ID,
    required={JOB_ID: pa.string(), TEXT: pa.string()},
    optional={
        LOCATION: pa.string(),
        SENIORITY: pa.int8(),
        AREAS: pa.list_(pa.string()),
        REMOTE: pa.bool_(),
    },
)

QRELS = TableSpec(
    kind="qrels",
    id_column=None,
    required={JOB_ID: pa.string(), CANDIDATE_ID: pa.string(), RELEVANCE: pa.int8()},
    optional={},
)

SPECS: dict[str, TableSpec] = {spec.kind: spec for spec in (CANDIDATES, JOBS, QRELS)}

# Value ranges checked after type conversion: column -> (min, max).
VALUE_RANGES: dict[str, tuple[float, float]] = {
    SENIORITY: (MIN_SENIORITY, MAX_SENIORITY),
    RELEVANCE: (MIN_RELEVANCE, MAX_RELEVANCE),
    YEARS_EXPERIENCE: (0.0, 80.0),
}

# Separators accepted for list columns written as plain strings (CSV cells).
LIST_SEPARATORS = (";", "|")


def country_of(location: str | None) -> str | None:
    """Country part of a "City, Country" location; "Remote" and empty values have none."""
    if not location or location == REMOTE_LOCATION:
        return None
    return location.rsplit(",", 1)[-1].strip() if "," in location else location.strip()


# preferences: for a job, a chosen and a rejected candidate (ids), with an optional confidence
# in 0..1. Range of `confidence` is checked by the importer, not VALUE_RANGES, because
# VALUE_RANGES applies to every table and other tables may carry a metadata column of that name.
CHOSEN = "chosen"
REJECTED = "rejected"
CONFIDENCE = "confidence"

PREFERENCES = TableSpec(
    kind="preferences",
    id_column=None,
    required={JOB_ID: pa.string(), CHOSEN: pa.string(), REJECTED: pa.string()},
    optional={CONFIDENCE: pa.float32()},
)
SPECS[PREFERENCES.kind] = PREFERENCES

# Id and text columns of every table kind: a number there is a type error, never a string.
STRING_COLUMNS = frozenset({CANDIDATE_ID, JOB_ID, TEXT, CHOSEN, REJECTED})

# pairs (imported resume/JD pair tables): a graded match label in 0..1 per (job, candidate).
LABEL = "label"
