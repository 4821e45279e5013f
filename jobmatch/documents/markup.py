"""Visible text of an HTML page with BeautifulSoup and the standard library's parser.

Scripts, styles and navigation menus are words no resume reader sees, and a saved job
posting carries a lot of them. "html.parser" needs no compiled dependency.
"""

from __future__ import annotations

import warnings

from jobmatch.documents.errors import UnreadableDocument

HIDDEN_TAGS = ("script", "style", "nav", "noscript", "template")


def extract_html(data: bytes, path: str) -> str:
    """Raw visible text, one line per text node (BeautifulSoup detects the encoding from a
    byte-order mark or <meta charset>, else guesses).

    Raises:
        UnreadableDocument: the parser gave up.
    """
    from bs4 import BeautifulSoup

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "looks like a URL/XML" chatter
            soup = BeautifulSoup(data, "html.parser")
            for tag in soup(HIDDEN_TAGS):
                tag.decompose()
            return soup.get_text("\n")
    except Exception as exc:
        raise UnreadableDocument(
            f"unparsable HTML ({type(exc).__name__}: {exc})", path=path
        ) from exc
