"""One file in, cleaned text and metadata out: sniff, extract by format, clean.

This is the function worker processes run, so it takes a path and returns a small
picklable value; failures come back as a reason string rather than a raised exception, so
no exception has to survive pickling between processes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from jobmatch.documents import clean
from jobmatch.documents.errors import UnreadableDocument
from jobmatch.documents.sniff import Format, sniff

NO_TEXT = "no text (image-only or empty)"


@dataclass(frozen=True)
class Extracted:
    """A readable document: its cleaned text and what the metadata columns record."""

    text: str
    format: Format
    pages: int | None
    size: int
    sha256: str


def extract_file(path: str | Path, encoding: str = "utf-8") -> Extracted:
    """Read, sniff, extract and clean one document (`encoding`: of .txt and .md files).

    Raises:
        UnreadableDocument: unsupported, mislabelled, encrypted, corrupt, or no text left.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"cannot read the file ({exc.strerror})", path=name) from exc
    fmt = sniff(name, data, encoding)
    pages: int | None = None
    if fmt == "pdf":
        from jobmatch.documents.pdf import extract_pdf

        page_texts, pages = extract_pdf(data, name)
        text = clean.clean_pages(page_texts)
    elif fmt == "docx":
        from jobmatch.documents.word import extract_docx

        text = clean.clean_text(extract_docx(data, name))
    elif fmt == "html":
        from jobmatch.documents.markup import extract_html

        text = clean.clean_text(extract_html(data, name))
    else:
        from jobmatch.documents.plain import extract_plain

        text = clean.clean_text(extract_plain(data, name, encoding))
    if not text:
        raise UnreadableDocument(NO_TEXT, path=name)
    return Extracted(text, fmt, pages, len(data), hashlib.sha256(data).hexdigest())


def try_extract(path: str, encoding: str = "utf-8") -> tuple[str, Extracted | None, str | None]:
    """(path, result, None) or (path, None, reason): the worker-process entry point.

    Any unexpected exception is reported as the file's reason too: one odd file must not
    take down a batch with a traceback.
    """
    try:
        return path, extract_file(path, encoding), None
    except UnreadableDocument as exc:
        return path, None, exc.reason
    except Exception as exc:
        return path, None, f"cannot extract text ({type(exc).__name__}: {exc})"
