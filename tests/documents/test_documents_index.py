"""A folder of resume files indexes with one command, answers queries, and syncs with add."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner

from jobmatch.cli import main
from jobmatch.documents import SOURCE_PATH
from jobmatch.index import load_index, read_manifest

if TYPE_CHECKING:
    from conftest import Maker


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def resumes(make: Maker) -> Path:
    make.pdf(
        "cvs/2024/jane.pdf",
        [["Search engineer in Berlin", "BM25 and dense retrieval"], ["Python, FAISS"]],
        header="Jane Doe - Curriculum Vitae",
        footer_page_numbers=True,
    )
    make.docx("cvs/omar.docx", ["Data engineer in Paris"], [["Spark", "5 years"]])
    make.text("cvs/kim.md", "# Kim\nAndroid developer in London")
    return make.root / "cvs"


def test_index_build_from_a_folder_of_documents_answers_queries(
    make: Maker, tmp_path: Path, tiny_model_dir: Path
) -> None:
    folder = resumes(make)
    index_dir = tmp_path / "index"
    built = run(
        "index", "build", "--input", str(folder), "--index", str(index_dir),
        "--model", str(tiny_model_dir), "--factory", "Flat",
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert "extracted 3 documents" in built.stderr
    loaded = load_index(index_dir)
    ids = sorted(loaded.metadata["candidate_id"].to_list())
    assert ids == ["2024/jane", "kim", "omar"]
    jane = loaded.metadata.filter(loaded.metadata["candidate_id"] == "2024/jane")
    assert jane[SOURCE_PATH][0].endswith("cvs/2024/jane.pdf")
    assert "Curriculum Vitae" not in jane["text"][0]  # the running header is dropped
    assert "Python, FAISS" in jane["text"][0]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"job_id": "j1", "text": "search engineer Berlin"}\n')
    out = tmp_path / "hits.jsonl"
    query = run(
        "query", "--index", str(index_dir), "--jobs", str(jobs), "-k", "3", "--format", "jsonl",
        "--model", str(tiny_model_dir), "--out", str(out),
    )  # fmt: skip
    assert query.exit_code == 0, query.output
    hits = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(hit["candidate_id"] for hit in hits) == ids


def test_an_unreadable_document_fails_the_build_before_encoding(
    make: Maker, tmp_path: Path, tiny_model_dir: Path
) -> None:
    folder = resumes(make)
    broken = make.truncated_pdf("cvs/broken.pdf")
    index_dir = tmp_path / "index"
    result = run(
        "index", "build", "--input", str(folder), "--index", str(index_dir),
        "--model", str(tiny_model_dir),
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {broken}: truncated")
    assert not index_dir.exists()
    skipped = run(
        "index", "build", "--input", str(folder), "--index", str(index_dir),
        "--model", str(tiny_model_dir), "--on-unreadable", "skip",
    )  # fmt: skip
    assert skipped.exit_code == 0, skipped.output
    assert read_manifest(index_dir).rows == 3
    listed = [json.loads(line) for line in (tmp_path / "skipped.jsonl").read_text().splitlines()]
    assert [entry["path"] for entry in listed] == [str(broken)]


def test_index_add_prune_syncs_a_changed_folder(
    make: Maker, tmp_path: Path, tiny_model_dir: Path
) -> None:
    folder = resumes(make)
    index_dir = tmp_path / "index"
    args = ("--index", str(index_dir), "--model", str(tiny_model_dir))
    assert run("index", "build", "--input", str(folder), *args).exit_code == 0
    make.text("cvs/kim.md", "# Kim\nAndroid and Kotlin developer in London")  # changed
    (folder / "omar.docx").unlink()  # deleted
    make.text("cvs/lee.txt", "Security engineer in Seoul")  # new
    synced = run("index", "add", "--input", str(folder), "--prune", *args)
    assert synced.exit_code == 0, synced.output
    assert "added 1, updated 1, removed 1, unchanged 1" in synced.stderr
    metadata = load_index(index_dir).metadata
    assert sorted(metadata["candidate_id"].to_list()) == ["2024/jane", "kim", "lee"]
    kim = metadata.filter(metadata["candidate_id"] == "kim")["text"][0]
    assert "Kotlin" in kim


def test_a_folder_of_tables_and_documents_is_refused(make: Maker, tmp_path: Path) -> None:
    folder = resumes(make)
    (folder / "more.pq").write_bytes(b"PAR1")  # any table extension counts
    result = run("index", "build", "--input", str(folder), "--index", str(tmp_path / "index"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {folder}: folder holds both tables and documents; pass them as separate "
        f"globs (e.g. 'DIR/**/*.parquet' and 'DIR/**/*.pdf')\n"
    )
    assert not (tmp_path / "index").exists()
