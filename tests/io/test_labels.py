"""A team's outcome labels -> qrels: grades, highest event per pair, one-line errors."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from jobmatch import io
from jobmatch.errors import InputError
from jobmatch.io.labels import DEFAULT_GRADES, import_labels, load_grades

EVENTS = (
    "job_id,candidate_id,outcome\n"
    "j1,c1,applied\n"
    "j1,c1,Shortlisted\n"  # a later event of the same pair: the highest grade wins
    "j1,c2,rejected\n"  # grade 0: not a qrels row
    "j2,c1,HIRED\n"
    "j2,c3,applied\n"
)


def test_outcomes_become_graded_qrels(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS)
    qrels = import_labels(path, DEFAULT_GRADES)
    assert sorted(qrels.iter_rows()) == [("j1", "c1", 2), ("j2", "c1", 3), ("j2", "c3", 1)]
    assert qrels.schema["relevance"] == pl.Int8
    out = tmp_path / "qrels.parquet"
    io.write_table(qrels, out)
    assert io.read_table(out, "qrels").height == 3  # passes the qrels contract


def test_grades_file_and_column_names(tmp_path: Path) -> None:
    grades = tmp_path / "grades.toml"
    grades.write_text('[grades]\n"phone screen" = 1\nplaced = 3\n')
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"req": "r9", "person": "p1", "stage": "Phone Screen"}\n'
        '{"req": "r9", "person": "p2", "stage": "placed"}\n'
    )
    qrels = import_labels(
        path, load_grades(grades), job_col="req", candidate_col="person", outcome_col="stage"
    )
    assert sorted(qrels.iter_rows()) == [("r9", "p1", 1), ("r9", "p2", 3)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("job_id,candidate_id,outcome\nj1,c1,applied\nj1,c2,hierd\n",
         "events.csv, row 2, column 'outcome': unknown outcome 'hierd'"),
        ("job_id,candidate_id,outcome\nj1,,applied\n",
         "events.csv, row 1, column 'candidate_id': empty id"),
        ("job_id,outcome\nj1,applied\n", "events.csv, column 'candidate_id': missing column"),
        ("job_id,candidate_id,outcome\n", "events.csv: no rows"),
    ],
)  # fmt: skip
def test_bad_rows_name_file_row_and_column(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "events.csv"
    path.write_text(body)
    with pytest.raises(InputError) as caught:
        import_labels(path, DEFAULT_GRADES)
    assert str(caught.value).startswith(f"{tmp_path}/{message}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[grades]\nhired = 5\n", "grade of 'hired' must be an integer 0..3, got 5"),
        ("[grades]\nhired = true\n", "grade of 'hired' must be an integer 0..3, got True"),
        ("hired = 3\n", "expected a [grades] table"),
        ("[grades\n", "malformed TOML"),
    ],
)
def test_bad_grades_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "grades.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message.replace("[", r"\[")):
        load_grades(path)


def test_cli_import_labels(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from jobmatch.cli import main

    events = tmp_path / "events.csv"
    events.write_text(EVENTS)
    out = tmp_path / "qrels.csv"
    result = CliRunner().invoke(
        main, ["import", "labels", "--input", str(events), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert io.read_table(out, "qrels").height == 3
    assert "wrote 3 labels (1 of grade 1, 1 of grade 2, 1 of grade 3)" in result.stderr
    events.write_text("job_id,candidate_id,outcome\nj1,c1,hierd\n")
    out.unlink()
    failed = CliRunner().invoke(
        main, ["import", "labels", "--input", str(events), "--out", str(out)]
    )
    assert failed.exit_code == 2
    assert failed.stderr.startswith(f"error: {events}, row 1, column 'outcome': unknown outcome")
    assert not out.exists()
