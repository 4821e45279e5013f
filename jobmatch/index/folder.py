"""A folder on any pyarrow filesystem: a local path or a URI (s3://, gs://, hdfs://, file://).

The embedding store lives in one of these, so a cluster's build can keep its parts in object
storage. pyarrow resolves the URI (`FileSystem.from_uri`, with its query options such as
`?endpoint_override=...&region=...`); schemes pyarrow lacks but fsspec has (memory://,
abfs://, ...) go through pyarrow's fsspec bridge. Every write goes to a temporary name and
is then moved into place: a rename on a local disk, and on an object store the final object
appears only once complete, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import polars as pl

from jobmatch import io
from jobmatch.errors import IndexStoreError

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Folder:
    """`path` on `filesystem`; `shown` is what messages print (a URI without its query)."""

    filesystem: Any
    path: str
    shown: str

    @classmethod
    def of(cls, where: str | Path | Folder) -> Folder:
        """Resolve a local path or filesystem URI; an unknown scheme is a one-line error."""
        if isinstance(where, Folder):
            return where
        from pyarrow import fs

        text = str(where)
        if not _URI.match(text):
            local = Path(text).expanduser().absolute()
            return cls(fs.LocalFileSystem(), local.as_posix(), text)
        shown = text.split("?", 1)[0]  # the query may carry credentials
        try:
            filesystem, path = fs.FileSystem.from_uri(text)
        except Exception:  # ArrowInvalid / ArrowNotImplementedError; its text repeats the query
            filesystem, path = _through_fsspec(text, shown)
        return cls(filesystem, path.rstrip("/") or "/", shown)

    @property
    def local(self) -> Path | None:
        """The folder as a local Path, or None on a remote filesystem."""
        from pyarrow import fs

        return Path(self.path) if isinstance(self.filesystem, fs.LocalFileSystem) else None

    def __str__(self) -> str:
        return self.shown

    def child(self, name: str) -> str:
        return f"{self.path}/{name}"

    def describe(self, name: str) -> str:
        """A file of this folder as messages name it."""
        return f"{self.shown.rstrip('/')}/{name}"

    def is_file(self, name: str) -> bool:
        from pyarrow import fs

        info = self._call(name, self.filesystem.get_file_info, self.child(name))
        return info.type == fs.FileType.File

    def file_names(self) -> list[str]:
        """Names of the files directly in the folder; [] when it does not exist."""
        from pyarrow import fs

        selector = fs.FileSelector(self.path, allow_not_found=True)
        infos = self._call("", self.filesystem.get_file_info, selector)
        return sorted(info.base_name for info in infos if info.type == fs.FileType.File)

    def is_empty(self) -> bool:
        """True when the folder is missing or holds nothing (files or folders)."""
        from pyarrow import fs

        selector = fs.FileSelector(self.path, allow_not_found=True)
        return not self._call("", self.filesystem.get_file_info, selector)

    def make(self) -> None:
        self._call("", self.filesystem.create_dir, self.path, recursive=True)

    def read_text(self, name: str) -> str:
        with self._call(name, self.filesystem.open_input_stream, self.child(name)) as stream:
            return stream.read().decode("utf-8")

    def read_parquet(self, name: str, columns: list[str] | None = None) -> Any:
        """One Parquet file as a pyarrow Table."""
        import pyarrow.parquet as pq

        return self._call(
            name, pq.read_table, self.child(name), columns=columns, filesystem=self.filesystem
        )

    def parquet_rows(self, name: str) -> int:
        import pyarrow.parquet as pq

        with self._call(name, self.filesystem.open_input_file, self.child(name)) as handle:
            return pq.ParquetFile(handle).metadata.num_rows

    def write_atomic(self, name: str, write: Callable[[IO[bytes]], None]) -> None:
        """Call `write` on a temporary file, then move it over `name` (old or new, never half)."""
        local = self.local
        if local is not None:
            with io.atomic_path(local / name) as tmp, open(tmp, "wb") as handle:
                write(handle)
            return
        tmp = self.child(f".{name}.{uuid.uuid4().hex}.tmp")
        moved = False
        try:
            with self._call(name, self.filesystem.open_output_stream, tmp) as stream:
                write(stream)
            self._call(name, self.filesystem.move, tmp, self.child(name))
            moved = True
        finally:
            if not moved:
                with contextlib.suppress(OSError):
                    self.filesystem.delete_file(tmp)

    def write_text(self, name: str, text: str) -> None:
        self.write_atomic(name, lambda handle: handle.write(text.encode("utf-8")))

    def write_parquet(self, name: str, frame: pl.DataFrame) -> None:
        import pyarrow.parquet as pq

        table = frame.to_arrow()
        self.write_atomic(name, lambda handle: pq.write_table(table, handle, compression="zstd"))

    def delete(self, name: str) -> None:
        self._call(name, self.filesystem.delete_file, self.child(name))

    def _call(self, name: str, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a filesystem call; I/O failures become one line naming the file or folder."""
        try:
            return action(*args, **kwargs)
        except FileNotFoundError:
            raise
        except OSError as exc:
            where = self.describe(name) if name else self.shown
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise IndexStoreError(f"{where}: {reason}") from exc


def _through_fsspec(uri: str, shown: str) -> tuple[Any, str]:
    """A pyarrow view of an fsspec filesystem, for the schemes pyarrow does not know."""
    from pyarrow import fs

    scheme = uri.split("://", 1)[0]
    try:
        import fsspec

        filesystem, path = fsspec.core.url_to_fs(uri)
    except (ImportError, ValueError) as exc:
        raise IndexStoreError(
            f"{shown}: unsupported filesystem URI (neither pyarrow nor fsspec knows {scheme!r}; "
            "some schemes need a package, e.g. gcsfs or adlfs)"
        ) from exc
    return fs.PyFileSystem(fs.FSSpecHandler(filesystem)), path
