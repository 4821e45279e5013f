"""Matching rules: location, seniority, area overlap and rules on any column -> relevance 0..3.

The rules read only structured fields, never text. The three built-in rules are active when
the rules TOML has their table ([location], [seniority], [areas]); `[[column]]` entries add
rules on a team's own columns (`column_rules.py`). One scalar path (`match_pair`) serves
explanations; a vectorised path (`grade_block`) labels whole corpora block-wise over jobs.
Both read the same `RuleSet`, and tests check that they agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import tomllib

from jobmatch import schema
from jobmatch.column_rules import (
    ColumnCodes,
    ColumnMatch,
    ColumnRule,
    Side,
    count_shared,
    encode_column,
    item_bits,
    parse_column_rules,
    score_column,
)
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
"""The structured fields the built-in rules read (jobs also give `remote` to location)."""
_BUILTIN_FIELDS: dict[str, tuple[str, ...]] = {
    "location": (schema.LOCATION,),
    "seniority": (schema.SENIORITY,),
    "areas": (schema.AREAS,),
}
_TOP_LEVEL = ("version", "name", *RULE_NAMES, "column", "relevance")


@dataclass(frozen=True)
class RuleSet:
    """Points per rule outcome and the grade thresholds, as read from a rules TOML.

    A built-in rule whose table the TOML leaves out is None and gives no points.
    """

    version: int
    name: str
    location: dict[str, int] | None
    seniority: dict[str, int] | None
    area_points: tuple[int, ...] | None
    required: tuple[str, ...]
    grade_min_points: tuple[int, ...]
    columns: tuple[ColumnRule, ...] = ()

    @property
    def builtins(self) -> tuple[RuleName, ...]:
        """The active built-in rules, in the order explanations list them."""
        tables = (self.location, self.seniority, self.area_points)
        return tuple(
            name for name, table in zip(RULE_NAMES, tables, strict=True) if table is not None
        )

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Every active rule: built-ins first, then the [[column]] rules in file order."""
        return (*self.builtins, *(rule.name for rule in self.columns))

    def job_columns(self) -> tuple[str, ...]:
        """The jobs columns the active rules read (for a projected read of the table)."""
        return self._columns("jobs")

    def candidate_columns(self) -> tuple[str, ...]:
        """The candidates columns the active rules read."""
        return self._columns("candidates")

    def _columns(self, side: Side) -> tuple[str, ...]:
        names = [name for rule in self.builtins for name in _BUILTIN_FIELDS[rule]]
        if side == "jobs" and self.location is not None:
            names.append(schema.REMOTE)
        names.extend(rule.column(side) for rule in self.columns)
        return tuple(dict.fromkeys(names))

    def area_points_for(self, shared: int) -> int:
        if self.area_points is None:
            raise ValueError("the areas rule is not active in this rule set")
        return self.area_points[min(shared, len(self.area_points) - 1)]

    def max_points(self) -> int:
        """The most points a pair can reach: the top grade threshold must not exceed it."""
        tables = [self.location, self.seniority]
        best = [max(table.values()) for table in tables if table is not None]
        if self.area_points is not None:
            best.append(max(self.area_points))
        return sum(best) + sum(rule.max_points for rule in self.columns)

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
    unknown = [key for key in config if key not in _TOP_LEVEL]
    if unknown:
        raise RulesError(
            f"{source}: unknown table or key {unknown[0]!r} (expected {', '.join(_TOP_LEVEL)})"
        )

    def section(name: str) -> dict[str, Any] | None:
        """A table of the TOML, None when absent (the built-in rule is then inactive)."""
        value = config.get(name)
        if value is not None and not isinstance(value, dict):
            raise RulesError(f"{source}: {name} must be a table [{name}]")
        return value

    def points(name: str, keys: Sequence[str]) -> dict[str, int] | None:
        table = section(name)
        if table is None:
            return None
        result = {}
        for key in keys:
            value = table.get(key)
            if not isinstance(value, int) or value < 0:
                raise RulesError(f"{source}: [{name}] {key} must be a non-negative integer")
            result[key] = value
        return result

    location = points("location", LOCATION_KINDS)
    seniority = points("seniority", SENIORITY_KINDS)
    areas = section("areas")
    area_points = None if areas is None else areas.get("points_by_shared")
    if areas is not None and not (
        isinstance(area_points, list)
        and area_points
        and all(isinstance(p, int) for p in area_points)
    ):
        raise RulesError(f"{source}: [areas] points_by_shared must be a list of integers")
    builtins = [
        name
        for name, table in zip(RULE_NAMES, (location, seniority, area_points), strict=True)
        if table is not None
    ]
    columns = parse_column_rules(config.get("column", []), source, taken=builtins)
    names = [*builtins, *(rule.name for rule in columns)]
    if not names:
        raise RulesError(
            f"{source}: no rules; give at least one of [location], [seniority], [areas] "
            "or a [[column]] entry"
        )
    relevance = section("relevance")
    if relevance is None:
        raise RulesError(f"{source}: missing table [relevance]")
    required = relevance.get("required", [])
    if not isinstance(required, list):
        raise RulesError(f"{source}: [relevance] required must list rules from {names}")
    for rule in required:
        if rule not in names:
            raise RulesError(
                f"{source}: [relevance] required names unknown rule {rule!r}; "
                f"required must list rules from {names}"
            )
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
    rule_set = RuleSet(
        version=int(config.get("version", 0)),
        name=str(config.get("name", Path(source).stem)),
        location=location,
        seniority=seniority,
        area_points=None if area_points is None else tuple(area_points),
        required=tuple(required),
        grade_min_points=tuple(thresholds),
        columns=columns,
    )
    if thresholds[-1] > rule_set.max_points():
        raise RulesError(
            f"{source}: [relevance] grade_min_points {thresholds} cannot all be reached: "
            f"the rules give at most {rule_set.max_points()} points"
        )
    return rule_set


