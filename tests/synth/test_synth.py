"""Tests of the synthetic corpus: determinism, types, and that the text says what the fields say."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobmatch import schema, synth
from jobmatch.synth.areas import AREAS, FAMILIES
from jobmatch.synth.vocab import (
    IMPACT_PHRASES,
    JOB_MIN_YEARS,
    LOCATIONS,
    RESEARCH_IMPACT_PHRASES,
    SENIORITY_TITLES,
    YEARS_BY_LEVEL,
)

N_CANDIDATES = 2_000
N_JOBS = 400
SEED = 7


@pytest.fixture(scope="module")
def candidate_table() -> pa.Table:
    return synth.generate_candidates(N_CANDIDATES, seed=SEED)


@pytest.fixture(scope="module")
def job_table() -> pa.Table:
    return synth.generate_jobs(N_JOBS, seed=SEED)


@pytest.fixture(scope="module")
def candidates(candidate_table: pa.Table) -> list[dict]:
    return candidate_table.to_pylist()


@pytest.fixture(scope="module")
def jobs(job_table: pa.Table) -> list[dict]:
    return job_table.to_pylist()


def _says(text: str, term: str) -> bool:
    """`term` occurs in `text` as a whole phrase, ignoring case."""
    if term.lower() not in text.lower():
        return False
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE) is not None


def _pattern(template: str, flags: int = 0) -> re.Pattern[str]:
    """A regex for a vocabulary template: each {placeholder} matches any short text."""
    return re.compile(re.sub(r"\\\{\w+\\\}", ".+?", re.escape(template)), flags)


IMPACT_PATTERNS = {
    level: [
        _pattern(p, re.IGNORECASE)
        for p in (*IMPACT_PHRASES[level], *RESEARCH_IMPACT_PHRASES[level])
    ]
    for level in IMPACT_PHRASES
}
CITIES = [city for city, _ in LOCATIONS]


def _says_title(text: str, level: int, area_slug: str) -> bool:
    """One of the level's titles, composed with the area ("Senior NLP Engineer"), is in text."""
    field = AREAS[area_slug].title
    return any(title.format(field=field) in text for title in SENIORITY_TITLES[level])


def _says_years(text: str, years: float) -> bool:
    if years < 1:
        return re.search(r"(less than|under) a year", text) is not None
    return re.search(rf"(?<![\d.]){int(years)}(\.5)?\+? years?\b", text) is not None


# ---------------------------------------------------------------- vocabulary


def test_vocabulary_sizes() -> None:
    assert len(AREAS) >= 30
    assert all(len(area.methods) >= 6 and len(area.mentions) >= 3 for area in AREAS.values())
    assert {area.family for area in AREAS.values()} == set(FAMILIES)
    assert len(FAMILIES) >= 5
    assert len(LOCATIONS) >= 50
    assert len(set(LOCATIONS)) == len(LOCATIONS)
    assert len({country for _, country in LOCATIONS}) >= 10
    assert sorted(SENIORITY_TITLES) == list(range(6)) == sorted(YEARS_BY_LEVEL)
    assert all(len(titles) >= 3 for titles in SENIORITY_TITLES.values())
    assert len(synth.CANDIDATE_TEMPLATES) >= 4
    assert len(synth.JOB_TEMPLATES) >= 4


def test_research_and_industry_families_both_present() -> None:
    assert {family.research for family in FAMILIES.values()} == {True, False}
    for family_name in FAMILIES:
        assert sum(area.family == family_name for area in AREAS.values()) >= 4


def test_vocabulary_terms_point_to_one_area() -> None:
    """No area's name or method occurs inside another area's term: mentions are unambiguous."""
    terms = [
        (slug, term) for slug, area in AREAS.items() for term in (*area.mentions, *area.methods)
    ]
    for slug, term in terms:
        clashes = [(other, t) for other, t in terms if other != slug and _says(t, term)]
        assert not clashes, (slug, term, clashes)


