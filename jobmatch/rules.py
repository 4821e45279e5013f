"""Matching rules: location, seniority and area overlap -> graded relevance 0..3, explained.

The rules read only structured fields, never text. One scalar path (`match_pair`) serves
explanations; a vectorised path (`grade_block`) labels whole corpora block-wise over jobs.
Both read the same `RuleSet`, and tests check that they agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import tomllib

from jobmatch import schema
from jobmatch.errors import RulesError, SchemaError

RuleName = Literal["location", "seniority", "areas"]
RULE_NAMES: tuple[RuleName, ...] = ("location", "seniority", "areas")
LocationKind = Literal[
    "same_city", "same_country", "remote_job", "remote_candidate", "different_country", "unknown"
]
LOCATION_KINDS: tuple[LocationKind, ...] = (
    "same_city",
    "same_country",
    "remote_job",
    "remote_candidate",
    "different_country",
    "unknown",
)
SENIORITY_KINDS = ("exact", "one_above", "one_below", "other", "unknown")
RULE_FIELDS = (schema.LOCATION, schema.SENIORITY, schema.AREAS)


@dataclass(frozen=True)
class RuleSet:
    """Points per rule outcome and the grade thresholds, as read from a rules TOML."""

    version: int
    name: str
    location: dict[str, int]
    seniority: dict[str, int]
    area_points: tuple[int, ...]
    required: tuple[RuleName, ...]
    grade_min_points: tuple[int, ...]

    def area_points_for(self, shared: int) -> int:
        return self.area_points[min(shared, len(self.area_points) - 1)]

    def grade(self, points: dict[str, int]) -> int:
        if any(points[rule] <= 0 for rule in self.required):
            return 0
        total = sum(points.values())
        return sum(total >= threshold for threshold in self.grade_min_points)


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load a rules TOML; None loads the default that ships with the package."""
    if path is None:
        text = resources.files("jobmatch").joinpath("rules.toml").read_text("utf-8")
        source = "jobmatch/rules.toml"
    else:
        source = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RulesError(f"{source}: cannot read rules ({exc})") from exc
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source}: malformed TOML ({exc})") from exc
    return _parse_rules(config, source)


def _parse_rules(config: dict[str, Any], source: str) -> RuleSet:
    def section(name: str) -> dict[str, Any]:
        value = config.get(name)
        if not isinstance(value, dict):
            raise RulesError(f"{source}: missing table [{name}]")
        return value

    def points(name: str, keys: Sequence[str]) -> dict[str, int]:
        table = section(name)
        result = {}
        for key in keys:
            value = table.get(key)
            if not isinstance(value, int) or value < 0:
                raise RulesError(f"{source}: [{name}] {key} must be a non-negative integer")
            result[key] = value
        return result

    area_points = section("areas").get("points_by_shared")
    if not (
        isinstance(area_points, list)
        and area_points
        and all(isinstance(p, int) for p in area_points)
    ):
        raise RulesError(f"{source}: [areas] points_by_shared must be a list of integers")
    relevance = section("relevance")
    required = relevance.get("required", [])
    if not isinstance(required, list) or any(r not in RULE_NAMES for r in required):
        raise RulesError(f"{source}: [relevance] required must list rules from {list(RULE_NAMES)}")
    thresholds = relevance.get("grade_min_points")
    if (
        not isinstance(thresholds, list)
        or len(thresholds) != schema.MAX_RELEVANCE
        or any(not isinstance(t, int) or t <= 0 for t in thresholds)
        or sorted(thresholds) != thresholds
    ):
        raise RulesError(
            f"{source}: [relevance] grade_min_points must be {schema.MAX_RELEVANCE} increasing "
            "positive integers"
        )
    return RuleSet(
        version=int(config.get("version", 0)),
        name=str(config.get("name", Path(source).stem)),
        location=points("location", LOCATION_KINDS),
        seniority=points("seniority", SENIORITY_KINDS),
        area_points=tuple(area_points),
        required=tuple(required),
        grade_min_points=tuple(thresholds),
    )


# --------------------------------------------------------------------------- one pair


@dataclass(frozen=True)
class PairMatch:
    """How one candidate fits one job, rule by rule."""

    location: LocationKind
    seniority: str
    shared_areas: tuple[str, ...]
    points: dict[str, int]
    relevance: int

    def explain(self, job: dict[str, Any], candidate: dict[str, Any]) -> str:
        """One line a recruiter can read, e.g. 'location: same city (Berlin, Germany); ...'."""
        location = self.location.replace("_", " ")
        if self.location in ("same_city", "same_country", "different_country"):
            location += f" ({candidate.get(schema.LOCATION)})"
        seniority = self.seniority.replace("_", " ")
        level = candidate.get(schema.SENIORITY)
        if level is not None and 0 <= level < len(schema.SENIORITY_LEVELS):
            seniority += f" ({schema.SENIORITY_LEVELS[level]}"
            job_level = job.get(schema.SENIORITY)
            if self.seniority != "exact" and job_level is not None:
                seniority += f" for a {schema.SENIORITY_LEVELS[job_level]} role"
            seniority += ")"
        count = len(self.shared_areas)
        areas = f"{count} shared" + (f" — {', '.join(self.shared_areas)}" if count else "")
        return f"location: {location}; seniority: {seniority}; areas: {areas}"


