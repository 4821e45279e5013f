"""Rules on any column: each kind by hand, the two paths agreeing, config errors, the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import rules
from jobmatch.cli import main
from jobmatch.errors import RulesError, SchemaError

TEAM_RULES = """\
version = 1
name = "team"

[[column]]
name = "category"
kind = "equal"
job_column = "category"
points = 3

[[column]]
name = "skills"
kind = "overlap"
job_column = "skills"
points_by_shared = [0, 1, 2]

[[column]]
name = "experience"
kind = "numeric"
job_column = "min_years"
candidate_column = "years"
within = [0, 40]
points = 1

[relevance]
required = ["category"]
grade_min_points = [3, 4, 6]
"""


def load(tmp_path: Path, text: str = TEAM_RULES) -> rules.RuleSet:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return rules.load_rules(path)


JOB = {"job_id": "j", "category": "Data Science", "skills": ["Python", "SQL", "spark"]}
JOB_WITH_YEARS = {**JOB, "min_years": 3}


# --------------------------------------------------------------------------- each kind


@pytest.mark.parametrize(
    ("candidate", "points", "relevance", "explanation"),
    [
        # 3 + 2 + 1 = 6 -> grade 3; strings match after strip + casefold, lists as strings
        (
            {"category": " data science", "skills": "python;sql", "years": 5},
            {"category": 3, "skills": 2, "experience": 1},
            3,
            "category: same (data science); skills: 2 shared — Python, SQL; "
            "experience: 2 over the job's 3",
        ),
        # 3 + 1 + 0 = 4 -> grade 2; two years short of the minimum
        (
            {"category": "Data Science", "skills": ["sql", "go"], "years": "1"},
            {"category": 3, "skills": 1, "experience": 0},
            2,
            "experience: 2 under the job's 3 (needs 0..40)",
        ),
        # category is required: every other point is worth nothing without it
        (
            {"category": "Marketing", "skills": "python|sql|spark", "years": 3.0},
            {"category": 0, "skills": 2, "experience": 1},
            0,
            "category: different (Marketing vs Data Science); skills: 3 shared — Python, SQL, "
            "spark; experience: equal to the job's 3",
        ),
        # null, blank and absent values are missing: `missing` points (default 0), "unknown"
        (
            {"category": None, "skills": "  ", "years": ""},
            {"category": 0, "skills": 0, "experience": 0},
            0,
            "category: unknown; skills: unknown; experience: unknown",
        ),
        ({}, {"category": 0, "skills": 0, "experience": 0}, 0, "category: unknown"),
    ],
)
def test_column_rules_by_hand(
    tmp_path: Path, candidate: dict, points: dict, relevance: int, explanation: str
) -> None:
    rule_set = load(tmp_path)
    match = rules.match_pair(JOB_WITH_YEARS, candidate, rule_set)
    assert match.points == points
    assert match.relevance == relevance
    assert explanation in match.explain(JOB_WITH_YEARS, candidate)
    assert (match.location, match.seniority, match.shared_areas) == (None, None, None)


def test_equal_compares_ints_with_strings_and_integral_floats(tmp_path: Path) -> None:
    rule_set = load(
        tmp_path,
        TEAM_RULES.replace('job_column = "category"', 'job_column = "isco"').replace(
            "grade_min_points = [3, 4, 6]", "grade_min_points = [1, 2, 3]"
        ),
    )
    for value in (2511, "2511", " 2511 ", 2511.0):
        match = rules.match_pair({"isco": 2511}, {"isco": value}, rule_set)
        assert match.points["category"] == 3, value
    assert rules.match_pair({"isco": 2511}, {"isco": 2511.5}, rule_set).points["category"] == 0
    assert rules.match_pair({"isco": 2511}, {"isco": math.nan}, rule_set).relevance == 0


def test_overlap_counts_distinct_items(tmp_path: Path) -> None:
    rule_set = load(tmp_path)
    job = {"category": "x", "skills": ["Python", "python", "SQL"]}
    match = rules.match_pair(job, {"category": "x", "skills": "PYTHON; sql ;"}, rule_set)
    assert match.points["skills"] == 2
    assert "skills: 2 shared — Python, SQL" in match.explain(job, {})


@pytest.mark.parametrize(
    ("within", "gaps_in", "gaps_out", "needs"),
    [
        ("[0, 40]", [0, 40, 12.5], [-0.5, 40.5], "needs 0..40"),
        ("{ min = 2 }", [2, 100], [1.5, -3], "needs >= 2"),
        ("{ max = 1.5 }", [1.5, -30], [2], "needs <= 1.5"),
        ("{ min = -1, max = 1 }", [-1, 0, 1], [-2, 2], "needs -1..1"),
    ],
)
def test_numeric_bounds(
    tmp_path: Path, within: str, gaps_in: list, gaps_out: list, needs: str
) -> None:
    rule_set = load(tmp_path, TEAM_RULES.replace("within = [0, 40]", f"within = {within}"))
    job = {"min_years": 10}
    for gap in gaps_in:
        assert rules.match_pair(job, {"years": 10 + gap}, rule_set).points["experience"] == 1
    for gap in gaps_out:
        match = rules.match_pair(job, {"years": str(10 + gap)}, rule_set)
        assert match.points["experience"] == 0, gap
        assert f"({needs})" in match.explain(job, {})


def test_missing_points_and_required_column_rules(tmp_path: Path) -> None:
    text = TEAM_RULES.replace("points = 1\n", "points = 1\nmissing = 1\n").replace(
        'required = ["category"]', 'required = ["category", "experience"]'
    )
    rule_set = load(tmp_path, text)
    candidate = {"category": "data science", "skills": None}
    # no years on either side: 3 + 0 + 1 (missing) = 4 points, and experience scores > 0
    assert rules.match_pair(JOB, candidate, rule_set).relevance == 2
    # years known but below the minimum: the required experience rule scores 0
    assert rules.match_pair(JOB_WITH_YEARS, {**candidate, "years": 1}, rule_set).relevance == 0


def test_builtins_and_column_rules_together(tmp_path: Path) -> None:
    default = (Path(rules.__file__).parent / "rules.toml").read_text()
    text = default.replace("\n[relevance]\n", COLUMN_CATEGORY + "\n[relevance]\n").replace(
        "grade_min_points = [3, 5, 6]", "grade_min_points = [4, 6, 7]"
    )
    rule_set = load(tmp_path, text)
    assert rule_set.rule_names == ("location", "seniority", "areas", "category")
    assert rule_set.job_columns() == ("location", "seniority", "areas", "remote", "category")
    assert rule_set.candidate_columns() == ("location", "seniority", "areas", "category")
    job = {"location": "Berlin, Germany", "seniority": 3, "areas": ["nlp"], "category": "DS"}
    candidate = {"location": "Berlin, Germany", "seniority": 3, "areas": ["nlp"], "category": "ds"}
    match = rules.match_pair(job, candidate, rule_set)
    assert match.relevance == 3  # 2 + 2 + 1 + 2 = 7
    assert match.explain(job, candidate) == (
        "location: same city (Berlin, Germany); seniority: exact (senior); "
        "areas: 1 shared — nlp; category: same (ds)"
    )


COLUMN_CATEGORY = """
[[column]]
name = "category"
kind = "equal"
job_column = "category"
points = 2
"""


def test_a_builtin_alone_is_a_rule_set(tmp_path: Path) -> None:
    rule_set = load(
        tmp_path,
        "[seniority]\nexact = 2\none_above = 1\none_below = 1\nother = 0\nunknown = 0\n"
        '[relevance]\nrequired = ["seniority"]\ngrade_min_points = [1, 2, 2]\n',
    )
    assert rule_set.rule_names == ("seniority",)
    assert rule_set.job_columns() == ("seniority",)
    match = rules.match_pair({"seniority": 3, "location": "x"}, {"seniority": 4}, rule_set)
    assert (match.relevance, match.location) == (1, None)
    assert match.explain({"seniority": 3}, {"seniority": 4}) == (
        "seniority: one above (staff for a senior role)"
    )


def test_the_commented_example_in_the_shipped_rules_loads(tmp_path: Path) -> None:
    text = (Path(rules.__file__).parent / "rules.toml").read_text()
    example = text.split("Uncomment and adapt", 1)[1].split("\n", 1)[1]
    uncommented = "\n".join(
        line.removeprefix("#").removeprefix(" ") for line in example.split("\n")
    )
    rule_set = load(tmp_path, text + uncommented)
    assert [(r.name, r.kind) for r in rule_set.columns] == [
        ("category", "equal"),
        ("skills", "overlap"),
        ("experience", "numeric"),
    ]
    assert rules.load_rules().columns == ()  # the default grades as before


# --------------------------------------------------------------------------- agreement

CATEGORIES = ["Data Science", "data science ", "Marketing", "Sales", None, "  "]
SKILLS = ["python", "SQL", "go", "rust", "Spark", "excel"]

AGREEMENT_RULES = """
[[column]]
name = "category"
kind = "equal"
job_column = "category"
points = 3

