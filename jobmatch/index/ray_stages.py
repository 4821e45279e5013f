"""The Ray Data stages of a distributed build: read, normalise, encode in an actor pool.

Each function here runs on the cluster or builds the dataset that does; the driver in
`jobmatch.index.distributed` sizes the actors and writes what comes back. The stages reuse the
local validation code (`jobmatch.io`), so a Ray build accepts and rejects exactly what a
single-process build does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from jobmatch import schema
from jobmatch.errors import ModelError
from jobmatch.index.build import BuildConfig
from jobmatch.index.embeddings import StoreInfo, passage_lists
from jobmatch.index.passages import PASSAGE_COUNT, Chunking, encode_passages
from jobmatch.io import column_renames, format_of, parse_json_lines, split_lines
from jobmatch.io.batches import conform_types, content_hashes, validated_batch

if TYPE_CHECKING:
    import pyarrow as pa

STAGE_CPUS = 0.25
"""CPUs each read / parse / normalise task asks for: they mostly wait on I/O and Arrow."""


def encoded_tables(
    dataset: Any,
    info: StoreInfo,
    config: BuildConfig,
    *,
    workers: int,
    cpus_per_worker: float,
    gpus_per_worker: float,
) -> Iterator[pa.Table]:
    """Arrow tables of (metadata, embedding) in input order, encoded by an actor pool.

    Ray Data restarts an actor that dies and retries its batches (its actor pools default
    to max_restarts=-1 and max_task_retries=-1).
    """
    from ray.data import ActorPoolStrategy

    gpus = {"num_gpus": gpus_per_worker} if gpus_per_worker > 0 else {}
    # a small file is read as one block, and one block goes to one actor: split it so every
    # worker gets batches (streaming repartition keeps the row order)
    dataset = dataset.repartition(target_num_rows_per_block=config.chunk_rows)
    encoded = dataset.map_batches(
        EncodeBatches,
        fn_constructor_kwargs={
            "model": info.model,
            "fingerprint": info.model_fingerprint,
            "batch_size": config.batch_size,
            "chunking": config.chunking,
        },
        batch_size=config.chunk_rows,
        batch_format="pyarrow",
        compute=ActorPoolStrategy(size=workers),
        num_cpus=cpus_per_worker,
        **gpus,
    )
    yield from encoded.iter_batches(batch_size=None, batch_format="pyarrow")


def read_datasets(
    files: list[Path], config: BuildConfig, reference: pl.Schema, done: frozenset[str]
) -> Iterator[Any]:
    """Datasets of normalised candidates, one per run of consecutive files of one format.

    Runs are executed one after the other: Ray Data keeps the order within one dataset
    (preserve_order) but not across a union.
    """
    import pyarrow.csv as pa_csv
    import ray.data

    runs: list[tuple[str, list[str]]] = []
    for path in files:
        fmt = format_of(path)
        if runs and runs[-1][0] == fmt:
            runs[-1][1].append(str(path))
        else:
            runs.append((fmt, [str(path)]))
    light = {"num_cpus": STAGE_CPUS}
    renames = column_renames("candidates", id_col=config.id_col, text_col=config.text_col)
    for fmt, paths in runs:
        if fmt == "parquet":
            dataset = ray.data.read_parquet(paths, **light)
        elif fmt == "csv":
            dataset = ray.data.read_csv(
                paths,
                convert_options=csv_as_text(paths),
                parse_options=pa_csv.ParseOptions(newlines_in_values=True),
                **light,
            )
        else:
            dataset = ray.data.read_binary_files(paths, **light).map_batches(
                parse_jsonl_batch, batch_size=1, batch_format="pyarrow", **light
            )
        yield dataset.map_batches(
            normalise_batch,
            batch_format="pyarrow",
            fn_kwargs={"renames": renames, "reference": dict(reference), "done": done},
            **light,
        )


class EncodeBatches:
    """Ray Data actor: loads the model once, appends an `embedding` column to each batch.

    With passages (`chunking`), the column holds each row's list of passage vectors, and a
    `passage_count` column their number, as in a local build's embedding store.
    """

    def __init__(
        self, model: str, fingerprint: str, batch_size: int, chunking: Chunking | None = None
    ) -> None:
        from jobmatch.encoder import load_encoder

        self.encoder = load_encoder(model)
        if self.encoder.fingerprint != fingerprint:
            raise ModelError(
                f"model {model!r} on this Ray node has fingerprint {self.encoder.fingerprint}, "
                f"the driver's has {fingerprint}: install the same weights on every node"
            )
        self.batch_size = batch_size
        self.chunking = chunking or Chunking()

    def __call__(self, table: pa.Table) -> pa.Table:
        import pyarrow as pa

        texts = table.column(schema.TEXT).to_pylist()
        if self.chunking.chunked:
            vectors, counts = encode_passages(
                self.encoder, texts, self.chunking, batch_size=self.batch_size
            )
            lists = passage_lists(vectors, counts).to_arrow()
            table = table.append_column(schema.EMBEDDING, lists)
            return table.append_column(PASSAGE_COUNT, pa.array(counts, pa.int32()))
        vectors = self.encoder.encode(texts, batch_size=self.batch_size)
        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        column = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
        return table.append_column(schema.EMBEDDING, column)


def normalise_batch(table: pa.Table, *, renames, reference, done) -> pa.Table:
    """A raw batch -> validated candidates typed like the first input, with content hashes.

    Columns follow the first input's order; columns it has and this file lacks are null.
    """
    frame = validated_batch(pl.from_arrow(table), "candidates", Path("<ray batch>"), renames)
    frame = conform_types(frame, dict(reference), "<ray batch>")
    frame = frame.with_columns(content_hashes(frame))  # before filling, as the local path does
    frame = frame.with_columns(
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in reference.items()
        if name not in frame.columns
    )
    frame = frame.select([*reference, *(c for c in frame.columns if c not in reference)])
    if done:
        frame = frame.filter(~pl.col(schema.CANDIDATE_ID).is_in(list(done)))
    return frame.to_arrow()


def parse_jsonl_batch(table: pa.Table) -> pa.Table:
    """Whole JSONL files (read_binary_files rows) -> records; lines split on b"\\n" only."""
    import pyarrow as pa

    frames = []
    for raw in table.column("bytes").to_pylist():
        frame, _ = parse_json_lines(split_lines(raw.decode("utf-8-sig")), "<ray batch>")
        frames.append(frame)
    merged = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return merged.to_arrow() if merged.width else pa.table({})


def csv_as_text(paths: list[str]) -> Any:
    """Arrow CSV options reading every header column as a string, as the local reader does."""
    import csv

    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names: dict[str, Any] = {}
    for path in paths:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            for name in next(csv.reader([handle.readline()]), []):
                names[name] = pa.string()
    return pa_csv.ConvertOptions(column_types=names)
