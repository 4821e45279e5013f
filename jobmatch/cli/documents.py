"""Document files as command input: the options, the read, the skipped list.

`import documents` writes the extracted table; `index build` and `index add` accept the same
files beside tables: `staged_inputs` extracts the documents first (every unreadable file is
reported before anything is encoded) into a Parquet file in a temporary folder, and the
build reads that file like any other table.
"""

from __future__ import annotations

import contextlib
import glob
import json
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from jobmatch.cli.options import status
from jobmatch.documents import EXTENSIONS
from jobmatch.errors import InputError


def document_options(*, workers: bool = True):
    """--id-from, --on-unreadable and (unless a command has its own) --workers."""

    def decorate(command):
        if workers:
            command = click.option(
                "--workers",
                type=click.IntRange(min=1),
                default=None,
                help="Extraction processes (default: min(CPU count, 4)); 1 runs in this process.",
            )(command)
        command = click.option(
            "--on-unreadable",
            type=click.Choice(["fail", "skip"]),
            default="fail",
            show_default=True,
            help="A document that is encrypted, corrupt, mislabelled or has no text: fail "
            "(nothing is written) or skip it and list it in skipped.jsonl beside the output.",
        )(command)
        return click.option(
            "--id-from",
            type=click.Choice(["path", "stem"]),
            default="path",
            show_default=True,
            help="Document ids: the path below the input root without extension "
            "(2024/jane), or the file name without extension (jane; two files with one "
            "name are an error).",
        )(command)

    return decorate


def is_document_input(raw: str) -> bool:
    """A file or glob ending in a document extension, or a folder holding documents.

    A folder holding both is refused: a table read would skip its documents silently.
    """
    from jobmatch.io.batches import is_table_file

    suffix = Path(raw).suffix.lower()
    if suffix in EXTENSIONS:
        return True
    if Path(raw).is_dir() and not any(ch in raw for ch in "*?["):
        files = [p for p in Path(raw).rglob("*") if p.is_file() and not p.name.startswith(".")]
        has_docs = any(p.suffix.lower() in EXTENSIONS for p in files)
        if has_docs and any(is_table_file(p) for p in files):
            raise InputError(
                "folder holds both tables and documents; pass them as separate globs "
                "(e.g. 'DIR/**/*.parquet' and 'DIR/**/*.pdf')",
                path=raw,
            )
        return has_docs
    if any(ch in raw for ch in "*?["):
        matches = glob.glob(raw, recursive=True)
        return bool(matches) and all(Path(m).suffix.lower() in EXTENSIONS for m in matches)
    return False


def read_document_inputs(
    inputs: Sequence[str],
    *,
    kind: str,
    id_from: str,
    on_unreadable: str,
    workers: int | None,
    progress: bool,
) -> Any:
    """`read_documents` with its counts printed; returns the DocumentTable."""
    from jobmatch.documents import read_documents

    table = read_documents(
        list(inputs),
        kind=kind,  # type: ignore[arg-type]
        id_from=id_from,  # type: ignore[arg-type]
        on_unreadable=on_unreadable,  # type: ignore[arg-type]
        workers=workers,
        progress=progress,
    )
    if table.ignored:
        status(f"ignored {table.ignored} files of other types in the input folders and globs")
    return table


def write_skipped(table: Any, beside: str | Path) -> None:
    """skipped.jsonl ({"path", "reason"} per line) in the folder of `beside`, atomically."""
    from jobmatch import io

    path = Path(beside).resolve().parent / "skipped.jsonl"
    with io.atomic_path(path) as tmp:
        tmp.write_text(
            "".join(
                json.dumps({"path": source, "reason": reason}, ensure_ascii=False) + "\n"
                for source, reason in table.skipped
            ),
            "utf-8",
        )
    status(f"skipped {len(table.skipped)} unreadable files (listed in {path})")


@contextlib.contextmanager
def staged_inputs(
    inputs: Sequence[str],
    *,
    output: str,
    id_from: str,
    on_unreadable: str,
    progress: bool,
) -> Iterator[list[str]]:
    """The inputs with every document input replaced by one extracted candidates table."""
    documents = [raw for raw in inputs if is_document_input(raw)]
    if not documents:
        yield list(inputs)
        return
    from jobmatch import io

    table = read_document_inputs(
        documents,
        kind="candidates",
        id_from=id_from,
        on_unreadable=on_unreadable,
        workers=None,
        progress=progress,
    )
    status(f"extracted {table.frame.height} documents")
    with tempfile.TemporaryDirectory(prefix="jobmatch-documents-") as tmp:
        staged = Path(tmp) / "documents.parquet"
        io.write_table(io.validate(table.frame, "candidates", path=str(staged)), staged)
        yield [raw for raw in inputs if raw not in documents] + [str(staged)]
    if on_unreadable == "skip":
        write_skipped(table, output)
