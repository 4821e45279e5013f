"""`jobmatch import`: RankPO JSONL and resume/JD pair tables into jobmatch tables."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from jobmatch import io
from jobmatch.cli import main
from jobmatch.io.importers import import_pairs, import_rankpo, relevance_of_label, text_id

TRAIN_ROWS = [
    {"query": "NLP engineer, Berlin", "positives": ["Ana: NLP, 6y", "Bo: IR, 4y"],
     "negatives": ["Cy: frontend"]},
    {"query": "Go backend developer", "positives": ["Dee: Go, 8y"], "negatives": ["Ana: NLP, 6y"],
     "source": "ignored"},
    # the same query again: its job is shared, its positive pair written once
    {"query": "NLP engineer, Berlin", "positives": ["Bo: IR, 4y"], "negatives": []},
]  # fmt: skip
PREFERENCE_ROWS = [
    {"query": "NLP engineer, Berlin", "passage1": "Cy: frontend", "passage2": "Ana: NLP, 6y",
     "response": "Passage B lists NLP work.\nPreferred: B\nConfidence score: 65"},
    {"query": "Data scientist", "passage1": "Eve: stats", "passage2": "Dee: Go, 8y",
     "preferred": "A", "response": "irrelevant"},
]  # fmt: skip


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def sha_id(prefix: str, text: str) -> str:
    return prefix + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def jid(text: str) -> str:
    return sha_id("j", text)


def cid(text: str) -> str:
    return sha_id("c", text)


@pytest.fixture
def rankpo_files(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write_jsonl(tmp_path / "train.jsonl", TRAIN_ROWS),
        write_jsonl(tmp_path / "preferences.jsonl", PREFERENCE_ROWS),
    )


def test_text_id_is_a_prefixed_sha256_prefix() -> None:
    assert text_id("Ana: NLP, 6y", "candidate") == cid("Ana: NLP, 6y")
    assert text_id("Ana: NLP, 6y", "job") == "j" + cid("Ana: NLP, 6y")[1:]
    assert len(text_id("x", "job")) == 17
    assert text_id("é", "candidate") == cid("é")


def test_import_rankpo_tables(rankpo_files: tuple[Path, Path]) -> None:
    tables = import_rankpo(*rankpo_files)

    jobs = ["NLP engineer, Berlin", "Go backend developer", "Data scientist"]
    assert_frame_equal(tables.jobs, pl.DataFrame({"job_id": [jid(t) for t in jobs], "text": jobs}))
    passages = ["Ana: NLP, 6y", "Bo: IR, 4y", "Cy: frontend", "Dee: Go, 8y", "Eve: stats"]
    assert_frame_equal(
        tables.candidates,
        pl.DataFrame({"candidate_id": [cid(t) for t in passages], "text": passages}),
    )
    assert_frame_equal(
        tables.qrels,
        pl.DataFrame(
            {
                "job_id": [jid(jobs[0]), jid(jobs[0]), jid(jobs[1])],
                "candidate_id": [cid("Ana: NLP, 6y"), cid("Bo: IR, 4y"), cid("Dee: Go, 8y")],
                "relevance": [1, 1, 1],
            },
            schema={"job_id": pl.String, "candidate_id": pl.String, "relevance": pl.Int8},
        ),
    )
    preferences = tables.preferences
    assert preferences is not None
    assert preferences.columns == ["job_id", "chosen", "rejected", "confidence"]
    assert preferences.drop("confidence").rows() == [
        # response "Preferred: B": passage2 chosen
        (jid(jobs[0]), cid("Ana: NLP, 6y"), cid("Cy: frontend")),
        # preferred "A": passage1 chosen
        (jid(jobs[2]), cid("Eve: stats"), cid("Dee: Go, 8y")),
    ]
    assert preferences["confidence"].dtype == pl.Float32
    assert preferences["confidence"][0] == pytest.approx(0.65)
    assert preferences["confidence"][1] is None
    assert tables.pairs is None
    assert tables.counts() == {"jobs": 3, "candidates": 5, "qrels": 3, "preferences": 2}


def test_ids_are_stable_across_imports_and_files(rankpo_files: tuple[Path, Path]) -> None:
    train, preferences = rankpo_files
    both = import_rankpo(train, preferences)
    again = import_rankpo(train, preferences)
    only_preferences = import_rankpo(None, preferences)

    assert_frame_equal(both.candidates, again.candidates)
    assert_frame_equal(both.preferences, again.preferences)
    # an id depends on the text alone, not on which files were imported with it
    shared = both.candidates.join(only_preferences.candidates, on="candidate_id")
    assert shared["text"].to_list() == shared["text_right"].to_list()
    assert set(only_preferences.candidates["candidate_id"]) <= set(both.candidates["candidate_id"])
    assert_frame_equal(only_preferences.preferences, both.preferences)
    assert only_preferences.qrels is None


@pytest.mark.parametrize(
    ("extra", "chosen", "confidence"),
    [
        ({"response": "Reasoning...\n**Preferred:** a\n**Confidence score:** 90"}, "p1", 0.9),
        ({"response": "preferred :  B\nconfidence score: 40.5"}, "p2", 0.405),
        ({"response": "Preferred: A (first)\nPreferred: B"}, "p2", None),  # the last one wins
        ({"preferred": "", "response": "Preferred: Passage B"}, "p2", None),
        ({"preferred": " b ", "confidence": 80, "response": "Confidence score: 10"}, "p2", 0.8),
        ({"preferred": "A", "confidence": "100%"}, "p1", 1.0),
    ],
)
def test_preferred_and_confidence_variants(
    tmp_path: Path, extra: dict, chosen: str, confidence: float | None
) -> None:
    row = {"query": "q", "passage1": "p1", "passage2": "p2", **extra}
    path = write_jsonl(tmp_path / "p.jsonl", [row])

    preferences = import_rankpo(preferences=path).preferences

    rejected = "p2" if chosen == "p1" else "p1"
    assert preferences.row(0)[:3] == (jid("q"), cid(chosen), cid(rejected))
    if confidence is None:
        assert preferences["confidence"][0] is None
    else:
        assert preferences["confidence"][0] == pytest.approx(confidence)


def test_cli_rankpo_writes_valid_tables(tmp_path: Path, rankpo_files: tuple[Path, Path]) -> None:
    train, preferences = rankpo_files
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["import", "rankpo", "--train", str(train), "--preferences", str(preferences),
               "--out", str(out)]
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stderr == (f"imported 3 jobs, 5 candidates, 3 qrels, 2 preferences into {out}\n")
    assert sorted(p.name for p in out.iterdir()) == [
        "candidates.parquet", "jobs.parquet", "preferences.parquet", "qrels.parquet"
    ]  # fmt: skip
    expected = import_rankpo(train, preferences)
    for kind in ("jobs", "candidates", "qrels", "preferences"):
        read = io.read_table(out / f"{kind}.parquet", kind)
        assert_frame_equal(read, getattr(expected, kind))

    # only tables with rows are written: no qrels without --train
    only = tmp_path / "only"
    result = CliRunner().invoke(
        main, ["import", "rankpo", "--preferences", str(preferences), "--out", str(only)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in only.iterdir()) == [
        "candidates.parquet", "jobs.parquet", "preferences.parquet"
    ]  # fmt: skip
    assert result.stderr == f"imported 2 jobs, 4 candidates, 2 preferences into {only}\n"


def test_cli_rankpo_needs_an_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["import", "rankpo", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "give --train, --preferences or both" in result.stderr
    assert not (tmp_path / "out").exists()


def test_import_pairs_csv(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text(
        "resume,jd,label\n"
        "r1,JD one,1\n"
        "r2,JD one,0.5\n"
        "r3,JD one,0.1\n"  # rounds to 0: no qrels row
        "r1,JD two,0.2\n"
        "r2,JD two,0\n"
        "r1,JD one,0.6\n"  # duplicate pair: pairs keeps it, qrels keeps the higher grade
    )

    tables = import_pairs(path)

    resumes, jds = ["r1", "r2", "r3"], ["JD one", "JD two"]
    assert_frame_equal(
        tables.candidates,
        pl.DataFrame({"candidate_id": [cid(t) for t in resumes], "text": resumes}),
    )
    assert_frame_equal(tables.jobs, pl.DataFrame({"job_id": [jid(t) for t in jds], "text": jds}))
    job_one, job_two = jid("JD one"), jid("JD two")
    assert_frame_equal(
        tables.pairs,
        pl.DataFrame(
            {
                "job_id": [job_one, job_one, job_one, job_two, job_two, job_one],
                "candidate_id": [cid(r) for r in ("r1", "r2", "r3", "r1", "r2", "r1")],
                "label": [1.0, 0.5, 0.1, 0.2, 0.0, 0.6],
            },
            schema={"job_id": pl.String, "candidate_id": pl.String, "label": pl.Float32},
        ),
    )
    assert tables.qrels.rows() == [
        (job_one, cid("r1"), 3),
        (job_one, cid("r2"), 2),
        (job_two, cid("r1"), 1),
    ]
    assert tables.qrels.schema["relevance"] == pl.Int8
    assert tables.preferences is None


@pytest.mark.parametrize(
    ("label", "relevance"),
    [(0.0, 0), (0.16, 0), (0.17, 1), (0.5, 2), (0.83, 2), (0.84, 3), (1.0, 3)],
)
def test_relevance_of_label_rounds_half_up(label: float, relevance: int) -> None:
    assert relevance_of_label(label) == relevance


def test_cli_pairs_jsonl_and_custom_columns(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "pairs.jsonl",
        [{"cv": "r1", "posting": "JD", "score": 0.9}, {"cv": "r2", "posting": "JD", "score": 0}],
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["import", "pairs", "--pairs", str(path), "--resume-col", "cv", "--jd-col",
               "posting", "--label-col", "score", "--out", str(out)]
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stderr == f"imported 1 jobs, 2 candidates, 1 qrels, 2 pairs into {out}\n"
    qrels = io.read_table(out / "qrels.parquet", "qrels")
    assert qrels.rows() == [(jid("JD"), cid("r1"), 3)]
    assert io.read_table(out / "candidates.parquet", "candidates")["text"].to_list() == ["r1", "r2"]
    assert pl.read_parquet(out / "pairs.parquet")["label"].to_list() == pytest.approx([0.9, 0.0])


GOOD = {"query": "q", "positives": ["a"], "negatives": ["b"]}
GOOD_PREFERENCE = {"query": "q", "passage1": "a", "passage2": "b", "preferred": "A"}


@pytest.mark.parametrize(
    ("train", "preferences", "where", "message"),
    [
        ([GOOD], "{\"query\": \"q\",\n", "preferences.jsonl, line 1", "malformed JSON"),
        ("\n" + json.dumps(GOOD) + "\n[1, 2]\n", None, "train.jsonl, line 3",
         "expected a JSON object"),
        ([GOOD, {"positives": ["a"]}], None, "train.jsonl, line 2, column 'query'",
         "missing field"),
        ([{**GOOD, "query": "  "}], None, "train.jsonl, line 1, column 'query'", "empty text"),
        ([{**GOOD, "query": 7}], None, "train.jsonl, line 1, column 'query'",
         "expected a string, got the number 7"),
        ([{**GOOD, "positives": "a"}], None, "train.jsonl, line 1, column 'positives'",
         "expected a list of strings, got the string 'a'"),
        ([GOOD, {**GOOD, "positives": ["a", ""]}], None,
         "train.jsonl, line 2, column 'positives'", "item 1: empty text"),
        ([{**GOOD, "negatives": ["b", 3]}], None, "train.jsonl, line 1, column 'negatives'",
         "item 1: expected a string, got the number 3"),
        ([{**GOOD, "positives": []}], None, "train.jsonl, line 1, column 'positives'",
         "empty list"),
        ([GOOD], [GOOD_PREFERENCE, {**GOOD_PREFERENCE, "preferred": "C"}],
         "preferences.jsonl, line 2, column 'preferred'",
         "expected 'A' or 'B', got the string 'C'"),
        ([GOOD], [{**GOOD_PREFERENCE, "preferred": None, "response": "B is better"}],
         "preferences.jsonl, line 1, column 'preferred'",
         "missing or empty, and the response has no 'Preferred: A' or 'B'"),
        (None, [{**GOOD_PREFERENCE, "preferred": ""}],
         "preferences.jsonl, line 1, column 'preferred'",
         "missing or empty, and no 'response' to read it from"),
        (None, [{**GOOD_PREFERENCE, "passage2": "a"}],
         "preferences.jsonl, line 1, column 'passage2'", "same text as passage1"),
        (None, [{**GOOD_PREFERENCE, "passage1": ""}],
         "preferences.jsonl, line 1, column 'passage1'", "empty text"),
        (None, [{**GOOD_PREFERENCE, "confidence": 150}],
         "preferences.jsonl, line 1, column 'confidence'", "confidence 150 outside 0..100"),
        (None, [{**GOOD_PREFERENCE, "response": "Preferred: A\nConfidence score: 101"}],
         "preferences.jsonl, line 1, column 'response'", "confidence '101' outside 0..100"),
        (None, "\n\n", "preferences.jsonl", "no rows"),
    ],
)  # fmt: skip
def test_cli_rankpo_bad_rows(
    tmp_path: Path,
    train: list[dict] | str | None,
    preferences: list[dict] | str | None,
    where: str,
    message: str,
) -> None:
    args = ["import", "rankpo", "--out", str(tmp_path / "out")]
    for option, name, content in (
        ("--train", "train.jsonl", train),
        ("--preferences", "preferences.jsonl", preferences),
    ):
        if content is None:
            continue
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content)
        else:
            write_jsonl(path, content)
        args += [option, str(path)]

    result = CliRunner().invoke(main, args)

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {tmp_path / where}: {message}"), lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "content", "where", "message"),
    [
        ("p.csv", "resume,jd\nr,j\n", "p.csv, column 'label'", "missing column"),
        ("p.csv", "resume,jd,label\nr,j,1\n,j,1\n", "p.csv, row 2, column 'resume'",
         "empty text"),
        ("p.csv", "resume,jd,label\nr,j,1\nr,  ,1\n", "p.csv, row 2, column 'jd'", "empty text"),
        ("p.csv", "resume,jd,label\nr,j,high\n", "p.csv, row 1, column 'label'",
         "expected a number, got 'high'"),
        ("p.csv", "resume,jd,label\nr,j,0.5\nr,j,1.5\n", "p.csv, row 2, column 'label'",
         "label '1.5' outside 0..1"),
        ("p.csv", "resume,jd,label\nr,j,-0.1\n", "p.csv, row 1, column 'label'",
         "label '-0.1' outside 0..1"),
        ("p.csv", "resume,jd,label\nr,j,\n", "p.csv, row 1, column 'label'", "missing label"),
        ("p.jsonl", '{"resume": "r", "jd": "j", "label": 1}\n\n'
         '{"resume": "r", "jd": "j", "label": "x"}\n', "p.jsonl, line 3, column 'label'",
         "expected a number, got 'x'"),
        ("p.jsonl", '{"resume": "r", "jd": "j", "label": true}\n',
         "p.jsonl, line 1, column 'label'", "expected a number, got True"),
        ("p.jsonl", '{"resume": "r", "jd": "j", "label": 1}\n{"resume": "r", "jd": ',
         "p.jsonl, line 2", "malformed JSON"),
        ("p.csv", "resume,jd,label\n", "p.csv", "no rows"),
        ("p.txt", "resume,jd,label\n", "p.txt", "unknown file type .txt"),
    ],
)  # fmt: skip
def test_cli_pairs_bad_rows(
    tmp_path: Path, name: str, content: str, where: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    out = tmp_path / "out"

    result = CliRunner().invoke(main, ["import", "pairs", "--pairs", str(path), "--out", str(out)])

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {tmp_path / where}: {message}"), lines[0]
    assert not out.exists()


def test_cli_pairs_parquet_null_text_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pl.DataFrame({"resume": ["r1", "r2"], "jd": ["j", None], "label": [1.0, 0.5]}).write_parquet(
        path
    )
    out = tmp_path / "out"

    result = CliRunner().invoke(main, ["import", "pairs", "--pairs", str(path), "--out", str(out)])

    assert result.exit_code == 2
    assert result.stderr == f"error: {path}, row 2, column 'jd': empty text\n"
    assert not out.exists()


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    result = CliRunner().invoke(
        main, ["import", "rankpo", "--train", str(missing), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: {missing}: file not found\n"
