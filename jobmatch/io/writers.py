"""Write jobmatch tables atomically: a temporary sibling is fsynced and renamed over the
target, so a reader sees the old file or the complete new one, never a half-written one."""

from __future__ import annotations

import contextlib
import io as _io
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from jobmatch.io.readers import STDIO, FileFormat, format_of


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path`; on success it is fsynced and renamed over `path`.

    On any exception the temporary file is removed and `path` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_table(
    frame: pl.DataFrame, path: str | Path, *, file_format: FileFormat | None = None
) -> None:
    """Write a table atomically (or to stdout for `-`), in the format of the extension."""
    fmt = file_format or format_of(path)
    if str(path) == STDIO:
        buffer = _io.BytesIO()
        _write(frame, buffer, fmt)
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.flush()
        return
    with atomic_path(path) as tmp:
        _write(frame, tmp, fmt)


def write_frames(
    frames: Iterable[pl.DataFrame], path: str | Path, *, file_format: FileFormat | None = None
) -> int:
    """Stream frames of one schema into a file (atomically) or stdout; returns rows written.

    Memory holds one frame at a time, so outputs larger than memory can be written.
    """
    import pyarrow.parquet as pq

    fmt = file_format or format_of(path)
    rows = 0
    with contextlib.ExitStack() as stack:
        if str(path) == STDIO:
            sink = sys.stdout.buffer
        else:
            sink = stack.enter_context(open(stack.enter_context(atomic_path(path)), "wb"))
        writer = None
        for frame in frames:
            if fmt == "parquet":
                table = frame.to_arrow()
                if writer is None:
                    writer = stack.enter_context(pq.ParquetWriter(sink, table.schema))
                writer.write_table(table)
            else:
                buffer = _io.BytesIO()
                if fmt == "csv" and rows > 0:
                    _csv_ready(frame).write_csv(buffer, include_header=False)
                else:
                    _write(frame, buffer, fmt)
                sink.write(buffer.getvalue())
            rows += frame.height
        if writer is None and fmt == "parquet":
            raise ValueError("write_frames needs at least one frame to know the Parquet schema")
    return rows


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV has no lists: join list cells with ';' (read back by `read_table`)."""
    list_columns = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    return frame.with_columns(pl.col(list_columns).list.join(";"))


def _write(frame: pl.DataFrame, sink, fmt: FileFormat) -> None:
    if fmt == "parquet":
        frame.write_parquet(sink)
    elif fmt == "csv":
        _csv_ready(frame).write_csv(sink)
    else:
        frame.write_ndjson(sink)
