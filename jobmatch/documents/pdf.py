"""Text of a PDF, page by page, with pypdf.

Resume folders hold PDFs from every tool there is, some broken, some locked; any failure
inside pypdf becomes an UnreadableDocument with a reason, never a traceback, so one bad
file cannot abort (or, in skip mode, hide behind) a batch of thousands.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator

from jobmatch.documents.errors import UnreadableDocument

# A complete PDF ends with %%EOF (perhaps followed by a newline or a little junk); a file cut
# short in a download or copy has lost it, even when pypdf could still parse a few pages.
_EOF_WINDOW = 2048


def extract_pdf(data: bytes, path: str) -> tuple[list[str], int]:
    """(raw text of each page, page count).

    Raises:
        UnreadableDocument: truncated or corrupt, or encrypted with a non-empty password.
    """
    from pypdf import PdfReader

    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        raise UnreadableDocument("truncated or corrupt PDF (no %%EOF marker at the end)", path=path)
    with _quiet_pypdf():
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not _opens_without_password(reader):
                raise UnreadableDocument("encrypted PDF (needs a password)", path=path)
            count = len(reader.pages)
        except UnreadableDocument:
            raise
        except Exception as exc:  # PdfReadError, PdfStreamError, but also KeyError, ValueError...
            raise UnreadableDocument(f"corrupt PDF ({_describe(exc)})", path=path) from exc
        pages = []
        for number in range(count):
            try:
                pages.append(reader.pages[number].extract_text() or "")
            except Exception as exc:
                raise UnreadableDocument(
                    f"corrupt PDF (page {number + 1}: {_describe(exc)})", path=path
                ) from exc
    return pages, count


def _opens_without_password(reader) -> bool:
    """Many PDFs are encrypted only to set permissions: the user password is empty."""
    from pypdf import PasswordType

    try:
        return reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except Exception:  # an algorithm the installed crypto provider lacks, or broken keys
        return False


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs and warns about every repair it makes; the outcome is what we report."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _describe(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
