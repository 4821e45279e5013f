"""Text of a .txt or .md file: UTF-8 (with or without a byte-order mark) unless the caller
names another encoding (`--encoding cp949`).

Guessing a legacy encoding would silently turn "é" into "Ã©" in an index; an undecodable
file is named instead, with the way out.
"""

from __future__ import annotations

from jobmatch.documents.errors import UnreadableDocument
from jobmatch.documents.sniff import not_text, text_codec


def extract_plain(data: bytes, path: str, encoding: str = "utf-8") -> str:
    """The decoded text.

    Raises:
        UnreadableDocument: naming the first byte `encoding` cannot decode.
    """
    try:
        return data.decode(text_codec(encoding))
    except UnicodeDecodeError as exc:
        reason = not_text(encoding, f"undecodable byte at offset {exc.start}; ")
        raise UnreadableDocument(reason, path=path) from exc