def test_years_ranges_grow_with_level() -> None:
    lows = [YEARS_BY_LEVEL[level][0] for level in range(6)]
    highs = [YEARS_BY_LEVEL[level][1] for level in range(6)]
    assert lows == sorted(lows) and highs == sorted(highs)
    assert list(JOB_MIN_YEARS.values()) == sorted(JOB_MIN_YEARS.values())


# ---------------------------------------------------------------- determinism and streaming


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = synth.write_corpus(tmp_path / "a", n_candidates=300, n_jobs=50, seed=3)
    second = synth.write_corpus(tmp_path / "b", n_candidates=300, n_jobs=50, seed=3)
    for kind in ("candidates", "jobs"):
        assert first[kind].read_bytes() == second[kind].read_bytes()


def test_same_seed_gives_equal_tables() -> None:
    assert synth.generate_candidates(200, seed=5).equals(synth.generate_candidates(200, seed=5))
    assert synth.generate_jobs(100, seed=5).equals(synth.generate_jobs(100, seed=5))


def test_different_seeds_differ() -> None:
    for make in (synth.generate_candidates, synth.generate_jobs):
        a = make(200, seed=1).column(schema.TEXT).to_pylist()
        b = make(200, seed=2).column(schema.TEXT).to_pylist()
        assert sum(x != y for x, y in zip(a, b, strict=True)) > 190


def test_jobs_and_candidates_use_separate_random_streams() -> None:
    candidates = synth.generate_candidates(100, seed=4)
    jobs = synth.generate_jobs(100, seed=4)
    same = np.asarray(candidates[schema.SENIORITY]) == np.asarray(jobs[schema.SENIORITY])
    assert same.mean() < 0.6


def test_streaming_matches_one_call_however_it_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(synth.fields, "BLOCK_ROWS", 64)
    batches = list(synth.iter_candidate_batches(200, seed=9))
    assert [batch.num_rows for batch in batches] == [64, 64, 64, 8]
    assert all(batch.schema.equals(synth.CANDIDATE_SCHEMA) for batch in batches)
    whole = synth.generate_candidates(200, seed=9)
    assert pa.Table.from_batches(batches).equals(whole)
    # A shorter corpus is a prefix of a longer one, whatever the block boundaries.
    for n in (1, 63, 64, 65, 130):
        assert synth.generate_candidates(n, seed=9).equals(whole.slice(0, n))
    assert synth.generate_jobs(70, seed=9).equals(synth.generate_jobs(150, seed=9).slice(0, 70))


def test_batches_are_consumed_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(synth.fields, "BLOCK_ROWS", 50)
    stream = synth.iter_candidate_batches(10**9, seed=0)
    first, second = next(stream), next(stream)
    assert first.num_rows == second.num_rows == 50
    assert second.column(0)[0].as_py() == "c0000051"


def test_zero_rows_give_empty_tables_with_schema() -> None:
    assert synth.generate_candidates(0, seed=0).schema.equals(synth.CANDIDATE_SCHEMA)
    assert synth.generate_jobs(0, seed=0).num_rows == 0


@pytest.mark.parametrize(
    ("n", "seed"), [(-1, 0), (10, -1), (1.5, 0), (True, 0), (10, "0")], ids=str
)
def test_bad_counts_and_seeds_are_rejected(n: object, seed: object) -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        synth.generate_jobs(n, seed=seed)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative integer"):
        next(synth.iter_candidate_batches(n, seed=seed))  # type: ignore[arg-type]


# ---------------------------------------------------------------- table contracts


