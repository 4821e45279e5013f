"""Text of a DOCX file with python-docx: body paragraphs and table cells, in document order.

Resumes put skills and dates in tables; reading only `document.paragraphs` would lose
them, so the body is walked block by block. Headers, footers and text boxes are not read
(headers and footers are the running boilerplate the cleaner drops from PDFs anyway).
"""

from __future__ import annotations

import io
import warnings

from jobmatch.documents.errors import UnreadableDocument

CELL_SEPARATOR = " | "


def extract_docx(data: bytes, path: str) -> str:
    """Raw text: one line per paragraph, one line per table row (cells joined by " | ").

    Raises:
        UnreadableDocument: the archive or its XML is damaged.
    """
    import docx

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            document = docx.Document(io.BytesIO(data))
            return "\n".join(_blocks(document))
    except Exception as exc:  # zipfile, lxml and python-docx errors alike
        raise UnreadableDocument(
            f"corrupt DOCX ({type(exc).__name__}: {str(exc).strip()[:200]})", path=path
        ) from exc


def _blocks(container) -> list[str]:
    """Lines of a document or table cell: paragraphs as they are, tables row by row (a cell
    spanning several columns is read once; nested tables follow their cell's text)."""
    from docx.table import Table

    lines: list[str] = []
    for block in container.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    text = " ".join(line for line in _blocks(cell) if line.strip())
                    if text.strip():
                        cells.append(text.strip())
                if cells:
                    lines.append(CELL_SEPARATOR.join(cells))
        else:
            lines.append(block.text)
    return lines
