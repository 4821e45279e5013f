"""Structured fields of the synthetic corpus, sampled with vectorised numpy per block.

The random generator of a block is seeded from (seed, stream, block index), so output is
deterministic, a shorter corpus is a prefix of a longer one, and memory stays bounded. The
per-record facts (`person_facts`, `job_facts`) are what `text` words.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from jobmatch import schema
from jobmatch.synth.areas import AREAS, FAMILIES, Area
from jobmatch.synth.vocab import CITY_WEIGHTS, LOCATIONS, YEARS_BY_LEVEL

BLOCK_ROWS = 10_000

HIDDEN_METHODS = f"{schema.HIDDEN_PREFIX}methods"
HIDDEN_IMPACT = f"{schema.HIDDEN_PREFIX}impact"
HIDDEN_MUST_HAVE = f"{schema.HIDDEN_PREFIX}must_have"
HIDDEN_NICE_TO_HAVE = f"{schema.HIDDEN_PREFIX}nice_to_have"

STRING_LIST = pa.list_(pa.string())
CANDIDATE_SCHEMA = pa.schema(
    [
        *schema.CANDIDATES.all_columns.items(),
        (HIDDEN_METHODS, STRING_LIST),
        (HIDDEN_IMPACT, pa.int8()),
    ]
)
JOB_SCHEMA = pa.schema(
    [
        *schema.JOBS.all_columns.items(),
        (HIDDEN_MUST_HAVE, STRING_LIST),
        (HIDDEN_NICE_TO_HAVE, STRING_LIST),
    ]
)

# Distributions, tuned so that among 2,000 candidates a typical job has ~10-60 relevant ones.
CANDIDATE_LEVEL_P = (0.08, 0.18, 0.24, 0.24, 0.16, 0.10)
JOB_LEVEL_P = (0.04, 0.16, 0.30, 0.30, 0.13, 0.07)
# Remote roles skew senior and narrow: every candidate fits their location, so they stay
# selective through level and areas instead.
REMOTE_JOB_LEVEL_P = (0.0, 0.0, 0.10, 0.30, 0.35, 0.25)
REMOTE_JOB_AREA_COUNT_P = {1: 0.6, 2: 0.4}
CANDIDATE_AREA_COUNT_P = {2: 0.35, 3: 0.45, 4: 0.20}
JOB_AREA_COUNT_P = {1: 0.20, 2: 0.50, 3: 0.30}
CANDIDATE_CROSS_FAMILY = 0.20
JOB_CROSS_FAMILY = 0.10
REMOTE_CANDIDATE_SHARE = 0.08
REMOTE_JOB_SHARE = 0.20
REMOTE_JOB_WITHOUT_OFFICE = 0.5
METHODS_PER_AREA_P = (0.20, 0.40, 0.30, 0.10)  # a candidate knows 0..3 methods of each area
MAX_CANDIDATE_METHODS = 6
OUTSIDE_METHOD_SHARE = 0.15  # knows one method of an area not among their areas
LEARNING_SHARE = 0.10  # mentions a method they are only learning (not a hidden method)
PAST_CITY_SHARE = 0.45  # candidate texts naming a past city besides the current one
JOB_OTHER_CITY_SHARE = 0.35  # job texts naming a headquarters or offsite city
IMPACT_P = (0.30, 0.35, 0.25, 0.10)
MUST_HAVE_COUNT_P = {1: 0.35, 2: 0.45, 3: 0.20}
NICE_TO_HAVE_COUNT_P = {0: 0.25, 1: 0.45, 2: 0.30}

CANDIDATE_STREAM, JOB_STREAM = 0, 1

_AREA_LIST: tuple[Area, ...] = tuple(AREAS.values())
AREA_SLUGS = np.array(list(AREAS), dtype=object)
_FAMILY_NAMES = tuple(FAMILIES)
_AREA_FAMILY = np.array([_FAMILY_NAMES.index(area.family) for area in _AREA_LIST])
_AREA_WEIGHT = np.array([area.weight * FAMILIES[area.family].weight for area in _AREA_LIST])
_AREA_P = _AREA_WEIGHT / _AREA_WEIGHT.sum()
_FAMILY_P = np.bincount(_AREA_FAMILY, weights=_AREA_WEIGHT) / _AREA_WEIGHT.sum()
_CITY_P = np.asarray(CITY_WEIGHTS) / sum(CITY_WEIGHTS)
# Index -1 (a remote person or a job without an office) picks the last entry, "Remote".
LOCATION_NAMES = np.array(
    [f"{city}, {country}" for city, country in LOCATIONS] + [schema.REMOTE_LOCATION], dtype=object
)


# ---------------------------------------------------------------- vectorised field sampling


def check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def field_batches(
    n: int,
    seed: int,
    stream: int,
    sample: Callable[[np.random.Generator, int], Any],
    build: Callable[[Any, int, int], pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """Blocks of `BLOCK_ROWS` rows, each from its own generator seeded by (seed, stream, block).

    Fields are always sampled for a full block and the last block is cut afterwards, so a
    block's rows do not depend on how many of them are kept.
    """
    for block, start in enumerate(range(0, n, BLOCK_ROWS)):
        rng = np.random.default_rng([seed, stream, block])
        yield build(sample(rng, BLOCK_ROWS), start, min(BLOCK_ROWS, n - start))


def _sample_areas(
    rng: np.random.Generator, rows: int, count_p: dict[int, float], cross_share: float
) -> np.ndarray:
    """(rows, max count) area indices, -1 padded: mostly one family, sometimes one outsider.

    Weighted sampling without replacement by exponential races: the smallest keys win.
    The first column is the primary area (used in titles).
    """
    width = max(count_p)
    counts = rng.choice(list(count_p), size=rows, p=list(count_p.values()))
    family = rng.choice(len(_FAMILY_NAMES), size=rows, p=_FAMILY_P)
    cross = (rng.random(rows) < cross_share) & (counts > 1)
    keys = rng.exponential(size=(rows, len(_AREA_LIST))) / _AREA_WEIGHT
    in_family = _AREA_FAMILY[None, :] == family[:, None]
    own = np.argsort(np.where(in_family, keys, np.inf), axis=1)[:, :width]
    outsider = np.argmin(np.where(in_family, np.inf, keys), axis=1)
    n_own = counts - cross
    areas = np.where(np.arange(width)[None, :] < n_own[:, None], own, -1)
    cross_rows = np.flatnonzero(cross)
    areas[cross_rows, n_own[cross_rows]] = outsider[cross_rows]
    return areas


def _random_areas(rng: np.random.Generator, rows: int) -> np.ndarray:
    return rng.choice(len(_AREA_LIST), size=rows, p=_AREA_P)


def _sample_years(rng: np.random.Generator, levels: np.ndarray) -> np.ndarray:
    """Years of experience inside the level's range, in half years."""
    low = np.array([YEARS_BY_LEVEL[level][0] for level in range(6)])[levels]
    high = np.array([YEARS_BY_LEVEL[level][1] for level in range(6)])[levels]
    years = low + rng.random(len(levels)) * (high - low)
    return (np.round(years * 2) / 2).astype(np.float32)


