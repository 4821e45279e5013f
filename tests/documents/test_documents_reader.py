"""Reading folders, files and globs of documents into one table."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from jobmatch import io, schema
from jobmatch.documents import (
    BYTES,
    CONTENT_SHA256,
    FORMAT,
    PAGES,
    SOURCE_PATH,
    UnreadableDocument,
    read_documents,
)
from jobmatch.documents.discover import glob_root
from jobmatch.errors import DuplicateError, InputError

if TYPE_CHECKING:
    from conftest import Maker


@pytest.fixture
def folder(make: Maker) -> Path:
    """Mixed formats in nested folders, plus files a folder walk must not read."""
    make.pdf("2024/jane.pdf", [["Search engineer", "Berlin"], ["Python and Rust"]])
    make.docx("2024/omar.docx", ["Data engineer"], [["Spark", "5"]])
    make.text("2023/lea.html", "<html><body><p>Recruiter in Paris</p></body></html>")
    make.text("2023/kim.txt", "Android developer in Seoul")
    make.text("ana.md", "# Ana\nML researcher")
    make.text("photo.png", "not read: other type")
    make.text(".hidden/secret.txt", "not read: hidden folder")
    make.text("2024/~$omar.docx", "not read: Word lock file")
    return make.root


def test_folder_gives_sorted_path_ids_and_metadata(folder: Path) -> None:
    table = read_documents(folder, workers=1)
    frame = table.frame
    assert frame.columns == [
        schema.CANDIDATE_ID, schema.TEXT, SOURCE_PATH, FORMAT, PAGES, BYTES, CONTENT_SHA256,
    ]  # fmt: skip
    assert frame[schema.CANDIDATE_ID].to_list() == [
        "2023/kim", "2023/lea", "2024/jane", "2024/omar", "ana",
    ]  # fmt: skip
    assert frame[FORMAT].to_list() == ["txt", "html", "pdf", "docx", "md"]
    assert frame[PAGES].to_list() == [None, None, 2, None, None]
    assert frame.schema[PAGES] == pl.Int32 and frame.schema[BYTES] == pl.Int64
    jane = frame.row(2, named=True)
    source = folder / "2024/jane.pdf"
    assert jane[SOURCE_PATH] == source.as_posix()
    assert jane[BYTES] == source.stat().st_size
    assert jane[CONTENT_SHA256] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert jane[schema.TEXT] == "Search engineer\nBerlin\nPython and Rust"
    assert table.skipped == [] and table.ignored == 1  # photo.png
    assert "not read" not in " ".join(frame[schema.TEXT].to_list())


def test_stem_ids_and_jobs_kind(folder: Path) -> None:
    frame = read_documents(folder, kind="jobs", id_from="stem", workers=1).frame
    assert frame[schema.JOB_ID].to_list() == ["ana", "jane", "kim", "lea", "omar"]
    assert schema.CANDIDATE_ID not in frame.columns


def test_duplicate_stems_name_both_files(make: Maker) -> None:
    first = make.text("a/cv.txt", "one")
    second = make.text("b/cv.md", "two")
    assert read_documents(make.root, id_from="path", workers=1).frame.height == 2
    with pytest.raises(DuplicateError) as caught:
        read_documents(make.root, id_from="stem", workers=1)
    message = str(caught.value)
    assert first.as_posix() in message and second.as_posix() in message
    assert "id 'cv'" in message


def test_same_path_id_from_two_inputs_is_a_duplicate(make: Maker) -> None:
    make.text("x/jane.txt", "one")
    make.text("y/jane.txt", "two")
    with pytest.raises(DuplicateError, match="id 'jane' also comes from"):
        read_documents([make.root / "x", make.root / "y"], workers=1)


def test_glob_root_and_glob_ids(make: Maker) -> None:
    assert glob_root("resumes/**/*.pdf") == Path("resumes")
    assert glob_root("*.pdf") == Path(".")
    make.pdf("resumes/2024/a.pdf", [["Alpha"]])
    make.pdf("resumes/b.pdf", [["Beta"]])
    make.text("resumes/c.txt", "Gamma")
    frame = read_documents(str(make.root / "resumes/**/*.pdf"), workers=1).frame
    assert frame[schema.CANDIDATE_ID].to_list() == ["2024/a", "b"]


def test_named_files_and_a_file_reached_twice(make: Maker) -> None:
    one = make.text("in/one.txt", "first")
    make.text("in/two.md", "second")
    table = read_documents([one, make.root / "in", str(make.root / "in/*.txt")], workers=1)
    assert table.frame[schema.CANDIDATE_ID].to_list() == ["one", "two"]


def test_fail_mode_reports_the_first_unreadable_file_by_path(make: Maker) -> None:
    make.text("good.txt", "fine")
    make.text("z.pdf", "<html>not a pdf</html>")
    bad = make.image_only_pdf("b_scan.pdf")
    with pytest.raises(UnreadableDocument) as caught:
        read_documents(make.root, workers=1)
    assert caught.value.path == str(bad)
    assert caught.value.reason == "no text (image-only or empty)"


def test_skip_mode_lists_what_it_left_out(make: Maker) -> None:
    make.text("good.txt", "fine")
    fake = make.text("fake.pdf", "<!doctype html><p>x</p>")
    locked = make.encrypted_pdf("locked.pdf", user_password="pw")
    cut = make.truncated_pdf("cut.pdf")
    table = read_documents(make.root, on_unreadable="skip", workers=1)
    assert table.frame[schema.CANDIDATE_ID].to_list() == ["good"]
    assert table.skipped == sorted(
        [
            (str(fake), "content is HTML but the extension .pdf says PDF"),
            (str(locked), "encrypted PDF (needs a password)"),
            (str(cut), "truncated or corrupt PDF (no %%EOF marker at the end)"),
        ]
    )
    assert table.files == 4


def test_skip_mode_with_nothing_readable_is_an_error(make: Maker) -> None:
    make.image_only_pdf("scan.pdf")
    with pytest.raises(InputError, match="none of the 1 documents is readable"):
        read_documents(make.root, on_unreadable="skip", workers=1)


def test_nothing_matches(make: Maker, tmp_path: Path) -> None:
    make.text("notes.rtf", "x")
    with pytest.raises(InputError, match="no documents match"):
        read_documents(make.root, workers=1)
    with pytest.raises(InputError, match="no documents match"):
        read_documents(str(tmp_path / "nowhere/*.pdf"), workers=1)
    with pytest.raises(InputError, match="no such file or folder"):
        read_documents(tmp_path / "missing.pdf", workers=1)


def test_worker_processes_give_the_same_table(folder: Path, make: Maker) -> None:
    make.text("zz.pdf", "<html>not a pdf</html>")
    serial = read_documents(folder, on_unreadable="skip", workers=1)
    parallel = read_documents(folder, on_unreadable="skip", workers=2)
    assert parallel.frame.equals(serial.frame)
    assert parallel.skipped == serial.skipped and len(serial.skipped) == 1


def test_the_table_follows_the_candidates_contract(folder: Path, tmp_path: Path) -> None:
    frame = read_documents(folder, workers=1).frame
    out = tmp_path / "candidates.parquet"
    io.write_table(frame, out)
    back = io.read_table(out, "candidates")
    assert back[schema.CANDIDATE_ID].to_list() == frame[schema.CANDIDATE_ID].to_list()
    assert back[PAGES].to_list() == frame[PAGES].to_list()
