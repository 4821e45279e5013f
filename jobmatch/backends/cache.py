"""Where exported and quantised models live, and atomic creation of them.

An export is a folder keyed by the source model's fingerprint, so retraining a model in place
never reuses a stale export. It goes next to the model (`<model>/jobmatch-backends/...`) when
the model is a writable local folder, else into the user cache: `$JOBMATCH_CACHE_DIR`, or
`$XDG_CACHE_HOME/jobmatch`, or `~/.cache/jobmatch`. The bundled model always uses the user
cache (its folder sits inside site-packages). Exports are built in a temporary sibling folder
and renamed into place, so a killed export leaves nothing half-written; when two processes
export at once, the first rename wins and the other's copy is discarded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE_ENV = "JOBMATCH_CACHE_DIR"
EXPORT_FILE = "export.json"
NEXT_TO_MODEL = "jobmatch-backends"


def user_cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jobmatch"


def export_dir(location: str, fingerprint: str, variant: str, *, bundled: bool) -> Path:
    """The folder for one export (`variant` e.g. `onnx-int8`) of the model at `location`."""
    folder = Path(location).expanduser()
    if not bundled and folder.is_dir() and os.access(folder, os.W_OK):
        return folder / NEXT_TO_MODEL / f"{fingerprint}-{variant}"
    return user_cache_dir() / fingerprint / variant


def read_export(folder: Path) -> dict[str, Any] | None:
    """The export's description, or None when the folder is absent or incomplete."""
    try:
        return json.loads((folder / EXPORT_FILE).read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def ensure_export(
    folder: Path, build: Callable[[Path], dict[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """Reuse `folder` or make it with `build(tmp) -> description`; returns (description, made).

    `build` writes the model files into an empty temporary folder; its description is stored
    as export.json last, which marks the export complete.
    """
    existing = read_export(folder)
    if existing is not None:
        return existing, False
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        description = build(tmp)
        (tmp / EXPORT_FILE).write_text(json.dumps(description, indent=2) + "\n", "utf-8")
        if folder.exists():  # an incomplete leftover (no export.json): replace it
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process finished first
            winner = read_export(folder)
            if winner is None:
                raise
            return winner, False
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return description, True
