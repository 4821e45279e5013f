"""Which files an input list means: files, folders (recursive) and globs, with their roots.

The root is what a path id is relative to, so `resumes/2024/jane.pdf` found under
`resumes/` gets the id `2024/jane` however the folder was named on the command line.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jobmatch.documents.sniff import EXTENSIONS
from jobmatch.errors import InputError

_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True)
class Found:
    """A file to read and the input root its path id is relative to."""

    path: Path
    root: Path

    def relative_id(self) -> str:
        """Path below the root without the extension, POSIX separators: "2024/jane"."""
        relative = Path(os.path.relpath(self.path, self.root))
        return relative.with_suffix("").as_posix()


@dataclass(frozen=True)
class Discovery:
    """The files found, and how many files folders and globs held in other formats."""

    files: list[Found]
    ignored: int


def discover(inputs: Sequence[str | Path]) -> Discovery:
    """Expand inputs in order; a file reached twice is read once (under its first root).

    A named file is always taken (an unsupported extension is reported when it is read);
    folders and globs take only supported extensions, and folders skip hidden files and
    Office lock files ("~$name.docx").

    Raises:
        InputError: a named file or folder does not exist.
    """
    found: list[Found] = []
    seen: set[Path] = set()
    ignored = 0

    def add(path: Path, root: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(Found(path, root))

    for item in map(str, inputs):
        if _MAGIC.search(item):
            root = glob_root(item)
            for match in sorted(glob.glob(item, recursive=True)):
                path = Path(match)
                if not path.is_file():
                    continue
                if path.suffix.lower() in EXTENSIONS:
                    add(path, root)
                else:
                    ignored += 1
        elif Path(item).is_dir():
            root = Path(item)
            for path in folder_files(root):
                if path.suffix.lower() in EXTENSIONS:
                    add(path, root)
                else:
                    ignored += 1
        elif Path(item).is_file():
            add(Path(item), Path(item).parent)
        else:
            raise InputError("no such file or folder", path=item)
    return Discovery(found, ignored)


def folder_files(root: Path) -> list[Path]:
    """Every file below `root` that a folder input means, sorted: hidden files and Office lock
    files ("~$name.docx") are left out, as are files in hidden folders."""
    return sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p.relative_to(root)))


def glob_root(pattern: str) -> Path:
    """The folder part of a glob before its first wildcard: `resumes/**/*.pdf` -> resumes."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if _MAGIC.search(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "~$")) for part in relative.parts)
