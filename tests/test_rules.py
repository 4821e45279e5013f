"""Rules: hand-graded pairs, explanations, the vectorised path agreeing with the scalar one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from jobmatch import rules
from jobmatch.errors import RulesError, SchemaError

RULES = rules.load_rules()
BERLIN_SENIOR_NLP = {
    "job_id": "j1",
    "location": "Berlin, Germany",
    "seniority": 3,
    "areas": ["nlp", "ir"],
    "remote": False,
}


def candidate(location: str | None, seniority: int | None, areas: list[str] | None) -> dict:
    return {"candidate_id": "c", "location": location, "seniority": seniority, "areas": areas}


@pytest.mark.parametrize(
    ("cand", "relevance", "explanation"),
    [
        # 2 (city) + 2 (exact) + 2 (two areas) = 6 -> grade 3
        (
            candidate("Berlin, Germany", 3, ["ir", "nlp", "cv"]),
            3,
            "location: same city (Berlin, Germany); seniority: exact (senior); "
            "areas: 2 shared — nlp, ir",
        ),
        # 1 (country) + 1 (one above) + 1 (one area) = 3 -> grade 1
        (
            candidate("Munich, Germany", 4, ["nlp"]),
            1,
            "location: same country (Munich, Germany); seniority: one above (staff for a senior "
            "role); areas: 1 shared — nlp",
        ),
        # 2 + 2 + 1 = 5 -> grade 2
        (candidate("Berlin, Germany", 3, ["ir"]), 2, None),
        # different country fails a required rule -> 0 whatever the rest
        (candidate("Paris, France", 3, ["nlp", "ir"]), 0, None),
        # two levels below -> seniority 0 -> 0
        (candidate("Berlin, Germany", 1, ["nlp", "ir"]), 0, None),
        # no shared area -> 0
        (candidate("Berlin, Germany", 3, ["cv"]), 0, "areas: 0 shared"),
        # remote-only candidate for an on-site job -> 0
        (candidate("Remote", 3, ["nlp", "ir"]), 0, "location: remote candidate"),
        # unknown fields score 0 points
        (candidate(None, None, None), 0, "location: unknown; seniority: unknown; areas: 0 shared"),
    ],
)
def test_hand_graded_pairs(cand: dict, relevance: int, explanation: str | None) -> None:
    match = rules.match_pair(BERLIN_SENIOR_NLP, cand, RULES)
    assert match.relevance == relevance
    if explanation:
        assert explanation in match.explain(BERLIN_SENIOR_NLP, cand)


def test_remote_job_fits_any_location() -> None:
    job = {**BERLIN_SENIOR_NLP, "remote": True}
    match = rules.match_pair(job, candidate("Paris, France", 3, ["nlp", "ir"]), RULES)
    assert match.location == "remote_job"
    assert match.relevance == 3
    remote = rules.match_pair(job, candidate("Remote", 2, ["nlp"]), RULES)
    assert remote.relevance == 1  # 2 + 1 + 1 = 4 points -> grade 1


def random_table(rng: np.random.Generator, n: int, id_column: str) -> pl.DataFrame:
    cities = ["Berlin, Germany", "Munich, Germany", "Paris, France", "Lyon, France", "Remote", None]
    areas = ["nlp", "ir", "cv", "rl", "backend", "frontend"]
    frame = pl.DataFrame(
        {
            id_column: [f"{id_column[0]}{i}" for i in range(n)],
            "text": ["t"] * n,
            "location": [cities[i] for i in rng.integers(0, len(cities), n)],
            "seniority": [None if s == 6 else int(s) for s in rng.integers(0, 7, n)],
            "areas": [
                None if m == 0 else list(rng.choice(areas, size=m - 1, replace=False))
                for m in rng.integers(0, 4, n)
            ],
        },
        schema_overrides={"seniority": pl.Int8, "areas": pl.List(pl.String)},
    )
    if id_column == "job_id":
        frame = frame.with_columns(pl.Series("remote", rng.random(n) < 0.3))
    return frame


def test_vectorised_labels_equal_scalar_rules() -> None:
    rng = np.random.default_rng(3)
    jobs = random_table(rng, 23, "job_id")
    candidates = random_table(rng, 300, "candidate_id")
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, RULES, block_size=5)))
    got = {(j, c): r for j, c, r in qrels.iter_rows()}
    expected = {}
    for job in jobs.iter_rows(named=True):
        for cand in candidates.iter_rows(named=True):
            relevance = rules.match_pair(job, cand, RULES).relevance
            if relevance:
                expected[(job["job_id"], cand["candidate_id"])] = relevance
    assert len(expected) > 50  # the random tables do produce relevant pairs of every grade
    assert {1, 2, 3} <= set(expected.values())
    assert got == expected


def test_many_areas_use_several_bit_words() -> None:
    areas = [f"area{i}" for i in range(150)]
    jobs = pl.DataFrame(
        {
            "job_id": ["j"],
            "text": ["t"],
            "location": ["Remote"],
            "seniority": [2],
            "areas": [[areas[140], areas[3]]],
            "remote": [True],
        }
    )
    candidates = pl.DataFrame(
        {
            "candidate_id": ["a", "b"],
            "text": ["t", "t"],
            "location": ["Oslo, Norway"] * 2,
            "seniority": [2, 2],
            "areas": [areas[100:150], areas[:2]],
        }
    )
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, RULES)))
    assert qrels.rows() == [("j", "a", 2)]  # 2 + 2 + 1 = 5 -> grade 2; "b" shares nothing


def test_custom_rules_file_changes_grades(tmp_path: Path) -> None:
    text = (Path(rules.__file__).parent / "rules.toml").read_text()
    strict = text.replace("grade_min_points = [3, 5, 6]", "grade_min_points = [5, 6, 6]")
    path = tmp_path / "strict.toml"
    path.write_text(strict)
    match = rules.match_pair(
        BERLIN_SENIOR_NLP, candidate("Berlin, Germany", 3, ["ir"]), rules.load_rules(path)
    )
    assert match.relevance == 1  # 5 points: grade 2 by default, grade 1 under stricter rules


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("same_city = 2", "same_city = -1", r"\[location\] same_city must be a non-negative"),
        ("grade_min_points = [3, 5, 6]", "grade_min_points = [6, 5]", "grade_min_points"),
        ('required = ["location", "seniority", "areas"]', 'required = ["salary"]', "required"),
        ("[seniority]", "[seniority", "malformed TOML"),
    ],
)
def test_bad_rules_files_are_reported(tmp_path: Path, replace: str, by: str, message: str) -> None:
    text = (Path(rules.__file__).parent / "rules.toml").read_text()
    assert replace in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(replace, by))
    with pytest.raises(RulesError, match=message):
        rules.load_rules(path)


def test_default_rules_read_the_fields_they_always_read() -> None:
    assert RULES.rule_names == ("location", "seniority", "areas")
    assert RULES.columns == ()
    assert RULES.job_columns() == (*rules.RULE_FIELDS, "remote")
    assert RULES.candidate_columns() == rules.RULE_FIELDS
    plain = pl.DataFrame({"candidate_id": ["c"], "text": ["t"]})
    with pytest.raises(SchemaError, match="no structured fields for the rules"):
        rules.require_rule_fields(plain, RULES, side="candidates", path="c.parquet")
    rules.require_rule_fields(plain.with_columns(areas=pl.lit(None)), RULES, side="jobs", path="j")
