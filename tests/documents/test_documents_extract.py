"""Extraction of real files, one format or failure at a time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from jobmatch.documents import UnreadableDocument
from jobmatch.documents.extract import NO_TEXT, extract_file, try_extract
from jobmatch.errors import InputError

if TYPE_CHECKING:  # the fixture's class; conftest modules are not imported by name
    from conftest import Maker


def reason_of(path: Path) -> str:
    with pytest.raises(UnreadableDocument) as caught:
        extract_file(path)
    assert caught.value.path == str(path)
    assert isinstance(caught.value, InputError)
    assert str(caught.value) == f"{path}: {caught.value.reason}"
    return caught.value.reason


def test_multi_page_pdf_loses_headers_footers_and_page_numbers(make: Maker) -> None:
    path = make.pdf(
        "cv.pdf",
        [
            ["Experience", "Search engineer at Zalando", "Built ranking for fashion"],
            ["Led software engi-", "neering for a full-stack team", "Berlin 2019 - 2023"],
            ["Education", "MSc Informatics", "TU Munich"],
        ],
        header="Jane Doe - Curriculum Vitae",
        footer_page_numbers=True,
    )
    doc = extract_file(path)
    assert doc.format == "pdf" and doc.pages == 3
    assert "Curriculum Vitae" not in doc.text
    assert not re.search(r"Page \d", doc.text)
    assert "software engineering for a full-stack team" in doc.text
    assert doc.text.splitlines()[0] == "Experience"
    for word in ("Education", "Zalando", "TU Munich", "Berlin 2019 - 2023"):
        assert word in doc.text
    assert doc.size == path.stat().st_size and len(doc.sha256) == 64


def test_two_column_page_keeps_both_columns(make: Maker) -> None:
    path = make.two_column_pdf(
        "columns.pdf",
        left="Skills: kubernetes terraform postgres and a long line that wraps",
        right="Interests: pytorch transformers retrieval over several lines of text",
    )
    text = extract_file(path).text
    for word in ("kubernetes", "terraform", "postgres", "pytorch", "transformers", "retrieval"):
        assert word in text


def test_ligatures_in_a_pdf_are_folded(make: Maker) -> None:
    if not make.unicode_font.exists():
        pytest.skip(f"needs a Unicode TrueType font at {make.unicode_font}")
    path = make.unicode_pdf("lig.pdf", "Certiﬁed ﬂight ofﬁcer")
    assert extract_file(path).text == "Certified flight officer"


def test_image_only_pdf_has_no_text(make: Maker) -> None:
    path = make.image_only_pdf("scan.pdf")
    assert b"/Image" in path.read_bytes()  # the fixture really holds an image
    assert reason_of(path) == NO_TEXT == "no text (image-only or empty)"


def test_encrypted_pdf_needs_a_password(make: Maker) -> None:
    assert reason_of(make.encrypted_pdf("locked.pdf", user_password="s3cret")) == (
        "encrypted PDF (needs a password)"
    )


def test_encrypted_pdf_with_an_empty_user_password_opens(make: Maker) -> None:
    path = make.encrypted_pdf("permissions.pdf", user_password="")
    assert b"/Encrypt" in path.read_bytes()
    assert extract_file(path).text == "Confidential resume of a data scientist"


def test_truncated_pdf(make: Maker) -> None:
    assert reason_of(make.truncated_pdf("cut.pdf")).startswith("truncated or corrupt PDF")


def test_corrupt_pdf_with_an_eof_marker_is_an_error_not_a_traceback(make: Maker) -> None:
    path = make.text("junk.pdf", "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\n%%EOF\n")
    assert reason_of(path).startswith("corrupt PDF (")
    assert try_extract(str(path))[2].startswith("corrupt PDF (")


def test_pdf_that_is_really_html(make: Maker) -> None:
    path = make.text("resume.pdf", "<!DOCTYPE html><html><body>Jane</body></html>")
    assert reason_of(path) == "content is HTML but the extension .pdf says PDF"


def test_docx_that_is_really_pdf(make: Maker) -> None:
    path = make.pdf("x.docx", [["hello"]])
    assert reason_of(path) == "content is PDF but the extension .docx says DOCX"


def test_text_file_that_is_not_utf8(make: Maker) -> None:
    path = make.text("latin.txt", "Müller, Zürich", encoding="latin-1")
    assert reason_of(path) == (
        "not UTF-8 text (pass --encoding, e.g. --encoding cp949, or re-save it)"
    )


def test_text_file_in_a_named_legacy_encoding(tmp_path: Path) -> None:
    from jobmatch.documents import read_documents

    (tmp_path / "kim.txt").write_bytes("김민준, 서울 데이터 엔지니어".encode("cp949"))
    (tmp_path / "lee.md").write_bytes("# 이서연\n부산".encode("cp949"))
    table = read_documents(tmp_path, encoding="cp949", workers=2)
    assert table.frame["text"].to_list() == ["김민준, 서울 데이터 엔지니어", "# 이서연\n부산"]
    with pytest.raises(UnreadableDocument, match=r"not UTF-8 text \(pass --encoding"):
        read_documents(tmp_path, workers=1)


def test_unsupported_extension(make: Maker) -> None:
    path = make.text("cv.rtf", "{\\rtf1 hello}")
    assert reason_of(path).startswith("unsupported file type .rtf; use one of .docx, .htm")


def test_docx_paragraphs_and_table_cells_in_order(make: Maker) -> None:
    path = make.docx(
        "cv.docx",
        ["Jane Doe", "Experience", "Data engineer at Spotify"],
        [["Skill", "Years"], ["Python", "6"], ["Spark", "4"]],
    )
    doc = extract_file(path)
    assert doc.format == "docx" and doc.pages is None
    assert doc.text.splitlines() == [
        "Jane Doe",
        "Experience",
        "Data engineer at Spotify",
        "Skill | Years",
        "Python | 6",
        "Spark | 4",
        "References available on request",
    ]


def test_damaged_docx(make: Maker) -> None:
    whole = make.docx("a.docx", ["text"], [["x"]]).read_bytes()
    path = make.root / "cut.docx"
    path.write_bytes(whole[: len(whole) // 2])
    assert reason_of(path) == (
        "content is a damaged ZIP archive (truncated or corrupt) but the extension .docx says DOCX"
    )


def test_html_without_script_style_and_nav(make: Maker) -> None:
    path = make.text(
        "job.html",
        "<!doctype html><html><head><title>Job</title><style>p{color:red}</style>"
        "<script>var tracking = 'secret';</script></head><body><nav>Home | Jobs</nav>"
        "<h1>NLP Engineer</h1><p>Berlin, full-time. Build retrieval with <b>FAISS</b>.</p>"
        "</body></html>",
    )
    doc = extract_file(path)
    assert doc.format == "html"
    assert "NLP Engineer" in doc.text and "FAISS" in doc.text and "Berlin" in doc.text
    for hidden in ("tracking", "color", "Home | Jobs"):
        assert hidden not in doc.text


def test_html_fragment_without_html_tag_is_read(make: Maker) -> None:
    assert extract_file(make.text("frag.htm", "<div>Rust developer</div>")).text == (
        "Rust developer"
    )


def test_txt_with_bom_and_ligature(make: Maker) -> None:
    path = make.text("cv.txt", "\ufeffJane Doe\n\nCertiﬁed engi-\nneer, full-stack\n")
    doc = extract_file(path)
    assert doc.format == "txt" and doc.pages is None
    assert doc.text == "Jane Doe\nCertified engineer, full-stack"


def test_markdown_is_text(make: Maker) -> None:
    doc = extract_file(make.text("cv.md", "# Jane Doe\n\n## Skills\n\n- Python\n- SQL\n"))
    assert doc.format == "md"
    assert doc.text == "# Jane Doe\n## Skills\n- Python\n- SQL"


def test_empty_text_file(make: Maker) -> None:
    assert reason_of(make.text("empty.txt", "  \n\n")) == NO_TEXT


def test_txt_that_is_really_html(make: Maker) -> None:
    path = make.text("cv.txt", "<html><body>x</body></html>")
    assert reason_of(path) == "content is HTML but the extension .txt says plain text"
