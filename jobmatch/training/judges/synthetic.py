"""A simulated LLM judge for `jobmatch synth` corpora: the offline stand-in for an AI judge.

RankPO's stage 2 learns from an LLM that reads a job and two candidate texts and says which
fits better. Offline, and in tests, this judge plays that LLM. It scores each candidate the
way an attentive reader of both texts would, from what the texts reveal:

    score = W_RULES * rule relevance (0..3, `rules.match_pair`)
          + W_MUST  * |job must-have methods ∩ candidate methods|
          + W_NICE  * |job nice-to-have methods ∩ candidate methods|
          + W_IMPACT * candidate impact (0..3)

The methods and impact live only in the synthetic corpus's `hidden_*` columns (and in the
texts), never in the rule labels, so preferences from this judge teach stage 2 something
stage 1's rule-derived pairs could not. The rules still weigh most: one grade of relevance
outweighs one must-have method plus one nice-to-have, but two must-have methods outweigh one
grade, and a full impact gap (0 -> 3) counts less than one must-have method.

Noise model, because LLM judges are noisy: the higher score is preferred, a tie is a seeded
coin, and with probability `noise` (default 0.1) the answer is flipped. Confidence is
logistic in the score gap, 1 / (1 + exp(-gap / CONFIDENCE_SCALE)), so in [0.5, 1); 0.5 for
a tie. A flipped answer keeps the confidence of the gap: the judge does not know when it is
wrong, so confidence carries no hint of which answers were flipped.

Every random draw is a hash of (seed, job, the unordered pair of candidates), so an answer does
not depend on batching, order, or which passage is shown as A: the judge has no position bias
and answers a swapped pair consistently.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from jobmatch import schema
from jobmatch.errors import InputError
from jobmatch.rules import RuleSet, load_rules, match_pair
from jobmatch.synth import HIDDEN_IMPACT, HIDDEN_METHODS, HIDDEN_MUST_HAVE, HIDDEN_NICE_TO_HAVE
from jobmatch.training.judges import Judgement, PairToJudge

W_RULES = 1.0
"""Per grade of rule relevance (0..3): the rules dominate, as a recruiter's hard criteria."""
W_MUST = 0.6
"""Per must-have method of the job the candidate has used: two outweigh one relevance grade."""
W_NICE = 0.25
"""Per nice-to-have method of the job the candidate has used."""
W_IMPACT = 0.15
"""Per impact level (0..3): a full impact gap (0.45) counts less than one must-have method."""
CONFIDENCE_SCALE = 0.5
"""Score gap giving confidence σ(1) ≈ 0.73; one relevance grade gives σ(2) ≈ 0.88."""
MAX_NOISE = 0.5

MISSING_HIDDEN = (
    "the synthetic judge needs the hidden_* columns of `jobmatch synth` corpora; "
    "use --judge llm for real data"
)
_TIE = 1e-9


