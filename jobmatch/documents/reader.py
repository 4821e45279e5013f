"""Read many document files into one candidates (or jobs) table.

Extraction is CPU-bound Python (pypdf parses content streams byte by byte), so it runs in
worker processes; the table is sorted by id and failures are reported by sorted path, so
two runs over the same files give the same output and the same error.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from jobmatch import schema
from jobmatch.documents import columns
from jobmatch.documents.discover import Found, discover
from jobmatch.documents.errors import UnreadableDocument
from jobmatch.documents.extract import Extracted, try_extract
from jobmatch.errors import DuplicateError, InputError, JobmatchError

IdFrom = Literal["path", "stem"]
OnUnreadable = Literal["fail", "skip"]
Kind = Literal["candidates", "jobs"]
MAX_DEFAULT_WORKERS = 4


@dataclass
class DocumentTable:
    """The rows read, the files skipped as (path, reason), and the files folders and globs
    held in unsupported formats (not read, not an error)."""

    frame: pl.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: int = 0

    @property
    def files(self) -> int:
        """Files read or skipped."""
        return self.frame.height + len(self.skipped)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def read_documents(
    inputs: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    kind: Kind = "candidates",
    id_from: IdFrom = "path",
    on_unreadable: OnUnreadable = "fail",
    workers: int | None = None,
    progress: bool = False,
    encoding: str = "utf-8",
) -> DocumentTable:
    """Extract the text of every document the inputs name into one table.

    Args:
        inputs: files, folders (every supported file below, recursively) and globs
            (`resumes/**/*.pdf`).
        kind: "candidates" (id column candidate_id) or "jobs" (job_id).
        id_from: "path" — the path below its input root without extension ("2024/jane");
            "stem" — the file name without extension (two files with one stem are an error).
        on_unreadable: "fail" raises the first failure by sorted path once every file has
            been tried; "skip" leaves such files out and lists them in `skipped`.
        workers: extraction processes (default min(cpu count, 4)); 1 runs in this process.
        progress: draw a tqdm progress bar on stderr.
        encoding: of .txt and .md files (PDF, DOCX and HTML carry their own).

    Returns:
        id, text and the `columns.METADATA_COLUMNS`, sorted by id.

    Raises:
        InputError: no documents match, a named path does not exist, duplicate ids,
            every file unreadable (skip mode), or `UnreadableDocument` (fail mode).
    """
    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    if not inputs:
        raise InputError("no documents match: give at least one file, folder or glob")
    found = discover(inputs)
    if not found.files:
        names = ", ".join(map(str, inputs))
        raise InputError(f"no documents match {names} (supported: .pdf .docx .html .htm .txt .md)")
    ids = assign_ids(found.files, id_from)
    by_path = {str(item.path): doc_id for item, doc_id in zip(found.files, ids, strict=True)}
    extract = functools.partial(try_extract, encoding=encoding)
    results = dict(_extract_all(list(by_path), workers or default_workers(), progress, extract))

    failures = sorted((path, reason) for path, (_, reason) in results.items() if reason)
    if failures and on_unreadable == "fail":
        path, reason = failures[0]
        raise UnreadableDocument(reason, path=path)
    readable = {path: extracted for path, (extracted, _) in results.items() if extracted}
    if not readable:
        path, reason = failures[0]
        raise InputError(
            f"none of the {len(failures)} documents is readable (first: {path}: {reason})"
        )
    frame = _frame(readable, by_path, kind)
    return DocumentTable(frame=frame, skipped=failures, ignored=found.ignored)


def assign_ids(files: Sequence[Found], id_from: IdFrom) -> list[str]:
    """One id per file; the same id from two files is an error naming both."""
    ids = [item.relative_id() if id_from == "path" else item.path.stem for item in files]
    first: dict[str, Found] = {}
    for item, doc_id in zip(files, ids, strict=True):
        if doc_id in first:
            hint = "rename one" if id_from == "path" else "use --id-from path or rename one"
            raise DuplicateError(
                f"id '{doc_id}' also comes from {first[doc_id].path.as_posix()} ({hint})",
                path=item.path.as_posix(),
            )
        first[doc_id] = item
    return ids


def _extract_all(
    paths: list[str], workers: int, progress: bool, extract: Callable = try_extract
) -> Iterator[tuple[str, tuple[Extracted | None, str | None]]]:
    from tqdm.auto import tqdm

    bar = tqdm(total=len(paths), desc="documents", unit="file", disable=not progress)
    with bar:
        if workers <= 1 or len(paths) == 1:
            for path in paths:
                _, extracted, reason = extract(path)
                bar.update()
                yield path, (extracted, reason)
            return
        import multiprocessing

        # spawn, not fork: the parent already runs polars' thread pool, and forking a
        # multi-threaded process can deadlock the child
        context = multiprocessing.get_context("spawn")
        workers = min(workers, len(paths))
        chunk = max(1, min(16, len(paths) // (workers * 8)))
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                for path, extracted, reason in pool.map(extract, paths, chunksize=chunk):
                    bar.update()
                    yield path, (extracted, reason)
        except BrokenProcessPool as exc:
            raise JobmatchError(
                "a document worker process died (out of memory?); run with workers=1 "
                "(--workers 1) to see which file"
            ) from exc


def _frame(readable: dict[str, Extracted], by_path: dict[str, str], kind: Kind) -> pl.DataFrame:
    id_column = schema.CANDIDATE_ID if kind == "candidates" else schema.JOB_ID
    rows = sorted((by_path[path], path, doc) for path, doc in readable.items())
    return pl.DataFrame(
        {
            id_column: [doc_id for doc_id, _, _ in rows],
            schema.TEXT: [doc.text for _, _, doc in rows],
            columns.SOURCE_PATH: [path.replace(os.sep, "/") for _, path, _ in rows],
            columns.FORMAT: [doc.format for _, _, doc in rows],
            columns.PAGES: [doc.pages for _, _, doc in rows],
            columns.BYTES: [doc.size for _, _, doc in rows],
            columns.CONTENT_SHA256: [doc.sha256 for _, _, doc in rows],
        },
        schema={
            id_column: pl.String,
            schema.TEXT: pl.String,
            columns.SOURCE_PATH: pl.String,
            columns.FORMAT: pl.String,
            columns.PAGES: pl.Int32,
            columns.BYTES: pl.Int64,
            columns.CONTENT_SHA256: pl.String,
        },
    )