@pytest.mark.parametrize(
    ("table_name", "spec", "hidden"),
    [
        ("candidate_table", schema.CANDIDATES, {synth.HIDDEN_METHODS, synth.HIDDEN_IMPACT}),
        ("job_table", schema.JOBS, {synth.HIDDEN_MUST_HAVE, synth.HIDDEN_NICE_TO_HAVE}),
    ],
)
def test_types_follow_schema(
    request: pytest.FixtureRequest, table_name: str, spec: schema.TableSpec, hidden: set[str]
) -> None:
    table: pa.Table = request.getfixturevalue(table_name)
    for name, dtype in spec.all_columns.items():
        assert table.schema.field(name).type == dtype, name
    extra = set(table.column_names) - set(spec.all_columns)
    assert extra == hidden
    assert all(name.startswith(schema.HIDDEN_PREFIX) for name in extra)
    assert all(table.column(name).null_count == 0 for name in table.column_names)


def test_ids_unique_and_well_formed(candidates: list[dict], jobs: list[dict]) -> None:
    candidate_ids = [row[schema.CANDIDATE_ID] for row in candidates]
    job_ids = [row[schema.JOB_ID] for row in jobs]
    assert candidate_ids[:2] == ["c0000001", "c0000002"] and job_ids[0] == "j00001"
    assert len(set(candidate_ids)) == len(candidate_ids)
    assert len(set(job_ids)) == len(job_ids)
    assert all(row[schema.TEXT].strip() for row in [*candidates, *jobs])


def test_candidate_fields_in_range(candidates: list[dict]) -> None:
    places = {f"{city}, {country}" for city, country in LOCATIONS}
    locations = Counter(row[schema.LOCATION] for row in candidates)
    assert set(locations) <= places | {schema.REMOTE_LOCATION}
    assert 0.05 < locations[schema.REMOTE_LOCATION] / len(candidates) < 0.11
    assert len(locations) >= 40
    # Big hubs are drawn more often than small cities.
    assert locations["San Francisco, United States"] > 3 * locations["Basel, Switzerland"]
    levels = Counter(row[schema.SENIORITY] for row in candidates)
    assert set(levels) == set(range(6))
    for row in candidates:
        low, high = YEARS_BY_LEVEL[row[schema.SENIORITY]]
        assert low <= row[schema.YEARS_EXPERIENCE] <= high
        assert 2 <= len(row[schema.AREAS]) <= 4
        assert len(set(row[schema.AREAS])) == len(row[schema.AREAS])
        assert set(row[schema.AREAS]) <= set(AREAS)
        assert 0 <= row[synth.HIDDEN_IMPACT] <= 3


def test_candidate_areas_mostly_share_a_family(candidates: list[dict]) -> None:
    one_family = [len({AREAS[a].family for a in row[schema.AREAS]}) == 1 for row in candidates]
    assert 0.65 < np.mean(one_family) < 0.95


def test_job_fields_in_range(jobs: list[dict]) -> None:
    remote = np.array([row[schema.REMOTE] for row in jobs])
    assert 0.14 < remote.mean() < 0.26
    for row in jobs:
        assert 1 <= len(row[schema.AREAS]) <= 3
        assert set(row[schema.AREAS]) <= set(AREAS)
        assert 1 <= len(row[synth.HIDDEN_MUST_HAVE]) <= 3
        assert not set(row[synth.HIDDEN_MUST_HAVE]) & set(row[synth.HIDDEN_NICE_TO_HAVE])
        if row[schema.LOCATION] == schema.REMOTE_LOCATION:
            assert row[schema.REMOTE]
    no_office = sum(row[schema.LOCATION] == schema.REMOTE_LOCATION for row in jobs)
    assert 0 < no_office < remote.sum()


# ---------------------------------------------------------------- text says what fields say


def test_candidate_text_reveals_location(candidates: list[dict]) -> None:
    for row in candidates:
        text, location = row[schema.TEXT], row[schema.LOCATION]
        if location == schema.REMOTE_LOCATION:
            assert "remote" in text.lower()
        else:
            assert _says(text, location.split(",")[0]), (location, text)


