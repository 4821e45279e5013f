"""`jobmatch import documents` end to end with click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner

from jobmatch import io, schema
from jobmatch.cli import main
from jobmatch.documents import SOURCE_PATH

if TYPE_CHECKING:
    from conftest import Maker


def run(*args: str):
    return CliRunner().invoke(main, ["import", "documents", *args], catch_exceptions=False)


def test_import_writes_a_readable_candidates_table(make: Maker, tmp_path: Path) -> None:
    make.pdf("cvs/jane.pdf", [["Search engineer in Berlin"], ["Python"]])
    make.docx("cvs/omar.docx", ["Data engineer"], [["Spark", "5"]])
    make.text("cvs/kim.md", "Android developer")
    out = tmp_path / "out" / "candidates.parquet"
    result = run("--input", str(make.root / "cvs"), "--out", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    table = io.read_table(out, "candidates")
    assert table[schema.CANDIDATE_ID].to_list() == ["jane", "kim", "omar"]
    assert table[schema.TEXT][0] == "Search engineer in Berlin\nPython"
    assert table[SOURCE_PATH][1].endswith("cvs/kim.md")
    assert "wrote 3 candidates from 3 files" in result.stderr and "files/s" in result.stderr
    assert not (out.parent / "skipped.jsonl").exists()


def test_an_unreadable_file_exits_2_with_one_line_and_writes_nothing(
    make: Maker, tmp_path: Path
) -> None:
    make.text("cvs/good.txt", "fine")
    locked = make.encrypted_pdf("cvs/locked.pdf", user_password="pw")
    out = tmp_path / "out" / "candidates.parquet"
    result = run("--input", str(make.root / "cvs"), "--out", str(out), "--workers", "1")
    assert result.exit_code == 2
    assert result.stderr == f"error: {locked}: encrypted PDF (needs a password)\n"
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_skip_mode_writes_skipped_jsonl(make: Maker, tmp_path: Path) -> None:
    make.text("cvs/good.txt", "fine")
    scan = make.image_only_pdf("cvs/scan.pdf")
    fake = make.text("cvs/fake.pdf", "<html><body>web page</body></html>")
    out = tmp_path / "jobs.jsonl"
    result = run(
        "--input", str(make.root / "cvs"), "--out", str(out), "--kind", "jobs",
        "--on-unreadable", "skip", "--id-from", "stem", "--workers", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert io.read_table(out, "jobs")[schema.JOB_ID].to_list() == ["good"]
    lines = (tmp_path / "skipped.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"path": str(fake), "reason": "content is HTML but the extension .pdf says PDF"},
        {"path": str(scan), "reason": "no text (image-only or empty)"},
    ]
    assert "skipped 2 unreadable files" in result.stderr


def test_nothing_matching_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "c.parquet"
    result = run("--input", str(tmp_path / "*.pdf"), "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no documents match ")
    assert not out.exists()


def test_duplicate_stems_exit_2(make: Maker, tmp_path: Path) -> None:
    make.text("a/cv.txt", "one")
    make.text("b/cv.txt", "two")
    result = run("--input", str(make.root), "--out", str(tmp_path / "c.parquet"), "--id-from",
                 "stem", "--workers", "1")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "id 'cv' also comes from" in result.stderr


def test_help_has_an_example() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "jobmatch import documents --input resumes/ --out" in result.output
