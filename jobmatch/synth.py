"""Seeded synthetic corpus: jobs and candidates whose structured fields live in free text.

The rules read the structured columns (location, seniority, areas); the model only ever sees
`text`, so every field is written into the text in varied, paraphrased form, next to
distractors (a past city, conferences, hobbies) that a model must learn to ignore. Hidden
columns (prefix `schema.HIDDEN_PREFIX`) hold what only the text reveals, such as the exact
methods a candidate has used, and later drive a simulated preference judge.

Structured fields are sampled with vectorised numpy per block of `BLOCK_ROWS` rows; the
random generator of a block is seeded from (seed, stream, block index), so output is
deterministic, a shorter corpus is a prefix of a longer one, and memory stays bounded.

Example:
    >>> jobs = generate_jobs(100, seed=0)
    >>> paths = write_corpus("data/synth", n_candidates=100_000, n_jobs=1_000, seed=0)
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from jobmatch import schema
from jobmatch.synth_vocab import (
    AREAS,
    CITY_WEIGHTS,
    COMPANY_KINDS,
    COUNTRY_ALIASES,
    DEGREES,
    FAMILIES,
    HOBBIES,
    IMPACT_PHRASES,
    JOB_DUTIES,
    JOB_MIN_YEARS,
    LOCATIONS,
    PAST_CITY_PHRASES,
    PERKS,
    RESEARCH_IMPACT_PHRASES,
    SENIORITY_TITLES,
    SPOKEN_LANGUAGES,
    TEAM_FACTS,
    WORK_STYLE,
    YEARS_BY_LEVEL,
    Area,
)

__all__ = [
    "AREAS",
    "BLOCK_ROWS",
    "CANDIDATE_SCHEMA",
    "CANDIDATE_TEMPLATES",
    "HIDDEN_IMPACT",
    "HIDDEN_METHODS",
    "HIDDEN_MUST_HAVE",
    "HIDDEN_NICE_TO_HAVE",
    "JOB_SCHEMA",
    "JOB_TEMPLATES",
    "LOCATIONS",
    "SENIORITY_TITLES",
    "generate_candidates",
    "generate_jobs",
    "iter_candidate_batches",
    "write_corpus",
]

BLOCK_ROWS = 10_000

HIDDEN_METHODS = f"{schema.HIDDEN_PREFIX}methods"
HIDDEN_IMPACT = f"{schema.HIDDEN_PREFIX}impact"
HIDDEN_MUST_HAVE = f"{schema.HIDDEN_PREFIX}must_have"
HIDDEN_NICE_TO_HAVE = f"{schema.HIDDEN_PREFIX}nice_to_have"

_STRING_LIST = pa.list_(pa.string())
CANDIDATE_SCHEMA = pa.schema(
    [
        *schema.CANDIDATES.all_columns.items(),
        (HIDDEN_METHODS, _STRING_LIST),
        (HIDDEN_IMPACT, pa.int8()),
    ]
)
JOB_SCHEMA = pa.schema(
    [
        *schema.JOBS.all_columns.items(),
        (HIDDEN_MUST_HAVE, _STRING_LIST),
        (HIDDEN_NICE_TO_HAVE, _STRING_LIST),
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

_CANDIDATE_STREAM, _JOB_STREAM = 0, 1

_AREA_LIST: tuple[Area, ...] = tuple(AREAS.values())
_AREA_SLUGS = np.array(list(AREAS), dtype=object)
_FAMILY_NAMES = tuple(FAMILIES)
_AREA_FAMILY = np.array([_FAMILY_NAMES.index(area.family) for area in _AREA_LIST])
_AREA_WEIGHT = np.array([area.weight * FAMILIES[area.family].weight for area in _AREA_LIST])
_AREA_P = _AREA_WEIGHT / _AREA_WEIGHT.sum()
_FAMILY_P = np.bincount(_AREA_FAMILY, weights=_AREA_WEIGHT) / _AREA_WEIGHT.sum()
_CITY_P = np.asarray(CITY_WEIGHTS) / sum(CITY_WEIGHTS)
# Index -1 (a remote person or a job without an office) picks the last entry, "Remote".
_LOCATION_NAMES = np.array(
    [f"{city}, {country}" for city, country in LOCATIONS] + [schema.REMOTE_LOCATION], dtype=object
)


# ---------------------------------------------------------------- public API


def iter_candidate_batches(n: int, *, seed: int) -> Iterator[pa.RecordBatch]:
    """Yield `n` candidates in blocks of `BLOCK_ROWS` rows, so memory stays bounded for any n.

    Block b depends only on (seed, b): the first m rows of any corpus are the same rows.
    Arguments are checked at once, not when the first batch is asked for.
    """
    _check_count("n", n)
    _check_count("seed", seed)
    return _batches(n, seed, _CANDIDATE_STREAM, _sample_candidates, _candidate_batch)


def generate_candidates(n: int, *, seed: int) -> pa.Table:
    """All `n` candidates as one table: the concatenation of `iter_candidate_batches`."""
    return pa.Table.from_batches(list(iter_candidate_batches(n, seed=seed)), CANDIDATE_SCHEMA)


def generate_jobs(n: int, *, seed: int) -> pa.Table:
    """`n` job descriptions; same seed, same table (jobs use their own random stream)."""
    _check_count("n", n)
    _check_count("seed", seed)
    batches = _batches(n, seed, _JOB_STREAM, _sample_jobs, _job_batch)
    return pa.Table.from_batches(list(batches), JOB_SCHEMA)


def write_corpus(
    out_dir: str | Path,
    *,
    n_candidates: int,
    n_jobs: int,
    seed: int,
    progress: bool = False,
) -> dict[str, Path]:
    """Write candidates.parquet and jobs.parquet into `out_dir` (created if missing).

    Candidates are streamed block by block. Each file is written under a temporary sibling
    name, fsynced and renamed only when both are complete, so a crash never leaves a
    half-written corpus behind.
    """
    _check_count("n_candidates", n_candidates)
    _check_count("n_jobs", n_jobs)
    _check_count("seed", seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"candidates": out / "candidates.parquet", "jobs": out / "jobs.parquet"}
    temps = {kind: out / f".{path.name}.{os.getpid()}.tmp" for kind, path in paths.items()}
    try:
        with _progress_bar(n_candidates, enabled=progress) as bar:
            batches = iter_candidate_batches(n_candidates, seed=seed)
            _write_parquet(temps["candidates"], CANDIDATE_SCHEMA, batches, on_batch=bar)
        jobs = generate_jobs(n_jobs, seed=seed)
        _write_parquet(temps["jobs"], JOB_SCHEMA, jobs.to_batches())
        for kind, path in paths.items():
            os.replace(temps[kind], path)
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
    return paths


# ---------------------------------------------------------------- vectorised field sampling


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _batches(
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
class _CandidateFields:
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


def _sample_candidates(rng: np.random.Generator, rows: int) -> _CandidateFields:
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
    return _CandidateFields(
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
class _JobFields:
    """Structured fields of one block of jobs; hidden methods are drawn while writing text."""

    city: np.ndarray  # office city, -1 = no office ("Remote")
    remote: np.ndarray
    level: np.ndarray
    areas: np.ndarray  # (rows, 3), -1 padded
    must_count: np.ndarray
    nice_count: np.ndarray
    other_city: np.ndarray
    text_seed: int


def _sample_jobs(rng: np.random.Generator, rows: int) -> _JobFields:
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
    return _JobFields(
        city=np.where(no_office, -1, city),
        remote=remote,
        level=np.where(remote, remote_level, level).astype(np.int8),
        areas=np.where(remote[:, None] & (columns >= remote_width[:, None]), -1, areas),
        must_count=must,
        nice_count=nice,
        other_city=_other_city(rng, city, JOB_OTHER_CITY_SHARE),
        text_seed=int(rng.integers(2**63)),
    )


# ---------------------------------------------------------------- Arrow assembly


def _string_lists(index_rows: np.ndarray, names: np.ndarray) -> pa.ListArray:
    """A list<string> column from a -1 padded index matrix, without a Python loop."""
    mask = index_rows >= 0
    offsets = np.zeros(len(index_rows) + 1, dtype=np.int32)
    np.cumsum(mask.sum(axis=1), out=offsets[1:])
    values = pa.array(names[index_rows[mask]], type=pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _candidate_batch(fields: _CandidateFields, start: int, rows: int) -> pa.RecordBatch:
    r = random.Random(fields.text_seed)
    texts, methods = [], []
    columns = zip(
        fields.city[:rows].tolist(),
        fields.level[:rows].tolist(),
        fields.years[:rows].tolist(),
        fields.areas[:rows].tolist(),
        fields.method_counts[:rows].tolist(),
        fields.extra_area[:rows].tolist(),
        fields.learning_area[:rows].tolist(),
        fields.impact[:rows].tolist(),
        fields.past_city[:rows].tolist(),
        strict=True,
    )
    for city, level, years, areas, counts, extra, learning, impact, past in columns:
        person = _person(r, city, level, years, areas, counts, extra, learning, impact, past)
        texts.append(_candidate_text(person, r))
        methods.append([m for area_methods in person.methods for m in area_methods])
    arrays = [
        pa.array([f"c{i:07d}" for i in range(start + 1, start + rows + 1)], pa.string()),
        pa.array(texts, pa.string()),
        pa.array(_LOCATION_NAMES[fields.city[:rows]], pa.string()),
        pa.array(fields.level[:rows], pa.int8()),
        _string_lists(fields.areas[:rows], _AREA_SLUGS),
        pa.array(fields.years[:rows], pa.float32()),
        pa.array(methods, _STRING_LIST),
        pa.array(fields.impact[:rows], pa.int8()),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=CANDIDATE_SCHEMA)


def _job_batch(fields: _JobFields, start: int, rows: int) -> pa.RecordBatch:
    r = random.Random(fields.text_seed)
    texts, musts, nices = [], [], []
    columns = zip(
        fields.city[:rows].tolist(),
        fields.remote[:rows].tolist(),
        fields.level[:rows].tolist(),
        fields.areas[:rows].tolist(),
        fields.must_count[:rows].tolist(),
        fields.nice_count[:rows].tolist(),
        fields.other_city[:rows].tolist(),
        strict=True,
    )
    for city, remote, level, areas, n_must, n_nice, other in columns:
        job = _job(r, city, remote, level, areas, n_must, n_nice, other)
        texts.append(_job_text(job, r))
        musts.append(job.must)
        nices.append(job.nice)
    arrays = [
        pa.array([f"j{i:05d}" for i in range(start + 1, start + rows + 1)], pa.string()),
        pa.array(texts, pa.string()),
        pa.array(_LOCATION_NAMES[fields.city[:rows]], pa.string()),
        pa.array(fields.level[:rows], pa.int8()),
        _string_lists(fields.areas[:rows], _AREA_SLUGS),
        pa.array(fields.remote[:rows], pa.bool_()),
        pa.array(musts, _STRING_LIST),
        pa.array(nices, _STRING_LIST),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=JOB_SCHEMA)


# ---------------------------------------------------------------- per-record facts


@dataclass
class _Person:
    """One candidate's facts as plain Python values, ready to be worded."""

    level: int
    years: float
    city: int
    areas: list[Area]
    methods: list[list[str]]  # per area: the methods the person really has (hidden)
    impact: int
    past_city: int
    learning: str | None