def test_candidate_text_reveals_seniority(candidates: list[dict]) -> None:
    by_title = by_years_only = 0
    for row in candidates:
        text, level = row[schema.TEXT], row[schema.SENIORITY]
        titled = _says_title(text, level, row[schema.AREAS][0])
        years = _says_years(text, row[schema.YEARS_EXPERIENCE])
        assert titled or years, (level, row[schema.YEARS_EXPERIENCE], text)
        by_title += titled
        by_years_only += years and not titled
    assert by_title > 0.5 * len(candidates)
    assert by_years_only > 0.1 * len(candidates)


def test_candidate_text_reveals_every_area(candidates: list[dict]) -> None:
    for row in candidates:
        for slug in row[schema.AREAS]:
            area = AREAS[slug]
            assert any(_says(row[schema.TEXT], t) for t in (*area.mentions, *area.methods)), slug


def test_hidden_candidate_attributes_appear_only_in_text(candidates: list[dict]) -> None:
    for row in candidates:
        text = row[schema.TEXT]
        assert 1 <= len(row[synth.HIDDEN_METHODS]) <= synth.MAX_CANDIDATE_METHODS + 1
        assert all(_says(text, method) for method in row[synth.HIDDEN_METHODS])
        level = row[synth.HIDDEN_IMPACT]
        assert any(p.search(text) for p in IMPACT_PATTERNS[level]), (level, text)


def test_hidden_methods_add_information_beyond_areas(candidates: list[dict]) -> None:
    """Among candidates with the same areas, the methods they have still differ."""
    groups: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    sizes: Counter[tuple[str, ...]] = Counter()
    for row in candidates:
        key = tuple(sorted(row[schema.AREAS]))
        groups.setdefault(key, set()).add(tuple(sorted(row[synth.HIDDEN_METHODS])))
        sizes[key] += 1
    shared = [key for key, size in sizes.items() if size >= 2]
    assert shared
    assert np.mean([len(groups[key]) / sizes[key] for key in shared]) > 0.8
    # Some candidates know a method outside their listed areas.
    owner = {m: slug for slug, area in AREAS.items() for m in area.methods}
    outside = [
        any(owner[m] not in row[schema.AREAS] for m in row[synth.HIDDEN_METHODS])
        for row in candidates
    ]
    assert 0.05 < np.mean(outside) < 0.25


def test_candidate_text_has_distractor_cities_and_paraphrases(candidates: list[dict]) -> None:
    """Texts name other cities besides the current one, and name the country only sometimes."""
    other_city = with_country = 0
    located = [row for row in candidates if row[schema.LOCATION] != schema.REMOTE_LOCATION]
    for row in located:
        city, country = row[schema.LOCATION].split(", ")
        named = {name for name in CITIES if name in row[schema.TEXT]}
        other_city += bool(named - {city})
        with_country += _says(row[schema.TEXT], country)
    assert 0.25 < other_city / len(located) < 0.6
    assert 0.2 < with_country / len(located) < 0.8


def test_text_lengths_suit_the_encoder(candidates: list[dict], jobs: list[dict]) -> None:
    candidate_words = np.array([len(row[schema.TEXT].split()) for row in candidates])
    job_words = np.array([len(row[schema.TEXT].split()) for row in jobs])
    assert 60 <= np.median(candidate_words) <= 120 and candidate_words.min() >= 35
    assert np.percentile(candidate_words, 95) <= 120
    assert 50 <= np.median(job_words) <= 100 and job_words.min() >= 30
    assert np.percentile(job_words, 95) <= 100


def test_job_text_reveals_fields(jobs: list[dict]) -> None:
    for row in jobs:
        text, level = row[schema.TEXT], row[schema.SENIORITY]
        assert ("remote" in text.lower()) == row[schema.REMOTE], text
        if row[schema.LOCATION] != schema.REMOTE_LOCATION:
            assert _says(text, row[schema.LOCATION].split(",")[0]), text
        minimum = JOB_MIN_YEARS[level]
        says_years = re.search(rf"(?<!\d){minimum}\+? years?", text) is not None
        assert _says_title(text, level, row[schema.AREAS][0]) or says_years, text
        for slug in row[schema.AREAS]:
            area = AREAS[slug]
            assert any(_says(text, t) for t in (*area.mentions, *area.methods)), slug
        methods = [*row[synth.HIDDEN_MUST_HAVE], *row[synth.HIDDEN_NICE_TO_HAVE]]
        assert all(_says(text, method) for method in methods), text


