"""Distributed encoding on Ray: Ray Data reads and encodes, the driver builds the index.

The driver first validates every input with the local reader (a bad row fails with the same
one-line error before a cluster is touched) and loads the model once for its fingerprint.
Ray Data then reads the files (`read_parquet`, `read_csv` with every column as text, JSONL
as raw bytes split on newlines only, as `jobmatch.io` does), normalises each batch with the
local validation code and adds content hashes, and encodes batches in a pool of actors that
load the model once each (`concurrency=workers`, `num_gpus` only when GPUs are asked for).
Order is preserved, so the driver receives the embeddings in input order and writes them as
the parts of an embedding store: part i holds the same rows as in a single-process build.
The index is then built from the store exactly as `build_from_embeddings` does (train on a
sample, add part by part, optionally into shards).

Failures: an actor that dies is restarted and its batches are retried (`max_restarts`,
`max_task_retries`); if the driver dies, `--resume` with `--save-embeddings` keeps the
finished parts and encodes only the rows not in them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from jobmatch import schema
from jobmatch.batches import content_hashes, expand_inputs, iter_chunks, validate_inputs
from jobmatch.errors import IndexStoreError, JobmatchError, ModelError
from jobmatch.index import atomic
from jobmatch.index.build import BuildConfig, _index_store, _store_folder
from jobmatch.index.embeddings import EmbeddingStore, StoreInfo, vectors_of
from jobmatch.io import format_of

if TYPE_CHECKING:
    import pyarrow as pa

    from jobmatch.index.manifest import Manifest

INSTALL_HINT = 'Ray is not installed: pip install "jobmatch[ray]"'


@dataclass
class RayConfig:
    """Where and how wide the Ray encoding runs; the CLI options map onto these fields."""

    address: str | None = None
    """Cluster to join ("auto", "host:6379", "ray://..."); None: env RAY_ADDRESS, else a
    local cluster that lives as long as the build."""
    workers: int = 1
    """Encoder actors, each loading the model once."""
    gpus_per_worker: float = 0.0
    """GPUs per actor; 0 encodes on CPUs (num_gpus is then not requested at all)."""
    cpus_per_worker: float = 1.0
    """CPUs reserved per actor; leave some of the cluster's CPUs for the read tasks."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.gpus_per_worker < 0 or self.cpus_per_worker <= 0:
            raise ValueError("gpus_per_worker must be >= 0 and cpus_per_worker > 0")


def require_ray() -> Any:
    """The ray module, or a one-line JobmatchError saying how to install it."""
    try:
        import ray
        import ray.data  # ray without the data extra lacks it
    except ImportError as exc:
        raise JobmatchError(INSTALL_HINT) from exc
    return ray


