"""Data layer: formats round-trip, and every kind of bad input fails as one line, exit 2."""

from __future__ import annotations

import io as stdlib_io
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io, schema
from jobmatch.cli import main
from jobmatch.errors import DuplicateError, InputError, SchemaError

CANDIDATES = pl.DataFrame(
    {
        "candidate_id": ["c1", "c2", "c3"],
        "text": ["NLP engineer in Berlin", "Frontend developer, Paris", "Remote SRE"],
        "location": ["Berlin, Germany", "Paris, France", "Remote"],
        "seniority": [3, 1, 4],
        "areas": [["nlp", "ir"], ["frontend"], ["devops"]],
        "years_experience": [8.0, 2.5, 11.0],
        "employer": ["Acme", "Globex", "Initech"],
    }
)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_candidates_round_trip_every_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"candidates{suffix}"
    io.write_table(CANDIDATES, path)
    read = io.read_table(path, "candidates")
    assert read["candidate_id"].to_list() == ["c1", "c2", "c3"]
    assert read["areas"].to_list() == [["nlp", "ir"], ["frontend"], ["devops"]]
    assert read["seniority"].dtype == pl.Int8
    assert read["years_experience"].dtype == pl.Float32
    assert read["employer"].to_list() == ["Acme", "Globex", "Initech"]  # metadata kept
    assert not list(tmp_path.glob(".*tmp"))


