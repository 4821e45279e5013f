"""Streaming index builds: inputs -> embedding store -> trained FAISS index + metadata.

Two passes keep memory bounded whatever the corpus size: the first streams input chunks
through the encoder into the embedding store (resumable), the second trains the index on a
uniform sample of the store and adds the parts one by one while metadata.parquet is written
incrementally. Peak memory is the index itself plus one chunk and the training sample.

With `Chunking("passages")` each chunk's texts are cut into passages (`passages.py`) before
encoding: a chunk then costs its passages' vectors, and passages.parquet (the passage ->
candidate map) is written incrementally beside metadata.parquet.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from jobmatch import schema
from jobmatch.errors import IndexStoreError
from jobmatch.index import atomic, factory, faiss_ops, gpu
from jobmatch.index.embeddings import EmbeddingStore, StoreInfo
from jobmatch.index.manifest import METADATA_FILE, PASSAGES_FILE, Manifest
from jobmatch.index.passages import Chunking, PassageMap, encode_passages, resolve_for
from jobmatch.index.store import finish_folder
from jobmatch.io.batches import DEFAULT_CHUNK_ROWS, Chunk, iter_chunks, rechunk

if TYPE_CHECKING:
    from jobmatch.encoder import Encoder

AUTO = "auto"


@dataclass
class BuildConfig:
    """How to build an index; the CLI options map one to one onto these fields."""

    factory: str = AUTO
    """FAISS index_factory string, or "auto" to choose by corpus size (see factory.py)."""
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    """Rows per encoded chunk and embedding-store part (the unit of resumption)."""
    batch_size: int = 64
    """Texts per encoder forward pass."""
    save_embeddings: str | Path | None = None
    """Keep the embedding store here, a folder or filesystem URI such as s3://bucket/store
    (default: a temporary folder removed after the build)."""
    resume: bool = False
    """Reuse the finished parts of `save_embeddings` from an interrupted build."""
    id_col: str | None = None
    text_col: str | None = None
    memory_budget_bytes: int | None = None
    """Vector memory above which "auto" picks a compressed (PQ) index."""
    wait: bool = True
    """Wait for another writer's lock instead of failing."""
    progress: bool = False
    shards: int = 1
    """Split the index into this many shards over consecutive rows (searched together)."""
    chunking: Chunking = field(default_factory=Chunking)
    """One vector per candidate (truncated by the model) or one per passage (passages.py)."""

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise ValueError(f"shards must be at least 1, got {self.shards}")
        if self.chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {self.chunk_rows}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.resume and self.save_embeddings is None:
            raise IndexStoreError("--resume needs --save-embeddings DIR (where the parts are)")


def build_index(
    source: Sequence[str | Path] | pl.DataFrame,
    folder: str | Path,
    encoder: Encoder,
    config: BuildConfig | None = None,
    *,
    on_wait: Callable[[], None] | None = None,
) -> Manifest:
    """Encode candidates (files, folders, globs, or a validated frame) into an index folder."""
    config = config or BuildConfig()
    chunking = resolve_for(encoder, config.chunking)
    config = replace(config, chunking=chunking)
    info = StoreInfo(
        model=encoder.name,
        model_fingerprint=encoder.fingerprint,
        dimension=encoder.dimension,
        chunk_rows=config.chunk_rows,
        backend=encoder.backend,
        quantize=encoder.quantize,
        **chunking.fields(),
    )
    with atomic.writer_lock(folder, wait=config.wait, on_wait=on_wait):
        if isinstance(source, pl.DataFrame):
            chunks = rechunk(_slices(source, config.chunk_rows), chunk_rows=config.chunk_rows)
            total = source.height
        else:
            chunks = iter_chunks(
                source,
                "candidates",
                chunk_rows=config.chunk_rows,
                id_col=config.id_col,
                text_col=config.text_col,
            )
            total = _known_rows(source)
        with store_folder(config, folder) as store_dir:
            store = EmbeddingStore.create(store_dir, info, resume=config.resume)
            encode_into_store(chunks, store, encoder, config, total=total)
            return index_store(store, folder, config)


def build_from_embeddings(
    store_dir: str | Path,
    folder: str | Path,
    config: BuildConfig | None = None,
    *,
    on_wait: Callable[[], None] | None = None,
) -> Manifest:
    """Build an index (of any type) from a saved embedding store, without encoding.

    The store's chunking is the index's; `config.chunking` only gives its aggregate.
    """
    config = config or BuildConfig()
    store = EmbeddingStore.open(store_dir)
    if config.chunking.chunked and not store.info.chunked:
        raise IndexStoreError(
            f"{store.folder}: the store holds one vector per candidate (chunking none); "
            "passages are cut when encoding: build from --input with --chunking passages"
        )
    with atomic.writer_lock(folder, wait=config.wait, on_wait=on_wait):
        return index_store(store, folder, config)


def encode_into_store(
    chunks: Iterable[Chunk],
    store: EmbeddingStore,
    encoder: Encoder,
    config: BuildConfig,
    *,
    total: int | None,
) -> int:
    """Encode every chunk not already in the store; returns how many chunks were reused."""
    from tqdm.auto import tqdm

    reused = 0
    last = -1
    with tqdm(total=total, desc="encoding", unit="doc", disable=not config.progress) as bar:
        for chunk in chunks:
            last = chunk.index
            if store.has_part(chunk.index, chunk.frame[schema.CANDIDATE_ID]):
                reused += 1
            elif config.chunking.chunked:
                texts = chunk.frame[schema.TEXT].to_list()
                vectors, counts = encode_passages(
                    encoder, texts, config.chunking, batch_size=config.batch_size
                )
                store.write_part(chunk.index, chunk.frame, vectors, counts)
            else:
                texts = chunk.frame[schema.TEXT].to_list()
                store.write_part(
                    chunk.index, chunk.frame, encoder.encode(texts, batch_size=config.batch_size)
                )
            bar.update(chunk.frame.height)
    if last < 0:
        raise IndexStoreError("no candidates in the input")
    store.remove_parts_after(last)
    return reused