def _person(
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
) -> _Person:
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
    return _Person(level, years, city, areas, methods, impact, past, learning_method)


@dataclass
class _Job:
    """One job's facts as plain Python values, ready to be worded."""

    level: int
    city: int
    remote: bool
    areas: list[Area]
    must: list[str]
    nice: list[str]
    other_city: int


def _job(
    r: random.Random,
    city: int,
    remote: bool,
    level: int,
    area_ids: list[int],
    n_must: int,
    n_nice: int,
    other: int,
) -> _Job:
    """Draw must-have and nice-to-have methods from the job's areas (nice ones sometimes not)."""
    areas = [_AREA_LIST[a] for a in area_ids if a >= 0]
    pool = [m for area in areas for m in area.methods]
    must = r.sample(pool, n_must)
    rest = [m for m in pool if m not in must]
    if n_nice and r.random() < 0.25:
        rest = [m for m in r.choice(_AREA_LIST).methods if m not in must]
    nice = r.sample(rest, min(n_nice, len(rest)))
    return _Job(level, city, remote, areas, must, nice, other)


# ---------------------------------------------------------------- shared phrasing


def _join(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _with_article(phrase: str) -> str:
    """'a Senior ...', 'an NLP ...', 'an Engineering ...' (acronyms read letter by letter)."""
    word = phrase.split()[0]
    acronym = len(word) > 1 and word[:2].isupper()
    vowel = word[0] in ("AEFHILMNORSX" if acronym else "AEIOUaeiou")
    return f"{'an' if vowel else 'a'} {phrase}"


def _lower_first(sentence: str) -> str:
    return sentence[0].lower() + sentence[1:]


def _place(city: int, r: random.Random) -> str:
    """'Munich', 'Munich, Germany' or 'London, UK': the country is sometimes left out."""
    name, country = LOCATIONS[city]
    if r.random() < 0.45:
        return name
    country = r.choice((country, *COUNTRY_ALIASES.get(country, ())))
    return name if country == name else f"{name}, {country}"


def _title(level: int, area: Area, r: random.Random) -> str:
    return r.choice(SENIORITY_TITLES[level]).format(field=area.title)


def _generic_role(area: Area, r: random.Random) -> str:
    """A role that names the area but not the level ('NLP engineer')."""
    return f"{area.title} {r.choice(('engineer', 'developer', 'specialist', 'practitioner'))}"


def _years_phrase(years: float, r: random.Random) -> str:
    """'less than a year', '1.5 years', '7 years', 'over 7 years', '7+ years'."""
    if years < 1:
        return r.choice(("less than a year", "under a year"))
    whole = int(years)
    if years >= 3 and r.random() < 0.5:
        return r.choice((f"over {whole} years", f"{whole}+ years"))
    return "1 year" if years == 1 else f"{years:g} years"


def _mentions(areas: list[Area], methods: list[list[str]], r: random.Random) -> list[str]:
    """Names for the areas: always for areas without a mentioned method, else sometimes."""
    picked = [
        r.choice(area.mentions)
        for area, area_methods in zip(areas, methods[: len(areas)], strict=True)
        if not area_methods or r.random() < 0.55
    ]
    return picked or [r.choice(r.choice(areas).mentions)]


def _past_city(city: int, r: random.Random) -> str:
    name, country = LOCATIONS[city]
    return r.choice(PAST_CITY_PHRASES).format(
        city=name, country=country, n=r.randint(2, 6), year=r.randint(2008, 2022)
    )


# ---------------------------------------------------------------- candidate templates


@dataclass
class _CandidatePieces:
    """What a candidate text must say, already worded; templates only arrange it."""

    role: str  # a level title ("Senior NLP Engineer") or, when years carry the level, generic
    years: str | None
    place: str | None  # None for remote candidates
    city: str | None
    focus: list[str]
    methods: list[str]
    impact: str
    learning: str | None
    past: str | None
    hobbies: list[str]
    venue: str
    style: str
    degree: str
    employer: str
    languages: list[str]
    open_to_remote: bool


def _candidate_text(person: _Person, r: random.Random) -> str:
    primary = person.areas[0]
    show = r.random()
    methods = [m for area_methods in person.methods for m in area_methods]
    r.shuffle(methods)
    city = LOCATIONS[person.city][0] if person.city >= 0 else None
    impact_method = r.choice(methods) if methods else primary.name
    family = FAMILIES[primary.family]
    phrases = IMPACT_PHRASES[person.impact]
    if family.research:
        phrases += RESEARCH_IMPACT_PHRASES[person.impact]
    impact = r.choice(phrases).format(
        area=primary.name, method=impact_method, venue=r.choice(family.venues)
    )
    pieces = _CandidatePieces(
        role=_title(person.level, primary, r) if show < 0.75 else _generic_role(primary, r),
        years=_years_phrase(person.years, r) if show >= 0.4 else None,
        place=_place(person.city, r) if city else None,
        city=city,
        focus=_mentions(person.areas, person.methods, r),
        methods=methods,
        impact=impact,
        learning=person.learning,
        past=_past_city(person.past_city, r) if person.past_city >= 0 else None,
        hobbies=r.sample(HOBBIES, 2),
        venue=r.choice(FAMILIES[r.choice(person.areas).family].venues),
        style=r.choice(WORK_STYLE),
        degree=r.choice(DEGREES),
        employer=r.choice(COMPANY_KINDS),
        languages=r.sample(SPOKEN_LANGUAGES, r.randint(1, 3)),
        open_to_remote=city is not None and r.random() < 0.08,
    )
    return r.choice(CANDIDATE_TEMPLATES)(pieces, r)


def _sentences(*parts: str | None) -> str:
    return " ".join(part for part in parts if part)


def _resume_summary(p: _CandidatePieces, r: random.Random) -> str:
    if p.years:
        opening = f"{p.role} with {p.years} of experience in {_join(p.focus)}."
    else:
        opening = f"{p.role} specialising in {_join(p.focus)}."
    if p.place is None:
        where = r.choice(("Works fully remotely.", "Remote-only; not looking to relocate."))
    else:
        where = r.choice(
            ("Based in {place}.", "{city}-based.", "Currently located in {place}.",
             "Relocated to {place} in {year}.", "Lives and works in {place}.")
        ).format(place=p.place, city=p.city, year=r.randint(2015, 2024))  # fmt: skip
    tools = r.choice(("Hands-on with", "Core toolkit:", "Day-to-day tools include"))
    return _sentences(
        opening,
        where,
        f"{tools} {_join(p.methods)}." if p.methods else None,
        p.impact,
        f"Most recently at {p.employer}.",
        p.style,
        f"Currently learning {p.learning}." if p.learning else None,
        "Open to remote roles." if p.open_to_remote else None,
        f"Holds {p.degree}.",
        p.past,
        f"Speaks {_join(p.languages)}.",
        f"Outside work: {_join(p.hobbies)}.",
    )


def _researcher_profile(p: _CandidatePieces, r: random.Random) -> str:
    if p.place is None:
        where = "Works remotely with collaborators across several time zones."
    else:
        where = r.choice(
            ("Affiliated with a lab in {place}.", "Currently at a research group in {place}.",
             "Based in {place}.", "Works from the {city} office of an applied research team.")
        ).format(place=p.place, city=p.city)  # fmt: skip
    return _sentences(
        f"Research profile. {p.role}, working on {_join(p.focus)}.",
        f"Methods used in recent projects: {_join(p.methods)}." if p.methods else None,
        f"Has {p.years} of research and engineering experience." if p.years else None,
        where,
        p.impact,
        f"Attends {p.venue} most years.",
        f"Exploring {p.learning} for upcoming work." if p.learning else None,
        f"Holds {p.degree}.",
        p.past,
        p.style,
        f"Away from research: {_join(p.hobbies)}.",
    )


def _first_person_bio(p: _CandidatePieces, r: random.Random) -> str:
    if p.place is None:
        where = "I work fully remotely and don't plan to relocate."
    else:
        where = r.choice(("I'm based in {place}.", "I live in {place}.", "I moved to {place}."))
        where = where.format(place=p.place)
    work = f"I've been working on {_join(p.focus)}"
    return _sentences(
        f"Hi, I'm {_with_article(p.role)}.",
        where,
        f"{work} for {p.years}." if p.years else f"{work}.",
        f"Most of my work uses {_join(p.methods)}." if p.methods else None,
        f"I {_lower_first(p.impact)}",
        f"These days I work at {p.employer}, and I have {p.degree}.",
        f"Right now I'm learning {p.learning}." if p.learning else None,
        "I'm also open to remote positions." if p.open_to_remote else None,
        f"I {_lower_first(p.past)}" if p.past else None,
        f"In my free time I enjoy {_join(p.hobbies)}.",
        f"I usually go to {p.venue}.",
    )


def _bullet_cv(p: _CandidatePieces, r: random.Random) -> str:
    bullet = r.choice(("- ", "• ", "* "))
    lines = [
        f"Current role: {p.role}",
        f"Location: {p.place}" if p.place else "Location: Remote (no relocation)",
        f"Experience: {p.years}" if p.years else None,
        f"Focus areas: {', '.join(p.focus)}",
        f"Skills: {', '.join(p.methods)}" if p.methods else None,
        f"Highlights: {p.impact}",
        f"Last employer: {p.employer}",
        f"Education: {p.degree}",
        f"Languages: {', '.join(p.languages)}",
        f"Learning: {p.learning}" if p.learning else None,
        f"Background: {p.past}" if p.past else None,
        f"Conferences: {p.venue}",
        f"Interests: {', '.join(p.hobbies)}",
    ]
    return "\n".join(bullet + line for line in lines if line)


def _referral_note(p: _CandidatePieces, r: random.Random) -> str:
    where = f", now based in {p.place}" if p.place else ", who works remotely"
    experience = f" with {p.years} of experience" if p.years else ""
    return _sentences(
        f"Referral: {_with_article(p.role)}{experience}{where}.",
        f"Their focus is {_join(p.focus)}.",
        f"Strong with {_join(p.methods)}." if p.methods else None,
        p.impact,
        f"We overlapped at {p.employer}.",
        p.style,
        f"They hold {p.degree} and speak {_join(p.languages)}.",
        p.past,
        f"Spends free time on {_join(p.hobbies)}.",
    )


CandidateTemplate = Callable[[_CandidatePieces, random.Random], str]
CANDIDATE_TEMPLATES: tuple[CandidateTemplate, ...] = (
    _resume_summary,
    _researcher_profile,
    _first_person_bio,
    _bullet_cv,
    _referral_note,
)


# ---------------------------------------------------------------- job templates


@dataclass
class _JobPieces:
    """What a job text must say, already worded; templates only arrange it."""

    title: str
    years: str | None  # "5+ years of experience" or, for interns, "no prior experience"
    where: str  # contains "remote" exactly when the job is remote
    city: str | None
    focus: list[str]
    must: list[str]
    nice: list[str]
    company: str
    distractor: str | None
    perk: str
    duty: str
    team: str


def _job_years(level: int, r: random.Random) -> str:
    minimum = JOB_MIN_YEARS[level]
    if minimum == 0:
        return r.choice(("coursework or internship experience", "a strong academic record"))
    unit = "year" if minimum == 1 else "years"
    return r.choice(
        (f"{minimum}+ {unit} of experience", f"at least {minimum} {unit} of experience",
         f"{minimum}+ {unit} in a similar role")
    )  # fmt: skip


def _job_where(job: _Job, r: random.Random) -> str:
    if job.city < 0:
        return r.choice(("fully remote", "remote, anywhere in the world", "100% remote"))
    place = _place(job.city, r)
    if job.remote:
        options = ("remote-friendly, with an office in {place}", "remote (optional desk in {city})")
    else:
        options = ("in {place}", "on-site in {place}", "hybrid in {place}", "at our {city} office")
    return r.choice(options).format(place=place, city=LOCATIONS[job.city][0])


def _job_distractor(city: int, r: random.Random) -> str | None:
    if city < 0:
        return None
    name = LOCATIONS[city][0]
    return r.choice(
        ("The company is headquartered in {city}.", "Our yearly offsite takes place in {city}.",
         "The founders started the company in {city}.",
         "You'll collaborate with a sister team in {city}.")
    ).format(city=name)  # fmt: skip


def _job_text(job: _Job, r: random.Random) -> str:
    primary = job.areas[0]
    said = set(job.must) | set(job.nice)
    per_area = [[m for m in area.methods if m in said] for area in job.areas]
    show_title = job.level == 0 or r.random() < 0.75
    pieces = _JobPieces(
        title=_title(job.level, primary, r) if show_title else _generic_role(primary, r),
        years=_job_years(job.level, r) if not show_title or r.random() < 0.5 else None,
        where=_job_where(job, r),
        city=LOCATIONS[job.city][0] if job.city >= 0 else None,
        focus=_mentions(job.areas, per_area, r),
        must=job.must,
        nice=job.nice,
        company=r.choice(COMPANY_KINDS),
        distractor=_job_distractor(job.other_city, r),
        perk=r.choice(PERKS),
        duty=r.choice(JOB_DUTIES),
        team=r.choice(TEAM_FACTS).format(n=r.randint(3, 15)),
    )
    return r.choice(JOB_TEMPLATES)(pieces, r)


def _posting(p: _JobPieces, r: random.Random) -> str:
    company = p.company[0].upper() + p.company[1:]
    return _sentences(
        f"{company} is hiring {_with_article(p.title)}, {p.where}.",
        f"You will work on {_join(p.focus)}.",
        p.duty,
        f"Must have: {_join(p.must)}.",
        f"Nice to have: {_join(p.nice)}." if p.nice else None,
        f"We expect {p.years}." if p.years else None,
        p.distractor,
        p.perk,
    )


def _recruiter_message(p: _JobPieces, r: random.Random) -> str:
    bonus = f" Bonus if you know {_join(p.nice)}." if p.nice else ""
    return _sentences(
        f"Hi there! I'm recruiting for {_with_article(p.title)} role at {p.company}, {p.where}.",
        f"The team focuses on {_join(p.focus)}.",
        p.team,
        f"They really need hands-on experience with {_join(p.must)}.{bonus}",
        f"Ideally you bring {p.years}." if p.years else None,
        p.distractor,
        p.perk,
        "Would you be up for a quick call this week?",
    )


def _team_blurb(p: _JobPieces, r: random.Random) -> str:
    return _sentences(
        f"Our team at {p.company} builds products around {_join(p.focus)}.",
        f"We're looking for {_with_article(p.title)} to join us ({p.where}).",
        f"What you need: {_join(p.must)}.",
        f"What would be great: {_join(p.nice)}." if p.nice else None,
        f"We ask for {p.years}." if p.years else None,
        p.duty,
        p.distractor,
        p.perk,
    )


def _terse_listing(p: _JobPieces, r: random.Random) -> str:
    lines = [
        f"{p.title} — {p.where}",
        f"Req: {', '.join(p.must)}",
        f"Plus: {', '.join(p.nice)}" if p.nice else None,
        f"Exp: {p.years}" if p.years else None,
        f"Areas: {', '.join(p.focus)}",
        f"Company: {p.company}",
        p.team,
        p.duty,
        p.distractor,
        p.perk,
    ]
    return "\n".join(line for line in lines if line)


JobTemplate = Callable[[_JobPieces, random.Random], str]
JOB_TEMPLATES: tuple[JobTemplate, ...] = (
    _posting,
    _recruiter_message,
    _team_blurb,
    _terse_listing,
)


# ---------------------------------------------------------------- writing


def _write_parquet(
    path: Path,
    schema_: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    on_batch: Any = None,
) -> None:
    """Stream batches into one Parquet file and fsync it before it is renamed into place."""
    with pq.ParquetWriter(path, schema_, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            if on_batch is not None:
                on_batch.update(batch.num_rows)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _progress_bar(total: int, *, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    """A tqdm bar over candidate rows, or nothing; tqdm is imported only when asked for."""
    if not enabled:
        return contextlib.nullcontext()
    from tqdm import tqdm

    return tqdm(total=total, unit="rows", desc="candidates")