def location_kind(job: dict[str, Any], candidate: dict[str, Any]) -> LocationKind:
    job_location, candidate_location = job.get(schema.LOCATION), candidate.get(schema.LOCATION)
    if bool(job.get(schema.REMOTE)) or job_location == schema.REMOTE_LOCATION:
        return "remote_job"
    if not job_location or not candidate_location:
        return "unknown"
    if candidate_location == schema.REMOTE_LOCATION:
        return "remote_candidate"
    if job_location == candidate_location:
        return "same_city"
    if schema.country_of(job_location) == schema.country_of(candidate_location):
        return "same_country"
    return "different_country"


def seniority_kind(job_level: int | None, candidate_level: int | None) -> str:
    if job_level is None or candidate_level is None:
        return "unknown"
    gap = candidate_level - job_level
    return {0: "exact", 1: "one_above", -1: "one_below"}.get(gap, "other")


def match_pair(job: dict[str, Any], candidate: dict[str, Any], rules: RuleSet) -> PairMatch:
    """Apply every rule to one (job, candidate) pair of row dicts."""
    location = location_kind(job, candidate)
    seniority = seniority_kind(job.get(schema.SENIORITY), candidate.get(schema.SENIORITY))
    job_areas = job.get(schema.AREAS) or []
    candidate_areas = set(candidate.get(schema.AREAS) or [])
    shared = tuple(area for area in job_areas if area in candidate_areas)
    points = {
        "location": rules.location[location],
        "seniority": rules.seniority[seniority],
        "areas": rules.area_points_for(len(shared)),
    }
    return PairMatch(location, seniority, shared, points, rules.grade(points))


def explain_pair(job: dict[str, Any], candidate: dict[str, Any], rules: RuleSet) -> str:
    return match_pair(job, candidate, rules).explain(job, candidate)


# --------------------------------------------------------------------------- vectorised


@dataclass(frozen=True)
class FieldCodes:
    """Structured fields of a table as integer arrays, for block-wise rule evaluation."""

    city: np.ndarray  # int32 code of the full location string, -1 if missing
    country: np.ndarray  # int32 code, -1 if missing or remote
    remote: np.ndarray  # bool: location is "Remote" (candidates) or the job is remote
    seniority: np.ndarray  # int16, -100 if missing
    area_bits: np.ndarray  # uint64 [n, words]: bit i set when area i is listed

    def __getitem__(self, rows: slice) -> FieldCodes:
        return FieldCodes(*(getattr(self, f.name)[rows] for f in dataclasses.fields(self)))


class Vocabulary:
    """Shared integer codes for locations, countries and areas of jobs and candidates."""

    def __init__(self) -> None:
        self.codes: dict[str, dict[str, int]] = {"city": {}, "country": {}, "area": {}}

    def code(self, kind: str, value: str) -> int:
        table = self.codes[kind]
        return table.setdefault(value, len(table))

    def encode(self, frame: pl.DataFrame, *, remote_column: bool) -> FieldCodes:
        n = frame.height
        locations = _column(frame, schema.LOCATION, n)
        city = np.full(n, -1, dtype=np.int32)
        country = np.full(n, -1, dtype=np.int32)
        remote = np.zeros(n, dtype=bool)
        for i, location in enumerate(locations):
            if not location:
                continue
            if location == schema.REMOTE_LOCATION:
                remote[i] = True
                continue
            city[i] = self.code("city", location)
            country[i] = self.code("country", schema.country_of(location) or "")
        if remote_column and schema.REMOTE in frame.columns:
            remote |= frame[schema.REMOTE].fill_null(False).to_numpy().astype(bool)
        levels = _column(frame, schema.SENIORITY, n)
        seniority = np.array([-100 if v is None else v for v in levels], dtype=np.int16)
        area_lists = _column(frame, schema.AREAS, n)
        codes = [[self.code("area", a) for a in areas] if areas else [] for areas in area_lists]
        return FieldCodes(city, country, remote, seniority, _bits(codes))


def _column(frame: pl.DataFrame, name: str, n: int) -> list:
    return frame[name].to_list() if name in frame.columns else [None] * n