def index_store(store: EmbeddingStore, folder: str | Path, config: BuildConfig) -> Manifest:
    """Pass 2: train on a sample, add every part, write metadata, swap the folder in."""
    import pyarrow.parquet as pq
    from tqdm.auto import tqdm

    rows = store.vectors()
    if rows == 0:
        raise IndexStoreError(f"{store.folder}: the embedding store is empty")
    dimension = store.info.dimension
    factory_string = config.factory
    try:
        if factory_string == AUTO:
            factory_string = factory.choose_factory(
                rows, dimension, memory_budget_bytes=config.memory_budget_bytes
            )
        index = new_faiss_index(dimension, factory_string)
        sample_size = factory.training_sample_size(factory_string, rows)
    except ValueError as exc:
        raise IndexStoreError(str(exc)) from exc
    if not index.is_trained:
        train(index, store.sample(sample_size))
    if config.shards > rows:
        raise IndexStoreError(f"cannot split {rows} rows into {config.shards} shards")
    parts = [index] if config.shards == 1 else [clone(index) for _ in range(config.shards)]
    parts = [gpu.to_gpus(part) for part in parts]
    filler = faiss_ops.ShardFiller(parts, rows)  # one trained index, copied: same centroids
    with atomic.replace_folder(folder) as staging:
        writer = passage_writer = None
        candidates = 0
        with tqdm(total=rows, desc="indexing", unit="vec", disable=not config.progress) as bar:
            for frame, vectors, counts in store.iter_passage_parts():
                filler.add(vectors)
                table = frame.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(staging / METADATA_FILE, table.schema)
                writer.write_table(table.cast(writer.schema))
                if counts is not None:
                    part_map = PassageMap.from_counts(counts, first_candidate=candidates)
                    passages = part_map.to_frame().to_arrow()
                    if passage_writer is None:
                        passage_writer = pq.ParquetWriter(staging / PASSAGES_FILE, passages.schema)
                    passage_writer.write_table(passages)
                candidates += frame.height
                bar.update(len(vectors))
        writer.close()
        if passage_writer is not None:
            passage_writer.close()
        parts = [gpu.to_cpu(part) for part in parts]
        index = parts[0] if len(parts) == 1 else faiss_ops.combine(parts)
        manifest = Manifest(
            model=store.info.model,
            model_fingerprint=store.info.model_fingerprint,
            dimension=dimension,
            backend=store.info.backend,
            quantize=store.info.quantize,
            rows=int(index.ntotal),
            factory=factory_string,
            search_params=factory.default_search_params(factory_string),
            candidates=candidates,
            **manifest_chunking(store.info, config.chunking),
        )
        finish_folder(staging, index, manifest)
    return manifest


def manifest_chunking(info: StoreInfo, chunking: Chunking) -> dict[str, Any]:
    """The manifest's chunking fields: the store's chunking, `chunking`'s default aggregate."""
    if not info.chunked:
        return {}
    return {
        "chunking": info.chunking,
        "chunk_tokens": info.chunk_tokens,
        "chunk_overlap": info.chunk_overlap,
        "aggregate": chunking.aggregate,
    }


def clone(index: Any) -> Any:
    """A copy of a (trained, empty) index."""
    import faiss

    return faiss.clone_index(index)


def new_faiss_index(dimension: int, factory_string: str) -> Any:
    """An empty inner-product index from a FAISS index_factory string."""
    import faiss

    try:
        return faiss.index_factory(dimension, factory_string, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        raise IndexStoreError(f"invalid FAISS factory string {factory_string!r} {reason}") from exc


def train(index: Any, sample: Any) -> None:
    """Train IVF centroids / PQ codebooks on a sample, on the GPU when one is present."""
    try:
        index.train(sample)
    except RuntimeError as exc:
        lines = str(exc).strip().splitlines()
        raise IndexStoreError(
            f"training failed on {len(sample)} vectors: {lines[-1] if lines else exc}; "
            "choose a smaller index (fewer IVF lists) or --factory auto"
        ) from exc


def _slices(frame: pl.DataFrame, size: int) -> Iterable[pl.DataFrame]:
    for start in range(0, frame.height, size):
        yield frame.slice(start, size)


def _known_rows(paths: Sequence[str | Path]) -> int | None:
    """Total rows when every input is Parquet (cheap: footers only), else None."""
    import pyarrow.parquet as pq

    from jobmatch.io import format_of
    from jobmatch.io.batches import expand_inputs

    files = expand_inputs(paths)
    if any(format_of(f) != "parquet" for f in files):
        return None
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


@contextlib.contextmanager
def store_folder(config: BuildConfig, folder: str | Path) -> Iterator[str | Path]:
    """The configured embedding-store folder or URI, or a temporary one beside the index."""
    if config.save_embeddings is not None:
        yield config.save_embeddings
        return
    parent = Path(folder).absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{Path(folder).name}.embeddings-", dir=parent) as tmp:
        yield Path(tmp) / "store"
