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

Resources: the encoder actors hold their CPUs for the whole build, so actors that take
every CPU of the cluster leave none for Ray Data's read tasks and the build waits forever.
The actors are therefore sized to the cluster (`plan_cpus`): the read, parse and normalise
stages (`jobmatch.index.ray_stages`) run as light tasks of `STAGE_CPUS` each,
`READ_RESERVE_CPUS` is kept free for them, and the actors share the rest (at most one CPU
each unless asked). A request that cannot fit is refused at once, saying what to pass. A
build that receives no encoded rows for `stall_timeout_s` fails with a message instead of
waiting forever.

Failures: an actor that dies is restarted and its batches are retried (`max_restarts`,
`max_task_retries`); if the driver dies, `--resume` with `--save-embeddings` keeps the
finished parts and encodes only the rows not in them.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.errors import IndexStoreError, JobmatchError
from jobmatch.index import atomic
from jobmatch.index.build import BuildConfig, index_store, store_folder
from jobmatch.index.embeddings import EmbeddingStore, StoreInfo, flatten_lists, vectors_of
from jobmatch.index.passages import PASSAGE_COUNT, resolve_for
from jobmatch.index.ray_stages import encoded_tables, read_datasets
from jobmatch.io.batches import (
    expand_inputs,
    iter_chunks,
    validate_inputs,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from jobmatch.index.manifest import Manifest

INSTALL_HINT = 'Ray is not installed: pip install "jobmatch[ray]"'
READ_RESERVE_CPUS = 1.0
"""CPUs kept free of encoder actors so that the read stages always run: Ray Data's own
file-listing task asks for a whole CPU whatever the read's num_cpus (Ray 2.60)."""
MIN_AUTO_CPUS = 0.1
"""The smallest CPU share an actor is sized down to before the request is refused."""
DEFAULT_STALL_TIMEOUT_S = 900.0


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
    cpus_per_worker: float | None = None
    """CPUs reserved per actor; None sizes the actors to the cluster (see `plan_cpus`)."""
    stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S
    """Fail when no encoded rows arrive for this long (model loading included)."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.gpus_per_worker < 0:
            raise ValueError(f"gpus_per_worker must be >= 0, got {self.gpus_per_worker}")
        if self.cpus_per_worker is not None and self.cpus_per_worker <= 0:
            raise ValueError(f"cpus_per_worker must be > 0, got {self.cpus_per_worker}")
        if self.stall_timeout_s <= 0:
            raise ValueError(f"stall_timeout_s must be > 0, got {self.stall_timeout_s}")


def plan_cpus(ray_config: RayConfig, cluster_cpus: float) -> float:
    """CPUs per encoder actor on a cluster with `cluster_cpus`, leaving the read stages theirs.

    Raises:
        IndexStoreError: when the actors asked for cannot all run beside the read stages,
            naming the options that would fit.
    """
    available = cluster_cpus - READ_RESERVE_CPUS
    workers = ray_config.workers
    if ray_config.cpus_per_worker is None:
        per_worker = min(1.0, available / workers)
        if per_worker >= MIN_AUTO_CPUS:
            return round(per_worker, 4)
    elif workers * ray_config.cpus_per_worker <= available + 1e-9:
        return ray_config.cpus_per_worker
    fits = int(available / (ray_config.cpus_per_worker or MIN_AUTO_CPUS) + 1e-9)
    asked = (
        f"{workers} workers x {ray_config.cpus_per_worker:g} CPUs"
        if ray_config.cpus_per_worker is not None
        else f"{workers} workers"
    )
    raise IndexStoreError(
        f"{asked} do not fit the Ray cluster's {cluster_cpus:g} CPUs with "
        f"{READ_RESERVE_CPUS:g} kept for reading: pass --workers {max(fits, 1)}"
        + (
            f" or --cpus-per-worker {available / workers:.2g}"
            if available / workers >= MIN_AUTO_CPUS
            else ""
        )
        + " (or add CPUs to the cluster, or build with --engine local)"
    )


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
    config = replace(config, chunking=resolve_for(encoder, config.chunking))
    info = StoreInfo(
        model=encoder.name,
        model_fingerprint=encoder.fingerprint,
        dimension=encoder.dimension,
        chunk_rows=config.chunk_rows,
        **config.chunking.fields(),
    )
    reference = next(
        iter_chunks(sources, "candidates", id_col=config.id_col, text_col=config.text_col)
    ).frame.schema
    with (
        atomic.writer_lock(folder, wait=config.wait, on_wait=on_wait),
        store_folder(config, folder) as store_dir,
    ):
        store = EmbeddingStore.create(store_dir, info, resume=config.resume)
        with _connected(ray, ray_config.address), _data_context():
            cpus = plan_cpus(ray_config, float(ray.cluster_resources().get("CPU", 0.0)))
            _encode_on_ray(sources, store, reference, config, ray_config, cpus, validated_rows)
        return index_store(store, folder, config)


def _encode_on_ray(
    sources: Sequence[str | Path],
    store: EmbeddingStore,
    reference: pl.Schema,
    config: BuildConfig,
    ray_config: RayConfig,
    cpus_per_worker: float,
    total_rows: int,
) -> None:
    """Stream the encoded rows back in input order and write them as store parts."""
    import pyarrow as pa
    from tqdm.auto import tqdm

    index, done_ids = _finished_prefix(store)
    pending: list[pa.Table] = []
    pending_rows = 0
    datasets = read_datasets(expand_inputs(sources), config, reference, done_ids)
    tables = (
        table
        for dataset in datasets
        for table in encoded_tables(
            dataset,
            store.info,
            config,
            workers=ray_config.workers,
            cpus_per_worker=cpus_per_worker,
            gpus_per_worker=ray_config.gpus_per_worker,
        )
    )
    bar = tqdm(
        total=total_rows,
        initial=sum(store.part_ids(i).len() for i in range(index)),
        desc=f"encoding on Ray ({ray_config.workers} x {cpus_per_worker:g} CPU)",
        unit="doc",
        disable=not config.progress,
    )
    try:
        with bar:
            for table in _stall_guarded(tables, ray_config.stall_timeout_s):
                bar.update(table.num_rows)
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


def _stall_guarded(items: Iterable[Any], timeout_s: float) -> Iterator[Any]:
    """Yield from `items`, consumed in a thread; fail if nothing arrives for `timeout_s`.

    Ray Data's iterator blocks without limit when its tasks cannot be scheduled, so the
    driver waits on a queue with a timeout instead of on the iterator itself.
    """
    finished = object()
    handoff: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def offer(item: Any) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def pump() -> None:
        try:
            for item in items:
                offer(item)
                if stop.is_set():
                    return
            offer(finished)
        except BaseException as exc:  # handed to the driver thread, which re-raises it
            offer(_Failure(exc))

    thread = threading.Thread(target=pump, name="ray-batches", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = handoff.get(timeout=timeout_s)
            except queue.Empty:
                raise IndexStoreError(
                    f"no rows encoded for {timeout_s:g} s: the Ray tasks are not running "
                    "(check the cluster's free CPUs and GPUs, e.g. `ray status`) or one batch "
                    "takes longer than that (raise --stall-timeout)"
                ) from None
            if item is finished:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()


@dataclass(frozen=True)
class _Failure:
    exc: BaseException


def _write_part(store: EmbeddingStore, index: int, table: pa.Table) -> None:
    """Write encoded rows as part `index`; rows of passages carry a list of vectors each."""
    column = table.column(schema.EMBEDDING)
    counts = None
    if store.info.chunked:
        counts = table.column(PASSAGE_COUNT).to_numpy().astype(np.int64)
        column = flatten_lists(column)
        table = table.drop_columns([PASSAGE_COUNT])
    frame = pl.from_arrow(table.drop_columns([schema.EMBEDDING]))
    store.write_part(index, frame, vectors_of(column, store.info.dimension), counts)


def _finished_prefix(store: EmbeddingStore) -> tuple[int, frozenset[str]]:
    """Parts 0..n-1 already written by an interrupted build, and the ids they hold."""
    count = 0
    ids: set[str] = set()
    while (stored := store.part_ids(count)) is not None:
        ids.update(stored.to_list())
        count += 1
    return count, frozenset(ids)


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
def _data_context() -> Iterator[None]:
    """Preserve row order (parts match a local build); the driver draws the one progress bar
    (rows encoded, rows/s) instead of Ray Data's per-operator bars."""
    from ray.data import DataContext

    context = DataContext.get_current()
    saved = (context.execution_options.preserve_order, context.enable_progress_bars)
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    try:
        yield
    finally:
        context.execution_options.preserve_order, context.enable_progress_bars = saved
