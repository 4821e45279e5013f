"""Documents in: PDF, DOCX, HTML, .txt and .md files -> candidate or job rows.

`read_documents` expands files, folders and globs, extracts and cleans each file's text
(in parallel processes) and returns a table of id, text and metadata (`columns`). A file
that cannot be read raises `UnreadableDocument` naming it, or, with `on_unreadable="skip"`,
is listed in the result's `skipped`.

This module stays light: worker processes import it on their way to `extract`, so the
reader (polars, pyarrow) loads only when `read_documents` or `DocumentTable` is first
used, and pypdf, python-docx and BeautifulSoup only inside the extractor that needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobmatch.documents.columns import BYTES, CONTENT_SHA256, FORMAT, PAGES, SOURCE_PATH
from jobmatch.documents.errors import UnreadableDocument
from jobmatch.documents.sniff import EXTENSIONS

if TYPE_CHECKING:
    from jobmatch.documents.reader import DocumentTable, read_documents

_LAZY = ("DocumentTable", "read_documents")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from jobmatch.documents import reader

        return getattr(reader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BYTES",
    "CONTENT_SHA256",
    "EXTENSIONS",
    "FORMAT",
    "PAGES",
    "SOURCE_PATH",
    "DocumentTable",
    "UnreadableDocument",
    "read_documents",
]
