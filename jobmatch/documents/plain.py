"""Text of a .txt or .md file: UTF-8, with or without a byte-order mark.

Guessing a legacy encoding would silently turn "é" into "Ã©" in an index; asking for
UTF-8 names the file to fix instead.
"""

from __future__ import annotations

from jobmatch.documents.errors import UnreadableDocument


def extract_plain(data: bytes, path: str) -> str:
    """The decoded text.

    Raises:
        UnreadableDocument: naming the first byte that is not UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(
            f"not UTF-8 text (undecodable byte at offset {exc.start}; re-save it as UTF-8)",
            path=path,
        ) from exc