class SyntheticJudge:
    """Judge from the synthetic corpus's hidden attributes plus the rules, with seeded noise.

    This is not an AI judge: it is the offline stand-in for one, usable only on corpora made
    by `jobmatch synth`, which carry the hidden attributes it reads.

    Args:
        jobs: jobs table with `hidden_must_have` and `hidden_nice_to_have` (lists).
        candidates: candidates table with `hidden_methods` (list) and `hidden_impact` (0..3).
        noise: probability of flipping an answer, 0..0.5.
        rules: rule set for the relevance term (default: the shipped rules).
        seed: seed of the tie coins and flips.

    Raises:
        InputError: a hidden column is missing (names the column).
        ValueError: noise outside 0..0.5.

    Example:
        >>> judge = SyntheticJudge(jobs, candidates, noise=0.1, seed=0)
        >>> answers = judge.judge(draw_pairs(encoder, jobs, candidates, pairs_per_job=20))
    """

    name = "synthetic"

    def __init__(
        self,
        jobs: pl.DataFrame,
        candidates: pl.DataFrame,
        *,
        noise: float = 0.1,
        rules: RuleSet | None = None,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= noise <= MAX_NOISE:
            raise ValueError(f"noise must be in [0, {MAX_NOISE}], got {noise}")
        _require(jobs, (HIDDEN_MUST_HAVE, HIDDEN_NICE_TO_HAVE))
        _require(candidates, (HIDDEN_METHODS, HIDDEN_IMPACT))
        self.noise = noise
        self.rules = rules if rules is not None else load_rules()
        self.seed = seed
        self._jobs = _Rows(
            jobs, schema.JOB_ID, (*self.rules.job_columns(), HIDDEN_MUST_HAVE, HIDDEN_NICE_TO_HAVE)
        )
        self._candidates = _Rows(
            candidates,
            schema.CANDIDATE_ID,
            (*self.rules.candidate_columns(), HIDDEN_METHODS, HIDDEN_IMPACT),
        )
        self.stats: dict[str, int] = {"asked": 0, "ties": 0, "flipped": 0}

    def score(self, job: dict[str, Any], candidate: dict[str, Any]) -> float:
        """How well a candidate fits a job, as the attentive reader sees it (row dicts)."""
        return sum(self.parts(job, candidate).values())

    def parts(self, job: dict[str, Any], candidate: dict[str, Any]) -> dict[str, float]:
        """The weighted terms of `score`, by attribute: rules, must-have, nice-to-have, impact."""
        methods = set(candidate.get(HIDDEN_METHODS) or ())
        return {
            "rules": W_RULES * match_pair(job, candidate, self.rules).relevance,
            "must-have": W_MUST * len(set(job.get(HIDDEN_MUST_HAVE) or ()) & methods),
            "nice-to-have": W_NICE * len(set(job.get(HIDDEN_NICE_TO_HAVE) or ()) & methods),
            "impact": W_IMPACT * (candidate.get(HIDDEN_IMPACT) or 0),
        }

    def pair_parts(
        self, pairs: Sequence[PairToJudge]
    ) -> list[tuple[dict[str, float], dict[str, float]]]:
        """Per pair, the weighted terms (`parts`) of candidate A and of candidate B."""
        jobs = self._jobs.lookup({pair.job_id for pair in pairs})
        candidates = self._candidates.lookup(
            {pair.a_id for pair in pairs} | {pair.b_id for pair in pairs}
        )
        return [
            (
                self.parts(jobs[pair.job_id], candidates[pair.a_id]),
                self.parts(jobs[pair.job_id], candidates[pair.b_id]),
            )
            for pair in pairs
        ]

    def deciding_attribute(self, pairs: Sequence[PairToJudge]) -> list[str]:
        """Per pair, the attribute whose term differs most between A and B, or "tie".

        Says what a model must have learnt to agree with the judge on that pair: the rules
        (stage 1's labels), methods that only the texts mention, or impact (query-independent).
        """
        decided = []
        for a, b in self.pair_parts(pairs):
            if abs(sum(a.values()) - sum(b.values())) <= _TIE:
                decided.append("tie")
            else:
                decided.append(max(a, key=lambda name: abs(a[name] - b[name])))
        return decided

    def judge(self, pairs: Sequence[PairToJudge]) -> list[Judgement | None]:
        """Answer every pair (never None): higher score, seeded tie coin, seeded flips."""
        jobs = self._jobs.lookup({pair.job_id for pair in pairs})
        candidates = self._candidates.lookup(
            {pair.a_id for pair in pairs} | {pair.b_id for pair in pairs}
        )
        answers: list[Judgement | None] = []
        for pair in pairs:
            job = jobs[pair.job_id]
            gap = self.score(job, candidates[pair.a_id]) - self.score(job, candidates[pair.b_id])
            tie_coin, flip_coin = self._coins(pair)
            if abs(gap) <= _TIE:
                self.stats["ties"] += 1
                # the coin picks by id order, so a swapped pair gets the same candidate
                preferred = "A" if (tie_coin < 0.5) == (pair.a_id < pair.b_id) else "B"
                confidence = 0.5
            else:
                preferred = "A" if gap > 0 else "B"
                confidence = 1.0 / (1.0 + math.exp(-abs(gap) / CONFIDENCE_SCALE))
            if flip_coin < self.noise:
                self.stats["flipped"] += 1
                preferred = "B" if preferred == "A" else "A"
            self.stats["asked"] += 1
            answers.append(Judgement(preferred=preferred, confidence=confidence))
        return answers

    def _coins(self, pair: PairToJudge) -> tuple[float, float]:
        """Two uniforms in [0, 1) fixed by (seed, job, unordered pair)."""
        low, high = sorted((pair.a_id, pair.b_id))
        key = "\x1f".join((str(self.seed), pair.job_id, low, high)).encode("utf-8")
        digest = hashlib.blake2b(key, digest_size=16).digest()
        return (
            int.from_bytes(digest[:8], "big") / 2**64,
            int.from_bytes(digest[8:], "big") / 2**64,
        )


def _require(frame: pl.DataFrame, columns: Sequence[str]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InputError(MISSING_HIDDEN, column=column)


class _Rows:
    """Row dicts by id, built only for the ids asked about (a corpus may have a million rows)."""

    def __init__(self, frame: pl.DataFrame, id_column: str, columns: Sequence[str]) -> None:
        """`columns`: what the rules read and the hidden facts the judge reads."""
        keep = [c for c in dict.fromkeys((id_column, *columns)) if c in frame.columns]
        self.frame = frame.select(keep)
        self.id_column = id_column
        self.position = {value: row for row, value in enumerate(frame[id_column].to_list())}

    def lookup(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        missing = sorted(ids - self.position.keys())
        if missing:
            raise InputError(f"unknown id {missing[0]!r}", column=self.id_column)
        rows = sorted(self.position[value] for value in ids)
        return {row[self.id_column]: row for row in self.frame[rows].rows(named=True)}