def test_configurable_id_and_text_columns(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("person,resume,seniority\np1,Data engineer,2\np2,Designer,1\n")
    read = io.read_table(path, "candidates", id_col="person", text_col="resume")
    assert read.columns[:2] == ["candidate_id", "text"]
    assert read["text"].to_list() == ["Data engineer", "Designer"]


def test_csv_list_cells_and_booleans(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text('job_id,text,areas,remote\nj1,a,"nlp;ir",true\nj2,b,["cv"],no\nj3,c,,FALSE\n')
    read = io.read_table(path, "jobs")
    assert read["areas"].to_list() == [["nlp", "ir"], ["cv"], None]  # empty cell = unknown
    assert read["remote"].to_list() == [True, False, False]


def test_stdin_is_read_as_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    lines = '{"job_id": "j1", "text": "a"}\n{"job_id": "j2", "text": "b"}\n'
    monkeypatch.setattr(sys, "stdin", stdlib_io.TextIOWrapper(stdlib_io.BytesIO(lines.encode())))
    assert io.read_table("-", "jobs")["job_id"].to_list() == ["j1", "j2"]


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = stdlib_io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


# Each case: file name, content, expected error class and the location/column it must name.
BAD_INPUTS = [
    (
        "unclosed_quote.csv",
        b'candidate_id,text\nc1,"never closed\nc2,second row\nc3,third row\n',
        InputError,
        "line 2, row 1",
        None,
        "a quote opened in this record is never closed",
    ),
    (
        "unclosed_quote_later.csv",
        b'candidate_id,text\nc0,fine\nc1,"never closed\nc2,"a quoted, field"\n',
        InputError,
        "line 3, row 2",
        None,
        "malformed quoting",
    ),
    ("zero_bytes.csv", b"", InputError, None, None, "empty file"),
    ("zero_bytes.jsonl", b"", InputError, None, None, "empty file"),
    ("zero_bytes.parquet", b"", InputError, None, None, "empty file"),
    ("header_only.csv", b"candidate_id,text\n", InputError, None, None, "no rows"),
    ("blank_lines.jsonl", b"\n\n", InputError, None, None, "no rows"),
    (
        "text_numbers.parquet",
        parquet_bytes(pl.DataFrame({"candidate_id": ["c1", "c2"], "text": [1, 2]})),
        SchemaError,
        None,
        "text",
        "expected strings, found int64",
    ),
    (
        "id_numbers.parquet",
        parquet_bytes(pl.DataFrame({"candidate_id": [1, 2], "text": ["a", "b"]})),
        SchemaError,
        None,
        "candidate_id",
        "expected strings, found int64",
    ),
    (
        "id_numbers.jsonl",
        b'{"candidate_id":1,"text":"a"}\n{"candidate_id":2,"text":"b"}\n',
        SchemaError,
        "line 1",
        "candidate_id",
        "expected a string, found the number 1",
    ),
    (
        "id_mixed.jsonl",
        b'{"candidate_id":"c1","text":"a"}\n{"candidate_id":2,"text":"b"}\n',
        SchemaError,
        "line 2",
        "candidate_id",
        "expected a string, found the number 2",
    ),
    (
        "null_line.jsonl",
        b'{"candidate_id":"c1","text":"a"}\nnull\n',
        InputError,
        "line 2",
        None,
        "expected a JSON object, found null",
    ),
    (
        "number_line.jsonl",
        b'{"candidate_id":"c1","text":"a"}\n42\n',
        InputError,
        "line 2",
        None,
        "expected a JSON object, found the number",
    ),
    (
        "header_twice.csv",
        b"candidate_id,text,text\nc1,a,b\n",
        InputError,
        "line 1",
        "text",
        "this name appears twice in the header",
    ),
    (
        "key_twice.jsonl",
        b'{"candidate_id":"c1","text":"a"}\n{"candidate_id":"c2","text":"b","text":"c"}\n',
        InputError,
        "line 2",
        "text",
        "this key appears twice in one object",
    ),
    (
        "not_parquet.parquet",
        b"candidate_id,text\nc1,a\n",
        InputError,
        None,
        None,
        "not a readable Parquet file",
    ),
    ("missing.csv", b"candidate_id,body\nc1,x\n", SchemaError, None, "text", "missing column"),
    (
        "null_id.csv",
        b"candidate_id,text\nc1,x\n,y\n",
        SchemaError,
        "row 2",
        "candidate_id",
        "empty value",
    ),
    (
        "empty_text.jsonl",
        b'{"candidate_id":"c1","text":"a"}\n{"candidate_id":"c2","text":"  "}\n',
        SchemaError,
        "line 2",
        "text",
        "empty value",
    ),
    (
        "dup.csv",
        b"candidate_id,text\nc1,a\nc2,b\nc1,c\n",
        DuplicateError,
        "row 3",
        "candidate_id",
        "duplicate id 'c1' (first seen at row 1)",
    ),
    (
        "dup.jsonl",
        b'{"candidate_id":"c1","text":"a"}\n\n{"candidate_id":"c1","text":"b"}\n',
        DuplicateError,
        "line 3",
        "candidate_id",
        "first seen at line 1",
    ),
    (
        "type.csv",
        b"candidate_id,text,seniority\nc1,a,3\nc2,b,senior\n",
        SchemaError,
        "row 2",
        "seniority",
        "expected an integer, got 'senior'",
    ),
    (
        "range.jsonl",
        b'{"candidate_id":"c1","text":"a","seniority":9}\n',
        SchemaError,
        "line 1",
        "seniority",
        "outside 0..5",
    ),
    (
        "text_type.jsonl",
        b'{"candidate_id":"c1","text":"a"}\n{"candidate_id":"c2","text":5}\n',
        SchemaError,
        "line 2",
        "text",
        "expected a string",
    ),
    (
        "years.csv",
        b"candidate_id,text,years_experience\nc1,a,many\n",
        SchemaError,
        "row 1",
        "years_experience",
        "expected a number",
    ),
    (
        "json.jsonl",
        b'{"candidate_id":"c1","text":"a"}\n{"candidate_id":"c2",\n',
        InputError,
        "line 2",
        None,
        "malformed JSON",
    ),
    (
        "array.jsonl",
        b'{"candidate_id":"c1","text":"a"}\n[1, 2]\n',
        InputError,
        "line 2",
        None,
        "expected a JSON object, found an array",
    ),
    (
        "bytes.csv",
        b"candidate_id,text\nc1,ok\nc2,caf\xe9\n",
        InputError,
        "line 3",
        "text",
        "undecodable bytes",
    ),
    (
        "bytes.jsonl",
        b'{"candidate_id":"c1","text":"caf\xe9"}\n',
        InputError,
        "line 1",
        "text",
        "undecodable bytes",
    ),
    (
        "ragged.csv",
        b"candidate_id,text\nc1,a\nc2,b,extra\n",
        InputError,
        "row 2",
        None,
        "expected 2 fields, found 3",
    ),
    (
        "list.csv",
        b'candidate_id,text,areas\nc1,a,"[1, 2]"\n',
        SchemaError,
        "row 1",
        "areas",
        "expected a list of strings",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "error", "where", "column", "message"),
    BAD_INPUTS,
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_names_file_location_and_column(
    tmp_path: Path, name, content, error, where, column, message
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error) as caught:
        io.read_table(path, "candidates")
    text = str(caught.value)
    assert text.startswith(str(path))
    assert message in text
    if where:
        assert where in text
    if column:
        assert f"column '{column}'" in text


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [(case[0], case[1], case[5]) for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_through_cli_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    index = tmp_path / "out" / "index"
    result = CliRunner().invoke(
        main, ["index", "build", "--input", str(bad), "--index", str(index)]
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {bad}")
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert not index.exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_label_rejects_bad_rule_fields_and_writes_nothing(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"job_id": "j1", "text": "x", "location": "Berlin, Germany"}) + "\n")
    candidates = tmp_path / "candidates.csv"
    candidates.write_text("candidate_id,text,seniority\nc1,a,3\nc2,b,senior\n")
    out = tmp_path / "qrels.parquet"
    result = CliRunner().invoke(
        main, ["label", "--jobs", str(jobs), "--candidates", str(candidates), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {candidates}, row 2, column 'seniority': expected an integer, got 'senior'"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["candidates.csv", "jobs.jsonl"]


def test_qrels_relevance_must_be_graded_0_to_3(tmp_path: Path) -> None:
    path = tmp_path / "qrels.csv"
    path.write_text("job_id,candidate_id,relevance\nj1,c1,2\nj1,c2,7\n")
    with pytest.raises(SchemaError, match=r"row 2, column 'relevance': value 7 outside 0..3"):
        io.read_table(path, "qrels")


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown file type \.txt"):
        io.read_table(tmp_path / "x.txt", "jobs")
    with pytest.raises(InputError, match="file not found"):
        io.read_table(tmp_path / "nope.parquet", "jobs")


def test_write_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "table.parquet"
    io.write_table(CANDIDATES, target)
    before = target.read_bytes()
    with pytest.raises(RuntimeError), io.atomic_path(target) as tmp:
        tmp.write_bytes(b"half written")
        raise RuntimeError("crash mid-write")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["table.parquet"]


def test_schema_country_of() -> None:
    assert schema.country_of("Berlin, Germany") == "Germany"
    assert schema.country_of("Remote") is None
    assert schema.country_of(None) is None


# Inputs that look odd but are valid: each must be read exactly, every row kept.
GOOD_ODD_INPUTS = [
    ("bom.csv", b"\xef\xbb\xbfcandidate_id,text\nc1,a\nc2,b\n"),
    ("crlf.csv", b"candidate_id,text\r\nc1,a\r\nc2,b\r\n"),
    ("multiline.csv", b'candidate_id,text\nc1,"first line\nsecond, with a comma"\nc2,b\n'),
    ("quoted_quotes.csv", b'candidate_id,text\nc1,"she said ""hi"""\nc2,b\n'),
    ("no_final_newline.csv", b"candidate_id,text\nc1,a\nc2,b"),
    (
        "bom_crlf.jsonl",
        b'\xef\xbb\xbf{"candidate_id":"c1","text":"a"}\r\n{"candidate_id":"c2","text":"b"}\r\n',
    ),
]


@pytest.mark.parametrize(("name", "content"), GOOD_ODD_INPUTS, ids=[c[0] for c in GOOD_ODD_INPUTS])
def test_odd_but_valid_inputs_keep_every_row(
    tmp_path: Path, tiny_model_dir: Path, name: str, content: bytes
) -> None:
    from jobmatch.index.store import load_index
    from jobmatch.io.batches import validate_inputs

    path = tmp_path / name
    path.write_bytes(content)
    table = io.read_table(path, "candidates")
    assert table.columns[:2] == ["candidate_id", "text"]
    assert table["candidate_id"].to_list() == ["c1", "c2"]
    assert validate_inputs([path], "candidates") == 2
    index = tmp_path / "index"
    result = CliRunner().invoke(
        main,
        ["index", "build", "--input", str(path), "--index", str(index),
         "--model", str(tiny_model_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    loaded = load_index(index)
    assert loaded.metadata["candidate_id"].to_list() == ["c1", "c2"]
    assert loaded.metadata["text"].to_list() == table["text"].to_list()


def test_a_folder_where_a_file_is_expected(tmp_path: Path) -> None:
    folder = tmp_path / "jobs.jsonl"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder, expected a file"):
        io.read_table(folder, "jobs")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(
        main, ["index", "build", "--input", str(empty), "--index", str(tmp_path / "index")]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {empty}: folder holds no .parquet, .csv or .jsonl file"


def test_build_reports_a_rate_only_over_enough_rows(tmp_path: Path, tiny_model_dir: Path) -> None:
    """One candidate took start-up time and printed `(0 docs/s)`: no rate is better."""
    rows = [{"candidate_id": f"c{i}", "text": f"python engineer {i}"} for i in range(20)]
    source = tmp_path / "c.parquet"
    io.write_table(pl.DataFrame(rows), source)
    runner = CliRunner()
    args = ["index", "build", "--input", str(source), "--model", str(tiny_model_dir)]
    one = runner.invoke(main, [*args, "--index", str(tmp_path / "a"), "--batch-size", "64"])
    assert one.exit_code == 0, one.output
    assert "indexed 20 candidates" in one.stderr and "docs/s" not in one.stderr
    many = runner.invoke(main, [*args, "--index", str(tmp_path / "b"), "--batch-size", "4"])
    assert many.exit_code == 0, many.output
    rate = float(many.stderr.split(" docs/s")[0].rsplit("(", 1)[1].replace(",", ""))
    assert rate > 0
