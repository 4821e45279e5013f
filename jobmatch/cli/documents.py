"""Document files as command input: the options, the read, the skipped list.

`import documents` writes the extracted table; `index build` and `index add` accept the same
files beside tables: `staged_inputs` extracts the documents first (every unreadable file is
reported before anything is encoded) into a Parquet file in a temporary folder, and the
build reads that file like any other table. With `--encoding` other than UTF-8, the CSV and
JSONL tables are staged there too, as UTF-8 copies.
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
    from jobmatch.documents.discover import folder_files
    from jobmatch.io.batches import is_table_file

    suffix = Path(raw).suffix.lower()
    if suffix in EXTENSIONS:
        return True
    if Path(raw).is_dir() and not any(ch in raw for ch in "*?["):
        files = folder_files(Path(raw))
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
    encoding: str = "utf-8",
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
        encoding=encoding,
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
    encoding: str = "utf-8",
) -> Iterator[list[str]]:
    """The inputs with every document input replaced by one extracted candidates table and,
    for an `encoding` other than UTF-8, every CSV and JSONL table by a UTF-8 copy.

    The streaming readers of a build read UTF-8 only; each legacy file is decoded whole
    here, so an undecodable byte names the user's file, line and column. Errors the build
    raises about a copy name the original file too.
    """
    from jobmatch.io.readers import check_encoding

    documents = [raw for raw in inputs if is_document_input(raw)]
    tables = [raw for raw in inputs if raw not in documents]
    legacy = check_encoding(encoding) not in ("utf-8", "utf-8-sig")
    if not documents and not legacy:
        yield list(inputs)
        return
    from jobmatch import io

    table = None
    if documents:
        table = read_document_inputs(
            documents,
            kind="candidates",
            id_from=id_from,
            on_unreadable=on_unreadable,
            workers=None,
            progress=progress,
            encoding=encoding,
        )
        status(f"extracted {table.frame.height} documents")
    with tempfile.TemporaryDirectory(prefix="jobmatch-inputs-") as tmp:
        copies = transcode_tables(tables, Path(tmp), encoding) if legacy else {}
        staged = list(copies) if legacy else tables
        if table is not None:
            extracted = Path(tmp) / "documents.parquet"
            io.write_table(io.validate(table.frame, "candidates", path=str(extracted)), extracted)
            staged.append(str(extracted))
        try:
            yield staged
        except InputError as exc:
            original = renamed(exc, copies)
            if original is exc:
                raise
            raise original from exc
    if table is not None and on_unreadable == "skip":
        write_skipped(table, output)


def transcode_tables(tables: Sequence[str], folder: Path, encoding: str) -> dict[str, str]:
    """{staged path: original path} of the table files the inputs name (folders and globs
    expanded), CSV and JSONL re-encoded as UTF-8 copies in `folder`, Parquet as it is."""
    from jobmatch import io
    from jobmatch.io.batches import expand_inputs

    staged: dict[str, str] = {}
    for number, path in enumerate(expand_inputs(tables) if tables else []):
        fmt = io.format_of(path)
        if fmt == "parquet":
            staged[str(path)] = str(path)
            continue
        text = io.decode_text(
            path.read_bytes(), str(path), csv_header=fmt == "csv", encoding=encoding
        )
        copy = folder / str(number) / path.name
        copy.parent.mkdir()
        copy.write_text(text, "utf-8", newline="")
        staged[str(copy)] = str(path)
    return staged


def renamed(error: InputError, copies: dict[str, str]) -> InputError:
    """The same error naming the original files instead of their staged copies."""
    moved = {copy: original for copy, original in copies.items() if copy != original}
    if not any(copy in str(error) for copy in moved):
        return error
    reason = error.reason
    for copy, original in moved.items():
        reason = reason.replace(copy, original)
    return type(error)(
        reason,
        path=moved.get(error.path, error.path) if error.path else None,
        line=error.line,
        row=error.row,
        column=error.column,
    )
