"""Preference judges: which of two candidates fits a job better.

A judge sees pairs of candidates drawn from a stage-1 model's top-100 for a job (as in the
RankPO paper) and answers "A" or "B" with an optional confidence. `synthetic` simulates an
LLM judge offline from the synthetic corpus's hidden attributes; `llm` asks any
OpenAI-compatible chat-completions endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

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
