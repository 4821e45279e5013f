"""Real document files for the document tests, generated in tmp_path: PDFs with fpdf2
(and pypdf for encryption), DOCX with python-docx, HTML and text written directly."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import pytest

UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    """A colour-gradient RGB PNG written by hand (zlib + struct), so no imaging library."""
    raw = b"".join(
        b"\x00" + b"".join(bytes((x * 4 % 256, y * 4 % 256, 128)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class Maker:
    """Writes document files under one folder; every method returns the path written."""

    unicode_font = UNICODE_FONT

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def pdf_bytes(
        self,
        pages: Sequence[Sequence[str]],
        *,
        header: str | None = None,
        footer_page_numbers: bool = False,
    ) -> bytes:
        """One page per entry, one text line per string; optional running header and a
        "Page n of N" footer."""
        from fpdf import FPDF

        class Document(FPDF):
            def header(self) -> None:
                if header:
                    self.set_font("Helvetica", size=9)
                    self.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")

            def footer(self) -> None:
                if footer_page_numbers:
                    self.set_y(-15)
                    self.set_font("Helvetica", size=9)
                    self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

        pdf = Document()
        pdf.alias_nb_pages()
        for lines in pages:
            pdf.add_page()
            pdf.set_font("Helvetica", size=11)
            for line in lines:
                pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())

    def pdf(self, name: str, pages: Sequence[Sequence[str]], **options) -> Path:
        path = self._path(name)
        path.write_bytes(self.pdf_bytes(pages, **options))
        return path

    def two_column_pdf(self, name: str, left: str, right: str) -> Path:
        from fpdf import FPDF

        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.set_xy(10, 20)
        pdf.multi_cell(85, 6, left)
        pdf.set_xy(110, 20)
        pdf.multi_cell(85, 6, right)
        path = self._path(name)
        path.write_bytes(bytes(pdf.output()))
        return path

    def unicode_pdf(self, name: str, line: str) -> Path:
        from fpdf import FPDF

        pdf = FPDF()
        pdf.add_page()
        pdf.add_font("DejaVu", fname=str(UNICODE_FONT))
        pdf.set_font("DejaVu", size=12)
        pdf.cell(0, 8, line)
        path = self._path(name)
        path.write_bytes(bytes(pdf.output()))
        return path

    def image_only_pdf(self, name: str) -> Path:
        from fpdf import FPDF

        pdf = FPDF()
        pdf.add_page()
        pdf.image(io.BytesIO(png_bytes()), x=20, y=20, w=120)
        path = self._path(name)
        path.write_bytes(bytes(pdf.output()))
        return path

    def encrypted_pdf(self, name: str, *, user_password: str) -> Path:
        from pypdf import PdfReader, PdfWriter

        plain = self.pdf_bytes([["Confidential resume of a data scientist"]])
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
        buffer = io.BytesIO()
        writer.write(buffer)
        path = self._path(name)
        path.write_bytes(buffer.getvalue())
        return path

    def truncated_pdf(self, name: str) -> Path:
        whole = self.pdf_bytes([[f"Line {i} of a long resume" for i in range(30)]] * 3)
        path = self._path(name)
        path.write_bytes(whole[: len(whole) // 2])
        return path

    def docx(self, name: str, paragraphs: Sequence[str], table: Sequence[Sequence[str]]) -> Path:
        """Paragraphs, then a table, then one closing paragraph."""
        import docx

        document = docx.Document()
        for text in paragraphs:
            document.add_paragraph(text)
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
        document.add_paragraph("References available on request")
        path = self._path(name)
        document.save(str(path))
        return path

    def text(self, name: str, content: str, encoding: str = "utf-8") -> Path:
        path = self._path(name)
        path.write_bytes(content.encode(encoding))
        return path


@pytest.fixture
def make(tmp_path: Path) -> Maker:
    return Maker(tmp_path / "docs")
