"""The one error of this package: a document file that yields no usable text."""

from __future__ import annotations

from jobmatch.errors import InputError


class UnreadableDocument(InputError):
    """A file that is unsupported, mislabelled, encrypted, corrupt or has no text.

    `path` names the file and `reason` says why, so the CLI prints `error: <path>: <reason>`
    and skip mode can list (path, reason) without parsing the message.
    """

    def __init__(self, reason: str, *, path: str) -> None:
        super().__init__(reason, path=path)
