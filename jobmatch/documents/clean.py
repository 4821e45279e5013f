"""Clean extracted text the way a retriever needs it; pure functions, no I/O.

PDF text comes with ligature glyphs ("ﬁ"), words broken at line ends, the same header and
footer on every page and page numbers: each adds tokens that match nothing a recruiter
types, and repeated boilerplate makes unrelated resumes look alike. Line breaks are kept
as exactly one "\\n" (wrapped lines and paragraph breaks alike; blank lines are dropped):
the encoder reads a newline as a space, while passages and explanations keep the lines.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

# Lines within this many of a page's top or bottom may be running headers/footers.
EDGE_LINES = 3
# Headings a resume is organised by: never dropped as boilerplate, even on every page.
SECTION_WORDS = frozenset(
    {
        "experience",
        "work experience",
        "professional experience",
        "education",
        "skills",
        "technical skills",
        "projects",
        "publications",
        "summary",
        "profile",
        "languages",
        "certifications",
        "references",
    }
)

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))  # soft hyphen, zero widths
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # keeps \t \n \f \r
_SPACES = re.compile(r"[^\S\n]+")
_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(
    r"""^(?:
        \d{1,3}                                  # 3
      | [-–—]\s*\d{1,3}\s*[-–—]                  # - 3 -
      | \[\s*\d{1,3}\s*\]                        # [3]
      | \d{1,3}\s*(?:/|of)\s*\d{1,3}             # 3/5, 3 of 5
      | (?:page|p\.|pg\.?)\s*\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?   # Page 3, Page 3 of 5
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# a letter, a hyphen at the end of a line, then a lowercase letter: one word broken in two
_BROKEN_WORD = re.compile(r"([^\W\d_])[-\u2010]\n([^\W\d_])")


def normalize_unicode(text: str) -> str:
    """NFKC (folds ligatures, full-width letters, non-breaking spaces), one kind of newline,
    no soft hyphens, zero-width characters or control characters (form feeds are kept as
    page breaks)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00ad\n", "")  # a soft hyphen at a line end joins the word
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _CONTROL.sub(" ", text)


def split_lines(text: str) -> list[str]:
    """Non-empty lines with runs of spaces and tabs collapsed to one space."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return [line for line in lines if line]


def is_page_number(line: str) -> bool:
    """A line that is only a page number: "3", "- 3 -", "3/5", "Page 3 of 5"."""
    return bool(_PAGE_NUMBER.match(line.strip()))


def line_key(line: str) -> str:
    """What a running header/footer keeps from page to page: digits (page numbers, dates)
    may change, case and spacing do not count."""
    return _SPACES.sub(" ", _DIGITS.sub("#", line.casefold())).strip()


def running_lines(pages: Sequence[Sequence[str]]) -> set[str]:
    """Keys of lines near the top or bottom of more than half of the pages (at least 2).

    Only edge lines count, so a skill listed on every page is kept; section headings are
    never running lines.
    """
    with_text = [lines for lines in pages if lines]
    if len(with_text) < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in with_text:
        counts.update({line_key(line) for line in _edges(lines)})
    needed = max(2, math.floor(len(with_text) / 2) + 1)
    return {key for key, n in counts.items() if n >= needed and key not in SECTION_WORDS}


def drop_page_furniture(lines: Sequence[str], running: set[str]) -> list[str]:
    """A page's lines without the running headers/footers and page numbers at its edges.

    Peels from the top and from the bottom while the edge line is furniture (at most
    EDGE_LINES deep each way), so a bare "3" or "2019" in the middle of a page survives.
    """

    def furniture(line: str) -> bool:
        return is_page_number(line) or line_key(line) in running

    kept = list(lines)
    for _ in range(min(EDGE_LINES, len(kept))):
        if not kept or not furniture(kept[0]):
            break
        kept.pop(0)
    for _ in range(min(EDGE_LINES, len(kept))):
        if not kept or not furniture(kept[-1]):
            break
        kept.pop()
    return kept


def dehyphenate(text: str) -> str:
    """Join a word broken across a line end ("engi-\\nneering" -> "engineering").

    Only when a letter precedes the hyphen and a lowercase letter follows the break: a
    hyphen inside a line ("full-stack") and a dash before a capital or digit stay.
    """

    def join(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        return left + right if right.islower() else match.group(0)

    return _BROKEN_WORD.sub(join, text)


def clean_pages(pages: Sequence[str]) -> str:
    """The cleaned text of a document given as its pages' raw text ("" if nothing is left)."""
    page_lines = [split_lines(normalize_unicode(page)) for page in pages]
    running = running_lines(page_lines)
    kept = [line for lines in page_lines for line in drop_page_furniture(lines, running)]
    return dehyphenate("\n".join(kept)).strip()


def clean_text(text: str) -> str:
    """Clean a text that is not paged by its format; form feeds (as pdftotext writes them)
    still mark pages."""
    return clean_pages(text.split("\f"))


def _edges(lines: Sequence[str]) -> list[str]:
    if len(lines) <= 2 * EDGE_LINES:
        return list(lines)
    return [*lines[:EDGE_LINES], *lines[-EDGE_LINES:]]
