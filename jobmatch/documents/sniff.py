"""Decide a document's real format from its first bytes, and check it against its extension.

Files are often renamed or saved by the wrong program ("resume.pdf" that is a web page);
trusting the extension would hand an HTML file to the PDF parser and report a confusing
parse error, so the content decides and a mismatch is named as such.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Literal

from jobmatch.documents.errors import UnreadableDocument

Family = Literal["pdf", "docx", "html", "text"]
Format = Literal["pdf", "docx", "html", "txt", "md"]

# extension -> the format it promises
EXTENSIONS: dict[str, Format] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
}
FAMILY: dict[Format, Family] = {
    "pdf": "pdf",
    "docx": "docx",
    "html": "html",
    "txt": "text",
    "md": "text",
}
_DESCRIPTION: dict[str, str] = {
    "pdf": "PDF",
    "docx": "DOCX",
    "html": "HTML",
    "text": "plain text",
    "zip": "a ZIP archive without word/document.xml (not DOCX)",
    "badzip": "a damaged ZIP archive (truncated or corrupt)",
    "ole": "a legacy Office file (.doc/.xls: OLE2), not DOCX",
    "binary": "binary data (not UTF-8 text)",
}
_HEAD = 1024  # the PDF header may sit anywhere in the first 1024 bytes (PDF 1.7, 7.5.2)


def expected_format(path: str | Path) -> Format:
    """The format the extension promises; an unsupported extension is an error."""
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        known = ", ".join(sorted(EXTENSIONS))
        raise UnreadableDocument(
            f"unsupported file type {suffix or '(no extension)'}; use one of {known}",
            path=str(path),
        )
    return EXTENSIONS[suffix]


def content_kind(data: bytes, encoding: str = "utf-8") -> str:
    """What the bytes are: pdf, docx, html, text (in `encoding`), or zip/badzip/ole/binary
    (never readable)."""
    head = data[:_HEAD]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    markup = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").lower()
    if markup.startswith(("<!doctype html", "<html")):
        return "html"
    if b"\x00" in head:
        return "binary"
    try:
        data.decode(text_codec(encoding))
    except UnicodeDecodeError:
        return "binary"
    return "text"


def text_codec(encoding: str) -> str:
    """UTF-8 drops a byte-order mark; other codecs are taken as given."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def sniff(path: str | Path, data: bytes, encoding: str = "utf-8") -> Format:
    """The document's format: the extension's, if the content agrees.

    An .html file needs no <html> tag (fragments are common) but must not be PDF, DOCX or
    binary; every other extension must match what the content is.
    """
    promised = expected_format(path)
    family = FAMILY[promised]
    kind = content_kind(data, encoding)
    if kind == family or (family == "html" and kind == "text"):
        return promised
    if family == "text" and kind == "binary" and b"\x00" not in data[:_HEAD]:
        # a text file that is not in the encoding: say so, rather than "mismatch"
        raise UnreadableDocument(not_text(encoding), path=str(path))
    raise UnreadableDocument(
        f"content is {_DESCRIPTION[kind]} but the extension {Path(path).suffix} says "
        f"{_DESCRIPTION[family]}",
        path=str(path),
    )


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "docx" if "word/document.xml" in archive.namelist() else "zip"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "badzip"


def not_text(encoding: str, detail: str = "") -> str:
    """The reason for a text file its encoding cannot decode, with the way out."""
    if text_codec(encoding) == "utf-8-sig":
        return f"not UTF-8 text ({detail}pass --encoding, e.g. --encoding cp949, or re-save it)"
    return f"not {encoding} text ({detail}check --encoding, or re-save it as UTF-8)"
