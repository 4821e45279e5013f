"""Preference judges: which of two candidates fits a job better.

A judge sees pairs of candidates drawn from a stage-1 model's top-100 for a job (as in the
RankPO paper) and answers "A" or "B" with an optional confidence. `synthetic` simulates an
LLM judge offline from the synthetic corpus's hidden attributes; `llm` asks any
OpenAI-compatible chat-completions endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    import polars as pl

Preferred = Literal["A", "B"]


@dataclass(frozen=True)
class PairToJudge:
    """One comparison: passage A and passage B for one job."""

    job_id: str
    job_text: str
    a_id: str
    a_text: str
    b_id: str
    b_text: str


@dataclass(frozen=True)
class Judgement:
    """A judge's answer; `confidence` in [0, 1] when the judge gives one."""

    preferred: Preferred
    confidence: float | None = None


class Judge(Protocol):
    """Anything that can compare pairs; None marks a pair it could not judge (dropped)."""

    name: str

    def judge(self, pairs: Sequence[PairToJudge]) -> list[Judgement | None]: ...


def preferences_table(
    pairs: Sequence[PairToJudge], answers: Sequence[Judgement | None]
) -> pl.DataFrame:
    """The preferences table (job_id, chosen, rejected, confidence) of a judge's answers;
    pairs it could not judge (None) are left out."""
    import polars as pl

    from jobmatch import schema

    kept = [(p, a) for p, a in zip(pairs, answers, strict=True) if a is not None]
    return pl.DataFrame(
        {
            schema.JOB_ID: [p.job_id for p, _ in kept],
            schema.CHOSEN: [p.a_id if a.preferred == "A" else p.b_id for p, a in kept],
            schema.REJECTED: [p.b_id if a.preferred == "A" else p.a_id for p, a in kept],
            schema.CONFIDENCE: [a.confidence for _, a in kept],
        },
        schema={
            schema.JOB_ID: pl.String,
            schema.CHOSEN: pl.String,
            schema.REJECTED: pl.String,
            schema.CONFIDENCE: pl.Float32,
        },
    )
