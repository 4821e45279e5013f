"""Metadata columns of a table read from document files.

They are not contract columns (schema.py keeps those): the validators keep unknown columns
as metadata, so an index built from these rows carries where each text came from.
"""

from __future__ import annotations

SOURCE_PATH = "source_path"  # the file as it was found (POSIX separators)
FORMAT = "format"  # pdf, docx, html, txt or md: what the content is, not just the extension
PAGES = "pages"  # Int32 page count of a PDF; null for formats without pages
BYTES = "bytes"  # Int64 file size
CONTENT_SHA256 = "content_sha256"  # hex SHA-256 of the file's bytes: a changed file is re-read

METADATA_COLUMNS = (SOURCE_PATH, FORMAT, PAGES, BYTES, CONTENT_SHA256)
