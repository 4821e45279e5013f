"""Tables in and out: readers, validation, writers, streamed batches and importers.

`from jobmatch import io` gives the table API: `read_table` (read and validate one file),
`read_raw` (columns as stored), `validate`, `write_table` / `write_frames` (atomic) and
`atomic_path`. Streaming many files in bounded memory lives in `jobmatch.io.batches`,
foreign training formats in `jobmatch.io.importers`, the one JSONL reader in
`jobmatch.io.jsonl`.
"""

from __future__ import annotations

from jobmatch.io.jsonl import json_objects, parse_json_lines, split_lines
from jobmatch.io.readers import (
    STDIO,
    FileFormat,
    check_csv_structure,
    decode_text,
    format_of,
    read_raw,
    read_table,
)
from jobmatch.io.validation import column_renames, validate
from jobmatch.io.writers import atomic_path, write_frames, write_table

__all__ = [
    "STDIO",
    "FileFormat",
    "atomic_path",
    "check_csv_structure",
    "column_renames",
    "decode_text",
    "format_of",
    "json_objects",
    "parse_json_lines",
    "read_raw",
    "read_table",
    "split_lines",
    "validate",
    "write_frames",
    "write_table",
]