def _other_city(rng: np.random.Generator, city: np.ndarray, share: float) -> np.ndarray:
    """A city different from `city` for a share of rows (-1 elsewhere): the distractor city."""
    other = rng.choice(len(LOCATIONS), size=len(city), p=_CITY_P)
    other = np.where(other == city, (other + 1) % len(LOCATIONS), other)
    return np.where(rng.random(len(city)) < share, other, -1)


@dataclass(frozen=True)
class CandidateFields:
    """Structured and hidden fields of one block of candidates, one array entry per row."""

    city: np.ndarray  # index into LOCATIONS, -1 = Remote
    level: np.ndarray
    years: np.ndarray
    areas: np.ndarray  # (rows, 4), -1 padded, primary area first
    method_counts: np.ndarray  # (rows, 4): how many methods of each area the person has
    extra_area: np.ndarray  # area of one method picked up outside the person's areas, or -1
    learning_area: np.ndarray  # area of a method being learned (said, not had), or -1
    impact: np.ndarray
    past_city: np.ndarray
    text_seed: int


def sample_candidates(rng: np.random.Generator, rows: int) -> CandidateFields:
    city = rng.choice(len(LOCATIONS), size=rows, p=_CITY_P)
    city = np.where(rng.random(rows) < REMOTE_CANDIDATE_SHARE, -1, city)
    level = rng.choice(6, size=rows, p=CANDIDATE_LEVEL_P).astype(np.int8)
    areas = _sample_areas(rng, rows, CANDIDATE_AREA_COUNT_P, CANDIDATE_CROSS_FAMILY)
    counts = rng.choice(len(METHODS_PER_AREA_P), size=areas.shape, p=METHODS_PER_AREA_P)
    counts[:, 0] = np.maximum(counts[:, 0], 1)
    extra = np.where(rng.random(rows) < OUTSIDE_METHOD_SHARE, _random_areas(rng, rows), -1)
    learning = np.where(rng.random(rows) < LEARNING_SHARE, _random_areas(rng, rows), -1)
    # Impact is mostly independent of level, so it tells a judge something the fields do not;
    # only the implausible (an intern who set company-wide direction) is ruled out.
    impact = rng.choice(4, size=rows, p=IMPACT_P)
    impact = np.minimum(impact + ((level >= 4) & (rng.random(rows) < 0.3)), 3)
    impact = np.minimum(impact, level + 1).astype(np.int8)
    return CandidateFields(
        city=city,
        level=level,
        years=_sample_years(rng, level),
        areas=areas,
        method_counts=np.where(areas >= 0, counts, 0),
        extra_area=extra,
        learning_area=learning,
        impact=impact,
        past_city=_other_city(rng, city, PAST_CITY_SHARE),
        text_seed=int(rng.integers(2**63)),
    )