def build_index_ray(
    sources: Sequence[str | Path],
    folder: str | Path,
    model: str,
    config: BuildConfig | None = None,
    ray_config: RayConfig | None = None,
    *,
    validated_rows: int | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Manifest:
    """Encode candidate files on a Ray cluster into an index folder.

    Args:
        sources: files, folders and globs of Parquet, CSV or JSONL candidates.
        folder: the index folder to write (replaced atomically).
        model: sentence-transformers id or folder; every Ray node must be able to load it.
        config: the same build options as `build_index` (factory, shards, chunk_rows, ...).
        ray_config: cluster address and actor pool size.
        validated_rows: the row count when the caller already ran `validate_inputs`.
    """
    config = config or BuildConfig()
    ray_config = ray_config or RayConfig()
    ray = require_ray()
    from jobmatch.encoder import load_encoder

    if validated_rows is None:
        validated_rows = validate_inputs(
            sources, "candidates", id_col=config.id_col, text_col=config.text_col
        )
    if validated_rows == 0:
        raise IndexStoreError("no candidates in the input")
    encoder = load_encoder(model)
    info = StoreInfo(
        model=encoder.name,
        model_fingerprint=encoder.fingerprint,
        dimension=encoder.dimension,
        chunk_rows=config.chunk_rows,
    )
    reference = next(
        iter_chunks(sources, "candidates", id_col=config.id_col, text_col=config.text_col)
    ).frame.schema
    with (
        atomic.writer_lock(folder, wait=config.wait, on_wait=on_wait),
        _store_folder(config, folder) as store_dir,
    ):
        store = EmbeddingStore.create(store_dir, info, resume=config.resume)
        with _connected(ray, ray_config.address), _data_context(config.progress):
            _encode_on_ray(sources, store, reference, config, ray_config)
        return _index_store(store, folder, config)


def _encode_on_ray(
    sources: Sequence[str | Path],
    store: EmbeddingStore,
    reference: pl.Schema,
    config: BuildConfig,
    ray_config: RayConfig,
) -> None:
    """Stream the encoded rows back in input order and write them as store parts."""
    import pyarrow as pa

    index, done_ids = _finished_prefix(store)
    pending: list[pa.Table] = []
    pending_rows = 0
    try:
        for dataset in _read(expand_inputs(sources), config, reference, done_ids):
            for table in _encoded(dataset, store.info, config, ray_config):
                pending.append(table)
                pending_rows += table.num_rows
                while pending_rows >= config.chunk_rows:
                    merged = pa.concat_tables(pending)
                    _write_part(store, index, merged.slice(0, config.chunk_rows))
                    index += 1
                    pending = [merged.slice(config.chunk_rows)]
                    pending_rows = pending[0].num_rows
    except Exception as exc:  # Ray wraps worker errors; show ours as one line
        cause = _jobmatch_cause(exc)
        if cause is None:
            raise
        raise cause from exc
    if pending_rows:
        _write_part(store, index, pa.concat_tables(pending))
        index += 1
    if index == 0:
        raise IndexStoreError("no candidates in the input")
    store.remove_parts_after(index - 1)


def _encoded(dataset: Any, info: StoreInfo, config: BuildConfig, ray_config: RayConfig):
    """Arrow tables of (metadata, embedding) in input order, encoded by an actor pool.

    Ray Data restarts an actor that dies and retries its batches (its actor pools default
    to max_restarts=-1 and max_task_retries=-1).
    """
    from ray.data import ActorPoolStrategy

    gpus = {"num_gpus": ray_config.gpus_per_worker} if ray_config.gpus_per_worker > 0 else {}
    # a small file is read as one block, and one block goes to one actor: split it so every
    # worker gets batches (streaming repartition keeps the row order)
    dataset = dataset.repartition(target_num_rows_per_block=config.chunk_rows)
    encoded = dataset.map_batches(
        EncodeBatches,
        fn_constructor_kwargs={
            "model": info.model,
            "fingerprint": info.model_fingerprint,
            "batch_size": config.batch_size,
        },
        batch_size=config.chunk_rows,
        batch_format="pyarrow",
        compute=ActorPoolStrategy(size=ray_config.workers),
        num_cpus=ray_config.cpus_per_worker,
        **gpus,
    )
    yield from encoded.iter_batches(batch_size=None, batch_format="pyarrow")


def _write_part(store: EmbeddingStore, index: int, table: pa.Table) -> None:
    frame = pl.from_arrow(table.drop_columns([schema.EMBEDDING]))
    store.write_part(index, frame, vectors_of(table.column(schema.EMBEDDING), store.info.dimension))


def _finished_prefix(store: EmbeddingStore) -> tuple[int, frozenset[str]]:
    """Parts 0..n-1 already written by an interrupted build, and the ids they hold."""
    count = 0
    ids: set[str] = set()
    while (stored := store.part_ids(count)) is not None:
        ids.update(stored.to_list())
        count += 1
    return count, frozenset(ids)


def _read(
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
    for fmt, paths in runs:
        if fmt == "parquet":
            dataset = ray.data.read_parquet(paths)
        elif fmt == "csv":
            dataset = ray.data.read_csv(
                paths,
                convert_options=_csv_as_text(paths),
                parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            )
        else:
            dataset = ray.data.read_binary_files(paths).map_batches(
                _parse_jsonl, batch_size=1, batch_format="pyarrow"
            )
        yield dataset.map_batches(
            _normalise,
            batch_format="pyarrow",
            fn_kwargs={"renames": _renames(config), "reference": dict(reference), "done": done},
        )


class EncodeBatches:
    """Ray Data actor: loads the model once, appends an `embedding` column to each batch."""

    def __init__(self, model: str, fingerprint: str, batch_size: int) -> None:
        from jobmatch.encoder import load_encoder

        self.encoder = load_encoder(model)
        if self.encoder.fingerprint != fingerprint:
            raise ModelError(
                f"model {model!r} on this Ray node has fingerprint {self.encoder.fingerprint}, "
                f"the driver's has {fingerprint}: install the same weights on every node"
            )
        self.batch_size = batch_size

    def __call__(self, table: pa.Table) -> pa.Table:
        import pyarrow as pa

        texts = table.column(schema.TEXT).to_pylist()
        vectors = self.encoder.encode(texts, batch_size=self.batch_size)
        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        column = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
        return table.append_column(schema.EMBEDDING, column)


def _normalise(table: pa.Table, *, renames, reference, done) -> pa.Table:
    """A raw batch -> validated candidates typed like the first input, with content hashes.

    Columns follow the first input's order; columns it has and this file lacks are null.
    """
    from jobmatch.batches import _conform, _validated

    frame = _validated(pl.from_arrow(table), "candidates", Path("<ray batch>"), renames)
    frame = _conform(frame, dict(reference), "<ray batch>")
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


def _parse_jsonl(table: pa.Table) -> pa.Table:
    """Whole JSONL files (read_binary_files rows) -> records; lines split on b"\\n" only."""
    import pyarrow as pa

    from jobmatch.io import parse_json_lines

    frames = []
    for raw in table.column("bytes").to_pylist():
        lines = raw.decode("utf-8-sig").split("\n")
        frame, _ = parse_json_lines(enumerate(lines, start=1), "<ray batch>")
        frames.append(frame)
    merged = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return merged.to_arrow() if merged.width else pa.table({})


def _csv_as_text(paths: list[str]) -> Any:
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


def _renames(config: BuildConfig) -> dict[str, str]:
    from jobmatch.batches import _renames

    return _renames("candidates", config.id_col, config.text_col)


def _jobmatch_cause(exc: BaseException) -> JobmatchError | None:
    """The JobmatchError raised inside a Ray worker, unwrapped from Ray's exceptions."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "cause", None)  # RayTaskError keeps the original here
        if isinstance(inner, JobmatchError):
            return inner
        if isinstance(current, JobmatchError):
            return current
        current = current.__cause__ or current.__context__
    return None


@contextlib.contextmanager
def _connected(ray: Any, address: str | None) -> Iterator[None]:
    """Join the given (or RAY_ADDRESS) cluster, or start a local one for this build only."""
    if ray.is_initialized():
        yield
        return
    ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@contextlib.contextmanager
def _data_context(progress: bool) -> Iterator[None]:
    """Preserve row order (parts match a local build) and show progress bars only if asked."""
    from ray.data import DataContext

    context = DataContext.get_current()
    saved = (context.execution_options.preserve_order, context.enable_progress_bars)
    context.execution_options.preserve_order = True
    context.enable_progress_bars = progress
    try:
        yield
    finally:
        context.execution_options.preserve_order, context.enable_progress_bars = saved
