"""Request and response models of `jobmatch serve`, with the limits a request must keep."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import polars as pl
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from jobmatch import schema
from jobmatch.errors import InputError
from jobmatch.index.aggregate import Aggregate
from jobmatch.index.filters import parse_filter
from jobmatch.search import text_jobs

MAX_K = 1000
"""Most hits one query may ask for."""
MAX_BATCH = 64
"""Most job texts in one request."""
MAX_TEXT_CHARS = 20_000
"""Longest job text accepted (the model truncates far earlier)."""
MAX_FILTERS = 16
MAX_BODY_BYTES = 1 << 20
"""Larger request bodies are refused with 413 before they are parsed."""


# --------------------------------------------------------------------------- request models


def _valid_filter(expression: str) -> str:
    try:
        parse_filter(expression)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    return expression


JobText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
FilterExpression = Annotated[str, AfterValidator(_valid_filter)]


class JobIn(BaseModel):
    """A job text with the structured fields the rules explain hits against (all optional)."""

    model_config = ConfigDict(extra="forbid")

    text: JobText
    job_id: str | None = Field(None, min_length=1, max_length=200)
    location: str | None = Field(None, examples=["Berlin, Germany"])
    seniority: int | None = Field(
        None,
        ge=schema.MIN_SENIORITY,
        le=schema.MAX_SENIORITY,
        description=f"Required level, 0..5 = {', '.join(schema.SENIORITY_LEVELS)}.",
    )
    areas: list[str] | None = Field(None, max_length=100)
    remote: bool | None = None


class MatchRequest(BaseModel):
    """Give exactly one of `text`, `texts` or `jobs`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "Senior NLP engineer in Berlin", "k": 5, "filters": ["country=Germany"]}
            ]
        },
    )

    text: JobText | None = Field(None, description="One job description.")
    texts: list[JobText] | None = Field(
        None, min_length=1, max_length=MAX_BATCH, description="Several job descriptions."
    )
    jobs: list[JobIn] | None = Field(
        None,
        min_length=1,
        max_length=MAX_BATCH,
        description="Jobs with structured fields, so that `explain` can compare them.",
    )
    k: int = Field(20, ge=1, le=MAX_K, description="Hits per job.")
    filters: list[FilterExpression] = Field(
        default_factory=list,
        max_length=MAX_FILTERS,
        description="ANDed metadata filters, as `jobmatch query --filter`: country=Germany, "
        "seniority>=senior, areas~nlp, remote=true, col!=value.",
    )
    explain: bool = Field(False, description="Add the rule explanation of each hit.")
    with_text: bool = Field(False, description="Include candidate texts in the hits.")
    aggregate: Aggregate | None = Field(
        None,
        description="How an index of passages scores a candidate from its passages: first, "
        "max, mean or first+max (default: the index's). Indexes without passages refuse it.",
    )

    @model_validator(mode="after")
    def _one_input(self) -> MatchRequest:
        given = [name for name in ("text", "texts", "jobs") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of text, texts or jobs (got {given or 'none'})")
        if self.jobs is not None and len(set(self.job_ids())) != len(self.jobs):
            raise ValueError("jobs: job_id values must be unique (a missing one is q<position>)")
        return self

    def job_ids(self) -> list[str]:
        """Ids of `jobs`: the given ones, else q1, q2, ... by position (as for `texts`)."""
        return [job.job_id or f"q{i + 1}" for i, job in enumerate(self.jobs or [])]

    def jobs_frame(self) -> pl.DataFrame:
        """The request as a jobs table for `search`: job_id, text and any structured fields."""
        if self.jobs is None:
            return text_jobs([self.text] if self.text is not None else self.texts or [])
        rows = [
            {**job.model_dump(), schema.JOB_ID: job_id}
            for job, job_id in zip(self.jobs, self.job_ids(), strict=True)
        ]
        return pl.DataFrame(
            rows,
            schema={
                schema.JOB_ID: pl.String,
                schema.TEXT: pl.String,
                schema.LOCATION: pl.String,
                schema.SENIORITY: pl.Int64,
                schema.AREAS: pl.List(pl.String),
                schema.REMOTE: pl.Boolean,
            },
        )


class Hit(BaseModel):
    rank: int
    candidate_id: str
    score: float
    metadata: dict[str, Any]
    explanation: str | None = None
    text: str | None = None


class JobHits(BaseModel):
    job_id: str
    hits: list[Hit]


class MatchResponse(BaseModel):
    results: list[JobHits]
    index_updated: str
    rows: int
    took_ms: float


class RequestProblem(Exception):
    """Input that validates but does not fit the loaded index; answered with 422."""

    def __init__(self, loc: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = tuple(loc)