@dataclass(frozen=True)
class JobFields:
    """Structured fields of one block of jobs; hidden methods are drawn while writing text."""

    city: np.ndarray  # office city, -1 = no office ("Remote")
    remote: np.ndarray
    level: np.ndarray
    areas: np.ndarray  # (rows, 3), -1 padded
    must_count: np.ndarray
    nice_count: np.ndarray
    other_city: np.ndarray
    text_seed: int


def sample_jobs(rng: np.random.Generator, rows: int) -> JobFields:
    city = rng.choice(len(LOCATIONS), size=rows, p=_CITY_P)
    remote = rng.random(rows) < REMOTE_JOB_SHARE
    no_office = remote & (rng.random(rows) < REMOTE_JOB_WITHOUT_OFFICE)
    must = rng.choice(list(MUST_HAVE_COUNT_P), size=rows, p=list(MUST_HAVE_COUNT_P.values()))
    nice = rng.choice(list(NICE_TO_HAVE_COUNT_P), size=rows, p=list(NICE_TO_HAVE_COUNT_P.values()))
    level = rng.choice(6, size=rows, p=JOB_LEVEL_P)
    remote_level = rng.choice(6, size=rows, p=REMOTE_JOB_LEVEL_P)
    areas = _sample_areas(rng, rows, JOB_AREA_COUNT_P, JOB_CROSS_FAMILY)
    columns = np.arange(areas.shape[1])[None, :]
    widths = list(REMOTE_JOB_AREA_COUNT_P)
    remote_width = rng.choice(widths, size=rows, p=list(REMOTE_JOB_AREA_COUNT_P.values()))
    return JobFields(
        city=np.where(no_office, -1, city),
        remote=remote,
        level=np.where(remote, remote_level, level).astype(np.int8),
        areas=np.where(remote[:, None] & (columns >= remote_width[:, None]), -1, areas),
        must_count=must,
        nice_count=nice,
        other_city=_other_city(rng, city, JOB_OTHER_CITY_SHARE),
        text_seed=int(rng.integers(2**63)),
    )


# ---------------------------------------------------------------- per-record facts


@dataclass
class PersonFacts:
    """One candidate's facts as plain Python values, ready to be worded."""

    level: int
    years: float
    city: int
    areas: list[Area]
    methods: list[list[str]]  # per area: the methods the person really has (hidden)
    impact: int
    past_city: int
    learning: str | None


def person_facts(
    r: random.Random,
    city: int,
    level: int,
    years: float,
    area_ids: list[int],
    counts: list[int],
    extra: int,
    learning: int,
    impact: int,
    past: int,
) -> PersonFacts:
    """Draw which methods a person has; the count per area comes from the vectorised fields."""
    areas = [_AREA_LIST[a] for a in area_ids if a >= 0]
    methods = [
        r.sample(area.methods, k) for area, k in zip(areas, counts[: len(areas)], strict=True)
    ]
    while sum(map(len, methods)) > MAX_CANDIDATE_METHODS:
        longest = max(range(len(methods)), key=lambda j: len(methods[j]))
        methods[longest].pop()
    if extra >= 0 and _AREA_LIST[extra] not in areas:
        methods.append([r.choice(_AREA_LIST[extra].methods)])
    known = {m for area_methods in methods for m in area_methods}
    learning_method = None
    if learning >= 0:
        candidate = r.choice(_AREA_LIST[learning].methods)
        learning_method = None if candidate in known else candidate
    return PersonFacts(level, years, city, areas, methods, impact, past, learning_method)


@dataclass
class JobFacts:
    """One job's facts as plain Python values, ready to be worded."""

    level: int
    city: int
    remote: bool
    areas: list[Area]
    must: list[str]
    nice: list[str]
    other_city: int


def job_facts(
    r: random.Random,
    city: int,
    remote: bool,
    level: int,
    area_ids: list[int],
    n_must: int,
    n_nice: int,
    other: int,
) -> JobFacts:
    """Draw must-have and nice-to-have methods from the job's areas (nice ones sometimes not)."""
    areas = [_AREA_LIST[a] for a in area_ids if a >= 0]
    pool = [m for area in areas for m in area.methods]
    must = r.sample(pool, n_must)
    rest = [m for m in pool if m not in must]
    if n_nice and r.random() < 0.25:
        rest = [m for m in r.choice(_AREA_LIST).methods if m not in must]
    nice = r.sample(rest, min(n_nice, len(rest)))
    return JobFacts(level, city, remote, areas, must, nice, other)