# --------------------------------------------------------------------------- one pair


@dataclass(frozen=True)
class PairMatch:
    """How one candidate fits one job, rule by rule (None: that built-in rule is inactive)."""

    location: LocationKind | None
    seniority: str | None
    shared_areas: tuple[str, ...] | None
    points: dict[str, int]
    relevance: int
    columns: tuple[ColumnMatch, ...] = ()

    def explain(self, job: dict[str, Any], candidate: dict[str, Any]) -> str:
        """One line a recruiter can read, e.g. 'location: same city (Berlin, Germany); ...'."""
        parts = []
        if self.location is not None:
            location = self.location.replace("_", " ")
            if self.location in ("same_city", "same_country", "different_country"):
                location += f" ({candidate.get(schema.LOCATION)})"
            parts.append(f"location: {location}")
        if self.seniority is not None:
            seniority = self.seniority.replace("_", " ")
            level = candidate.get(schema.SENIORITY)
            if level is not None and 0 <= level < len(schema.SENIORITY_LEVELS):
                seniority += f" ({schema.SENIORITY_LEVELS[level]}"
                job_level = job.get(schema.SENIORITY)
                if self.seniority != "exact" and job_level is not None:
                    seniority += f" for a {schema.SENIORITY_LEVELS[job_level]} role"
                seniority += ")"
            parts.append(f"seniority: {seniority}")
        if self.shared_areas is not None:
            count = len(self.shared_areas)
            areas = f"{count} shared" + (f" — {', '.join(self.shared_areas)}" if count else "")
            parts.append(f"areas: {areas}")
        parts.extend(match.explain() for match in self.columns)
        return "; ".join(parts)


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
    """Apply every active rule to one (job, candidate) pair of row dicts.

    A column a rule reads that a row dict lacks counts as missing (hits of an index whose
    metadata does not keep it, say); the vectorised path fails on it instead.
    """
    points: dict[str, int] = {}
    location = seniority = shared = None
    if rules.location is not None:
        location = location_kind(job, candidate)
        points["location"] = rules.location[location]
    if rules.seniority is not None:
        seniority = seniority_kind(job.get(schema.SENIORITY), candidate.get(schema.SENIORITY))
        points["seniority"] = rules.seniority[seniority]
    if rules.area_points is not None:
        candidate_areas = set(candidate.get(schema.AREAS) or [])
        shared = tuple(area for area in job.get(schema.AREAS) or [] if area in candidate_areas)
        points["areas"] = rules.area_points_for(len(shared))
    columns = tuple(rule.match(job, candidate) for rule in rules.columns)
    points.update((match.name, match.points) for match in columns)
    return PairMatch(location, seniority, shared, points, rules.grade(points), columns)


def explain_pair(job: dict[str, Any], candidate: dict[str, Any], rules: RuleSet) -> str:
    return match_pair(job, candidate, rules).explain(job, candidate)


# --------------------------------------------------------------------------- vectorised


@dataclass(frozen=True)
class FieldCodes:
    """Structured fields of a table as integer arrays, for block-wise rule evaluation.

    Fields of inactive built-in rules are left as missing.
    """

    city: np.ndarray  # int32 code of the full location string, -1 if missing
    country: np.ndarray  # int32 code, -1 if missing or remote
    remote: np.ndarray  # bool: location is "Remote" (candidates) or the job is remote
    seniority: np.ndarray  # int16, -100 if missing
    area_bits: np.ndarray  # uint64 [n, words]: bit i set when area i is listed
    columns: dict[str, ColumnCodes] = field(default_factory=dict)  # by [[column]] rule name

    def __getitem__(self, rows: slice) -> FieldCodes:
        return FieldCodes(
            self.city[rows],
            self.country[rows],
            self.remote[rows],
            self.seniority[rows],
            self.area_bits[rows],
            {name: codes[rows] for name, codes in self.columns.items()},
        )