def test_relevance_density(candidates: list[dict], jobs: list[dict]) -> None:
    """With the default rules (location fits, seniority within one, an area shared), a typical
    job has roughly 10-60 relevant candidates among 2,000."""
    slugs = {slug: bit for bit, slug in enumerate(AREAS)}

    def area_bits(rows: list[dict]) -> np.ndarray:
        return np.array([sum(1 << slugs[a] for a in row[schema.AREAS]) for row in rows])

    def column(rows: list[dict], name: str) -> np.ndarray:
        return np.array([row[name] for row in rows])

    c_loc, j_loc = column(candidates, schema.LOCATION), column(jobs, schema.LOCATION)
    c_country = np.array([schema.country_of(x) or "-" for x in c_loc])
    j_country = np.array([schema.country_of(x) or "+" for x in j_loc])
    located = (c_loc != schema.REMOTE_LOCATION)[None, :]
    same_place = (j_loc[:, None] == c_loc[None, :]) | (j_country[:, None] == c_country[None, :])
    location = column(jobs, schema.REMOTE)[:, None] | (located & same_place)
    gap = column(jobs, schema.SENIORITY)[:, None] - column(candidates, schema.SENIORITY)[None, :]
    shared = (area_bits(jobs)[:, None] & area_bits(candidates)[None, :]) != 0
    relevant = (location & (np.abs(gap) <= 1) & shared).sum(axis=1)
    assert 10 <= np.median(relevant) <= 60
    assert np.mean((relevant >= 10) & (relevant <= 60)) > 0.35
    assert np.mean(relevant == 0) < 0.05


# ---------------------------------------------------------------- writing


def test_write_corpus_writes_readable_parquet(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "corpus"
    paths = synth.write_corpus(out, n_candidates=150, n_jobs=20, seed=1)
    assert paths == {"candidates": out / "candidates.parquet", "jobs": out / "jobs.parquet"}
    assert sorted(p.name for p in out.iterdir()) == ["candidates.parquet", "jobs.parquet"]
    candidates = pq.read_table(paths["candidates"])
    jobs = pq.read_table(paths["jobs"])
    assert candidates.num_rows == 150 and jobs.num_rows == 20
    assert candidates.schema.equals(synth.CANDIDATE_SCHEMA)
    assert jobs.schema.equals(synth.JOB_SCHEMA)
    assert candidates.equals(synth.generate_candidates(150, seed=1))
    assert jobs.equals(synth.generate_jobs(20, seed=1))


def test_write_corpus_shows_progress_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synth.write_corpus(tmp_path / "quiet", n_candidates=30, n_jobs=3, seed=0)
    assert capsys.readouterr().err == ""
    synth.write_corpus(tmp_path / "loud", n_candidates=30, n_jobs=3, seed=0, progress=True)
    assert "30/30" in capsys.readouterr().err


def test_failed_write_leaves_previous_corpus_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = synth.write_corpus(tmp_path, n_candidates=40, n_jobs=5, seed=0)
    before = {kind: path.read_bytes() for kind, path in paths.items()}

    def broken_jobs(n: int, *, seed: int) -> pa.Table:
        raise RuntimeError("disk full")

    monkeypatch.setattr(synth, "generate_jobs", broken_jobs)
    with pytest.raises(RuntimeError, match="disk full"):
        synth.write_corpus(tmp_path, n_candidates=60, n_jobs=5, seed=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["candidates.parquet", "jobs.parquet"]
    assert {kind: path.read_bytes() for kind, path in paths.items()} == before