def _bits(codes: list[list[int]], words: int | None = None) -> np.ndarray:
    top = max((max(c) for c in codes if c), default=0)
    words = words or top // 64 + 1
    bits = np.zeros((len(codes), words), dtype=np.uint64)
    for row, row_codes in enumerate(codes):
        for code in row_codes:
            bits[row, code // 64] |= np.uint64(1) << np.uint64(code % 64)
    return bits


def _widen(bits: np.ndarray, words: int) -> np.ndarray:
    if bits.shape[1] >= words:
        return bits
    return np.pad(bits, ((0, 0), (0, words - bits.shape[1])))


def grade_block(jobs: FieldCodes, candidates: FieldCodes, rules: RuleSet) -> np.ndarray:
    """Relevance int8 [n_jobs, n_candidates] for a block of jobs against all candidates."""
    loc = rules.location
    job_remote = jobs.remote[:, None]
    cand_remote = candidates.remote[None, :]
    same_city = (jobs.city[:, None] == candidates.city[None, :]) & (jobs.city[:, None] >= 0)
    same_country = (jobs.country[:, None] == candidates.country[None, :]) & (
        jobs.country[:, None] >= 0
    )
    known = (jobs.city[:, None] >= 0) & ((candidates.city[None, :] >= 0) | cand_remote)
    location = np.where(
        same_city,
        loc["same_city"],
        np.where(same_country, loc["same_country"], loc["different_country"]),
    )
    location = np.where(cand_remote, loc["remote_candidate"], location)
    location = np.where(known, location, loc["unknown"])
    location = np.where(job_remote, loc["remote_job"], location).astype(np.int16)

    sen = rules.seniority
    gap = candidates.seniority[None, :].astype(np.int16) - jobs.seniority[:, None]
    seniority = np.select(
        [gap == 0, gap == 1, gap == -1],
        [sen["exact"], sen["one_above"], sen["one_below"]],
        sen["other"],
    )
    known_seniority = (jobs.seniority[:, None] >= 0) & (candidates.seniority[None, :] >= 0)
    seniority = np.where(known_seniority, seniority, sen["unknown"]).astype(np.int16)

    words = max(jobs.area_bits.shape[1], candidates.area_bits.shape[1])
    job_bits, cand_bits = _widen(jobs.area_bits, words), _widen(candidates.area_bits, words)
    shared = np.zeros((len(jobs.city), len(candidates.city)), dtype=np.int16)
    for word in range(words):
        shared += np.bitwise_count(job_bits[:, None, word] & cand_bits[None, :, word])
    area_table = np.array(rules.area_points, dtype=np.int16)
    areas = area_table[np.minimum(shared, len(area_table) - 1)]

    points = {"location": location, "seniority": seniority, "areas": areas}
    total = location + seniority + areas
    grade = np.zeros(total.shape, dtype=np.int8)
    for threshold in rules.grade_min_points:
        grade += (total >= threshold).astype(np.int8)
    for rule in rules.required:
        grade[points[rule] <= 0] = 0
    return grade


def require_rule_fields(frame: pl.DataFrame, *, path: str) -> None:
    """Rules need structured fields; fail early, naming the file, when none are present."""
    if not any(field in frame.columns for field in RULE_FIELDS):
        raise SchemaError(
            f"no structured fields for the rules (need some of {', '.join(RULE_FIELDS)})",
            path=path,
            column=schema.LOCATION,
        )


def iter_labels(
    jobs: pl.DataFrame,
    candidates: pl.DataFrame,
    rules: RuleSet,
    *,
    block_size: int = 8,
) -> Iterator[pl.DataFrame]:
    """Yield qrels (job_id, candidate_id, relevance > 0) one block of jobs at a time.

    Memory is a few [block_size, n_candidates] arrays, so 1k jobs x 1M candidates fits.
    """
    vocabulary = Vocabulary()
    candidate_codes = vocabulary.encode(candidates, remote_column=False)
    job_codes = vocabulary.encode(jobs, remote_column=True)
    candidate_ids = candidates[schema.CANDIDATE_ID].to_numpy()
    job_ids = jobs[schema.JOB_ID].to_numpy()
    for start in range(0, jobs.height, block_size):
        block = slice(start, start + block_size)
        grades = grade_block(job_codes[block], candidate_codes, rules)
        rows, cols = np.nonzero(grades)
        yield pl.DataFrame(
            {
                schema.JOB_ID: job_ids[block][rows],
                schema.CANDIDATE_ID: candidate_ids[cols],
                schema.RELEVANCE: grades[rows, cols],
            },
            schema={
                schema.JOB_ID: pl.String,
                schema.CANDIDATE_ID: pl.String,
                schema.RELEVANCE: pl.Int8,
            },
        )