class Vocabulary:
    """Shared integer codes for locations, countries, areas and column values of both tables."""

    def __init__(self) -> None:
        self.codes: dict[str, dict[str, int]] = {"city": {}, "country": {}, "area": {}}

    def code(self, kind: str, value: str) -> int:
        table = self.codes[kind]
        return table.setdefault(value, len(table))

    def encode(
        self, frame: pl.DataFrame, rules: RuleSet, *, side: Side, path: str = "<table>"
    ) -> FieldCodes:
        """Encode what the active rules read of one table (`path` names it in errors)."""
        n = frame.height
        locations = _column(frame, schema.LOCATION, n, rules.location is not None)
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
        if side == "jobs" and rules.location is not None and schema.REMOTE in frame.columns:
            remote |= frame[schema.REMOTE].fill_null(False).to_numpy().astype(bool)
        levels = _column(frame, schema.SENIORITY, n, rules.seniority is not None)
        seniority = np.array([-100 if v is None else v for v in levels], dtype=np.int16)
        area_lists = _column(frame, schema.AREAS, n, rules.area_points is not None)
        codes = [[self.code("area", a) for a in areas] if areas else [] for areas in area_lists]
        columns = {
            rule.name: encode_column(
                rule,
                frame,
                side=side,
                codes=self.codes.setdefault(f"column:{rule.name}", {}),
                path=path,
            )
            for rule in rules.columns
        }
        return FieldCodes(city, country, remote, seniority, item_bits(codes), columns)


def _column(frame: pl.DataFrame, name: str, n: int, active: bool) -> list:
    return frame[name].to_list() if active and name in frame.columns else [None] * n


def grade_block(jobs: FieldCodes, candidates: FieldCodes, rules: RuleSet) -> np.ndarray:
    """Relevance int8 [n_jobs, n_candidates] for a block of jobs against all candidates."""
    points: dict[str, np.ndarray] = {}
    if rules.location is not None:
        points["location"] = _location_points(jobs, candidates, rules.location)
    if rules.seniority is not None:
        points["seniority"] = _seniority_points(jobs, candidates, rules.seniority)
    if rules.area_points is not None:
        area_table = np.array(rules.area_points, dtype=np.int16)
        shared = count_shared(jobs.area_bits, candidates.area_bits)
        points["areas"] = area_table[np.minimum(shared, len(area_table) - 1)]
    for rule in rules.columns:
        points[rule.name] = score_column(
            rule, jobs.columns[rule.name], candidates.columns[rule.name]
        )
    total = np.zeros((len(jobs.city), len(candidates.city)), dtype=np.int32)
    for rule_points in points.values():
        total += rule_points
    grade = np.zeros(total.shape, dtype=np.int8)
    for threshold in rules.grade_min_points:
        grade += (total >= threshold).astype(np.int8)
    for rule in rules.required:
        grade[points[rule] <= 0] = 0
    return grade


def _location_points(jobs: FieldCodes, candidates: FieldCodes, loc: dict[str, int]) -> np.ndarray:
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
    return np.where(job_remote, loc["remote_job"], location).astype(np.int16)


def _seniority_points(jobs: FieldCodes, candidates: FieldCodes, sen: dict[str, int]) -> np.ndarray:
    gap = candidates.seniority[None, :].astype(np.int16) - jobs.seniority[:, None]
    seniority = np.select(
        [gap == 0, gap == 1, gap == -1],
        [sen["exact"], sen["one_above"], sen["one_below"]],
        sen["other"],
    )
    known = (jobs.seniority[:, None] >= 0) & (candidates.seniority[None, :] >= 0)
    return np.where(known, seniority, sen["unknown"]).astype(np.int16)


def require_rule_fields(frame: pl.DataFrame, rules: RuleSet, *, side: Side, path: str) -> None:
    """Fail early, naming the file and column, when a table lacks what the rules read.

    The built-in rules need some of their fields (a missing one scores `unknown`); each
    [[column]] rule needs its column.
    """
    fields = [name for rule in rules.builtins for name in _BUILTIN_FIELDS[rule]]
    if fields and not any(name in frame.columns for name in fields):
        raise SchemaError(
            f"no structured fields for the rules (need some of {', '.join(fields)})",
            path=path,
            column=fields[0],
        )
    for rule in rules.columns:
        if rule.column(side) not in frame.columns:
            raise SchemaError(
                f"missing column (the rule {rule.name!r} reads it)",
                path=path,
                column=rule.column(side),
            )


def iter_labels(
    jobs: pl.DataFrame,
    candidates: pl.DataFrame,
    rules: RuleSet,
    *,
    block_size: int = 8,
    jobs_path: str = "<jobs>",
    candidates_path: str = "<candidates>",
) -> Iterator[pl.DataFrame]:
    """Yield qrels (job_id, candidate_id, relevance > 0) one block of jobs at a time.

    Memory is a few [block_size, n_candidates] arrays, so 1k jobs x 1M candidates fits.
    The paths name the tables in errors (a missing column, a cell a rule cannot read).
    """
    vocabulary = Vocabulary()
    candidate_codes = vocabulary.encode(candidates, rules, side="candidates", path=candidates_path)
    job_codes = vocabulary.encode(jobs, rules, side="jobs", path=jobs_path)
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