[[column]]
name = "occupation"
kind = "equal"
job_column = "isco"
candidate_column = "isco_code"
points = 1

[[column]]
name = "skills"
kind = "overlap"
job_column = "skills"
points_by_shared = [0, 1, 2]

[[column]]
name = "experience"
kind = "numeric"
job_column = "min_years"
candidate_column = "years"
within = [0, 6]
points = 1
missing = 1

[[column]]
name = "seniority_years"
kind = "numeric"
job_column = "min_years"
candidate_column = "years_experience"
within = { max = 2.5 }
points = 1
"""


def team_table(rng: np.random.Generator, n: int, side: str) -> pl.DataFrame:
    """Columns in the forms real tables hold: lists and ;-strings, ints and float codes."""

    def pick(values: list) -> list:
        return [values[i] for i in rng.integers(0, len(values), n)]

    skills = []
    for count in rng.integers(0, 4, n):
        chosen = [str(s) for s in rng.choice(SKILLS, size=count, replace=False)]
        skills.append([s.upper() if rng.random() < 0.2 else s for s in chosen] or None)
    if side == "jobs":
        return pl.DataFrame(
            {
                "job_id": [f"j{i}" for i in range(n)],
                "category": pick(CATEGORIES),
                "isco": pick([2511, 2512, 1221, None]),
                "skills": skills,
                "min_years": pick([0, 2, 5, None]),
            },
            schema_overrides={"isco": pl.Int64, "skills": pl.List(pl.String)},
        )
    years = rng.uniform(0, 12, n).round(1)
    return pl.DataFrame(
        {
            "candidate_id": [f"c{i}" for i in range(n)],
            "category": pick(CATEGORIES),
            "isco_code": pick([2511.0, 2512.0, 1221.0, math.nan, None]),
            "skills": [";".join(s) if s else None for s in skills],
            "years": [None if y > 11 else f" {y} " for y in years],  # CSV-like numeric strings
            "years_experience": [math.nan if y < 1 else float(y) for y in years],
        },
        schema_overrides={"years_experience": pl.Float32},
    )


def builtin_fields(rng: np.random.Generator, n: int, *, jobs: bool) -> pl.DataFrame:
    """Location, seniority and areas as `jobmatch synth` writes them, some missing."""
    cities = ["Berlin, Germany", "Munich, Germany", "Paris, France", "Remote", None]
    areas = ["nlp", "ir", "cv", "rl"]
    frame = pl.DataFrame(
        {
            "location": [cities[i] for i in rng.integers(0, len(cities), n)],
            "seniority": [None if s == 6 else int(s) for s in rng.integers(0, 7, n)],
            "areas": [
                [str(a) for a in rng.choice(areas, size=m, replace=False)] or None
                for m in rng.integers(0, 3, n)
            ],
        },
        schema_overrides={"seniority": pl.Int8, "areas": pl.List(pl.String)},
    )
    return frame.with_columns(pl.Series("remote", rng.random(n) < 0.3)) if jobs else frame


def expected_labels(jobs: pl.DataFrame, candidates: pl.DataFrame, rule_set) -> dict:
    expected = {}
    for job in jobs.iter_rows(named=True):
        for cand in candidates.iter_rows(named=True):
            relevance = rules.match_pair(job, cand, rule_set).relevance
            if relevance:
                expected[(job["job_id"], cand["candidate_id"])] = relevance
    return expected


@pytest.mark.parametrize("with_builtins", [False, True])
def test_vectorised_column_rules_equal_scalar_rules(tmp_path: Path, with_builtins: bool) -> None:
    rng = np.random.default_rng(11)
    jobs, candidates = team_table(rng, 23, "jobs"), team_table(rng, 300, "candidates")
    if with_builtins:  # the default rules plus the column rules, on tables with both
        default = (Path(rules.__file__).parent / "rules.toml").read_text()
        text = default.replace("\n[relevance]\n", AGREEMENT_RULES + "\n[relevance]\n").replace(
            'required = ["location", "seniority", "areas"]', 'required = ["location", "skills"]'
        )
        text = text.replace("grade_min_points = [3, 5, 6]", "grade_min_points = [5, 8, 10]")
        jobs = jobs.with_columns(builtin_fields(rng, jobs.height, jobs=True))
        candidates = candidates.with_columns(builtin_fields(rng, candidates.height, jobs=False))
    else:
        text = AGREEMENT_RULES + (
            '\n[relevance]\nrequired = ["category"]\ngrade_min_points = [3, 5, 7]\n'
        )
    rule_set = load(tmp_path, text)
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rule_set, block_size=5)))
    got = {(j, c): r for j, c, r in qrels.iter_rows()}
    expected = expected_labels(jobs, candidates, rule_set)
    assert len(expected) > 50
    assert {1, 2, 3} <= set(expected.values())
    assert got == expected


def test_many_skills_use_several_bit_words(tmp_path: Path) -> None:
    skills = [f"skill{i}" for i in range(150)]
    jobs = pl.DataFrame({"job_id": ["j"], "category": ["x"], "skills": [[skills[140], "SKILL3"]]})
    candidates = pl.DataFrame(
        {
            "candidate_id": ["a", "b", "c"],
            "category": ["x"] * 3,
            "skills": [";".join(skills[60:150]), ";".join(skills[:4]), None],
        }
    )
    rule_set = load(
        tmp_path,
        TEAM_RULES.split('[[column]]\nname = "experience"')[0]
        + '[relevance]\nrequired = ["skills"]\ngrade_min_points = [1, 4, 5]\n',
    )
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rule_set)))
    assert qrels.rows() == [("j", "a", 2), ("j", "b", 2)]  # 3 + 1 points each; "c" is unknown
    assert expected_labels(jobs, candidates, rule_set) == {("j", "a"): 2, ("j", "b"): 2}


# --------------------------------------------------------------------------- bad values


def test_a_non_numeric_cell_names_file_row_and_column(tmp_path: Path) -> None:
    rule_set = load(tmp_path)
    jobs = pl.DataFrame({"job_id": ["j"], "category": ["x"], "skills": ["a"], "min_years": ["2"]})
    candidates = pl.DataFrame(
        {
            "candidate_id": ["a", "b"],
            "category": ["x", "x"],
            "skills": ["a", "b"],
            "years": ["3", "three"],
        }
    )
    with pytest.raises(SchemaError) as caught:
        list(rules.iter_labels(jobs, candidates, rule_set, candidates_path="cands.csv"))
    assert str(caught.value) == "cands.csv, row 2, column 'years': expected a number, got 'three'"
    with pytest.raises(SchemaError, match="column 'years': expected a number, got 'three'"):
        rules.match_pair({"min_years": 2}, {"years": "three"}, rule_set)


def test_a_list_in_an_equal_rule_is_an_error(tmp_path: Path) -> None:
    rule_set = load(tmp_path)
    jobs = pl.DataFrame({"job_id": ["j"], "category": [["x"]], "skills": ["a"], "min_years": [1]})
    candidates = pl.DataFrame(
        {"candidate_id": ["a"], "category": ["x"], "skills": ["a"], "years": [2]}
    )
    with pytest.raises(SchemaError, match=r"jobs.parquet, row 1, column 'category': .*overlap"):
        list(rules.iter_labels(jobs, candidates, rule_set, jobs_path="jobs.parquet"))


def test_a_missing_column_names_file_and_column(tmp_path: Path) -> None:
    rule_set = load(tmp_path)
    jobs = pl.DataFrame({"job_id": ["j"], "category": ["x"], "skills": ["a"], "min_years": [1]})
    candidates = pl.DataFrame({"candidate_id": ["a"], "category": ["x"], "skills": ["a"]})
    message = "c.csv, column 'years': missing column (the rule 'experience' reads it)"
    with pytest.raises(SchemaError) as caught:
        rules.require_rule_fields(candidates, rule_set, side="candidates", path="c.csv")
    assert str(caught.value) == message
    rules.require_rule_fields(jobs, rule_set, side="jobs", path="j.csv")
    with pytest.raises(SchemaError) as caught:
        list(rules.iter_labels(jobs, candidates, rule_set, candidates_path="c.csv"))
    assert str(caught.value) == message
    # the scalar path reads an absent key as missing: hits whose metadata lacks the column
    assert rules.match_pair(jobs.row(0, named=True), {}, rule_set).relevance == 0


# --------------------------------------------------------------------------- config errors


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('kind = "equal"', 'kind = "fuzzy"', r"\[\[column\]\] 1 \(category\): kind must be one of"),
        ("points = 3\n", "", r"\[\[column\]\] 1 \(category\): missing key 'points'"),
        ("points = 3", "points = 1.5", r"1 \(category\): points must be a non-negative integer"),
        ("points = 3", "points = true", r"1 \(category\): points must be a non-negative integer"),
        ("points = 3", "points = 3\nmissing = -1", r"missing must be a non-negative integer"),
        (
            "points_by_shared = [0, 1, 2]",
            'points_by_shared = [0, "1"]',
            r"\[\[column\]\] 2 \(skills\): points_by_shared must be a list of integers",
        ),
        ("points_by_shared = [0, 1, 2]", "points_by_shared = []", r"2 \(skills\): points_by"),
        ("points = 3", "point = 3", r"1 \(category\): unknown key 'point' for kind equal"),
        ("points = 3", "points = 3\npoints_by_shared = [1]", r"unknown key 'points_by_shared'"),
        ('name = "category"\n', "", r"\[\[column\]\] 1: name must be a non-empty string"),
        ('name = "category"', 'name = " "', r"\[\[column\]\] 1: name must be a non-empty string"),
        ('job_column = "category"\n', "", r"1 \(category\): job_column must be a column name"),
        (
            'job_column = "category"',
            'job_column = "category"\ncandidate_column = 3',
            r"1 \(category\): candidate_column must be a column name",
        ),
        ('name = "skills"', 'name = "category"', r"2 \(category\): duplicate rule name"),
        ("within = [0, 40]", "within = [0]", r"3 \(experience\): within must be \[min, max\]"),
        ("within = [0, 40]", "within = { least = 0 }", r"3 \(experience\): within must be"),
        ("within = [0, 40]", "within = {}", r"3 \(experience\): within must be"),
        ("within = [0, 40]", "within = 5", r"3 \(experience\): within must be"),
        ("within = [0, 40]", 'within = ["a", 1]', r"3 \(experience\): .*bounds must be numbers"),
        ("within = [0, 40]", "within = [5, 1]", r"3 \(experience\): within: min 5 is above max 1"),
        ("within = [0, 40]\n", "", r"3 \(experience\): missing key 'within'"),
        ('required = ["category"]', 'required = ["salary"]', r"unknown rule 'salary'"),
        ('required = ["category"]', 'required = ["location"]', r"unknown rule 'location'"),
        ('required = ["category"]', 'required = "category"', r"required must list rules"),
        ("grade_min_points = [3, 4, 6]", "grade_min_points = [3, 4, 7]", "cannot all be reached"),
        ("[[column]]", "[[columns]]", r"unknown table or key 'columns'"),
    ],
)
def test_bad_column_rules_are_reported(tmp_path: Path, replace: str, by: str, message: str) -> None:
    assert replace in TEAM_RULES
    path = tmp_path / "rules.toml"
    path.write_text(TEAM_RULES.replace(replace, by, 1))
    with pytest.raises(RulesError, match=message) as caught:
        rules.load_rules(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[relevance]\nrequired = []\ngrade_min_points = [1, 2, 3]\n", "no rules; give at least"),
        (
            '[column]\nname = "x"\n[relevance]\ngrade_min_points = [1, 2, 3]\n',
            r"column must be an array of tables \(\[\[column\]\] entries\)",
        ),
        (
            TEAM_RULES.replace("[relevance]", "[location]\nsame_city = 1\n[relevance]"),
            r"\[location\] same_country must be a non-negative integer",
        ),
        (
            COLUMN_CATEGORY.replace("category", "location")
            + "[location]\nsame_city = 2\nsame_country = 1\nremote_job = 2\n"
            "remote_candidate = 0\ndifferent_country = 0\nunknown = 0\n"
            "[relevance]\ngrade_min_points = [1, 2, 3]\n",
            r"\[\[column\]\] 1 \(location\): duplicate rule name",
        ),
        (COLUMN_CATEGORY, r"missing table \[relevance\]"),
    ],
)
def test_bad_rule_sets_are_reported(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        load(tmp_path, text)


# --------------------------------------------------------------------------- CLI

JOBS_CSV = """\
job_id,text,category,skills,min_years
j1,Data scientist in Berlin,Data Science,python;sql;spark,3
j2,Marketing lead,Marketing,seo|writing,
"""
CANDIDATES_CSV = """\
candidate_id,text,category,skills,years
c1,Analyst,data science ,Python;SQL,5
c2,Copywriter,Marketing,SEO,1
c3,Engineer,Data Science,java,2
c4,Student,,python,10
"""


def write_team(tmp_path: Path, candidates: str = CANDIDATES_CSV) -> list[str]:
    (tmp_path / "jobs.csv").write_text(JOBS_CSV)
    (tmp_path / "candidates.csv").write_text(candidates)
    (tmp_path / "rules.toml").write_text(TEAM_RULES)
    return [
        "label",
        "--jobs",
        str(tmp_path / "jobs.csv"),
        "--candidates",
        str(tmp_path / "candidates.csv"),
        "--rules",
        str(tmp_path / "rules.toml"),
        "--out",
        str(tmp_path / "qrels.csv"),
    ]


def test_cli_label_grades_a_team_table_on_its_own_columns(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, write_team(tmp_path))
    assert result.exit_code == 0, result.output
    qrels = pl.read_csv(tmp_path / "qrels.csv").sort("job_id", "candidate_id")
    assert qrels.rows() == [
        ("j1", "c1", 3),  # same category 3 + python, sql 2 + 2 years over the minimum 1 = 6
        ("j1", "c3", 1),  # same category 3, no shared skill, 1 year short
        ("j2", "c2", 2),  # same category 3 + seo 1; j2 has no minimum: experience unknown
    ]  # c4 has no category, which is required


def test_cli_label_missing_column_exits_2_with_one_line(tmp_path: Path) -> None:
    args = write_team(tmp_path, CANDIDATES_CSV.replace(",years\n", ",yrs\n"))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    path = tmp_path / "candidates.csv"
    assert result.output.strip() == (
        f"error: {path}, column 'years': missing column (the rule 'experience' reads it)"
    )
    assert not (tmp_path / "qrels.csv").exists()


def test_cli_label_non_numeric_cell_exits_2_naming_the_row(tmp_path: Path) -> None:
    args = write_team(tmp_path, CANDIDATES_CSV.replace("Copywriter,Marketing,SEO,1", "x,y,z,one"))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    path = tmp_path / "candidates.csv"
    assert result.output.strip() == (
        f"error: {path}, row 2, column 'years': expected a number, got 'one'"
    )
    assert not (tmp_path / "qrels.csv").exists()


def test_the_readme_example_loads_and_grades(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("### Rules on your own columns", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    rule_set = load(tmp_path, example)
    assert rule_set.rule_names == ("category", "skills", "experience")
    job = {"category": "Data Science", "skills": ["python", "sql"], "min_years": 2}
    candidate = {"category": "data science", "skills": "python;sql;go", "years": "5"}
    match = rules.match_pair(job, candidate, rule_set)
    assert match.relevance == 3
    assert match.explain(job, candidate) == (
        "category: same (data science); skills: 2 shared — python, sql; "
        "experience: 3 over the job's 2"
    )


def test_query_explains_hits_by_column_rules(tmp_path: Path, tiny_encoder) -> None:
    """Column rules explain hits from the columns kept in the index metadata."""
    from jobmatch.index import BuildConfig, build_index, load_index
    from jobmatch.search import search

    candidates = pl.DataFrame(
        {
            "candidate_id": ["c1", "c2", "c3"],
            "text": ["data scientist", "marketing lead", "data analyst"],
            "category": ["Data Science", "Marketing", "data science"],
        }
    )
    build_index(candidates, tmp_path / "index", tiny_encoder, BuildConfig(factory="Flat"))
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[column]]\nname = "category"\nkind = "equal"\njob_column = "category"\npoints = 3\n'
        '[relevance]\nrequired = ["category"]\ngrade_min_points = [1, 2, 3]\n'
    )
    jobs = pl.DataFrame({"job_id": ["j"], "text": ["data role"], "category": ["Data Science"]})
    hits = search(
        load_index(tmp_path / "index"), tiny_encoder, jobs, k=3, explain=rules.load_rules(path)
    )
    explained = dict(zip(hits["candidate_id"], hits["explanation"], strict=True))
    assert explained["c1"] == "category: same (Data Science)"
    assert explained["c3"] == "category: same (data science)"
    assert explained["c2"] == "category: different (Marketing vs Data Science)"
