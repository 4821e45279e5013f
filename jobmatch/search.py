"""Query pipeline: encode job texts, search the index, join metadata, explain each hit.

A chunked index (passage vectors) is searched for k distinct candidates, each scored by an
aggregate of its passages (`index/passage_search.py`); from there on a hit is a candidate
row, as in any index.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.encoder import Encoder, load_encoder
from jobmatch.errors import IndexStoreError, InputError
from jobmatch.index import LoadedIndex, ann, load_index, read_manifest
from jobmatch.index.aggregate import AGGREGATES, Aggregate
from jobmatch.index.filters import Filter, filter_mask
from jobmatch.index.passage_search import search_candidates
from jobmatch.index.passages import DEFAULT_AGGREGATE
from jobmatch.rules import RuleSet, explain_pair

_ROW = "_row"


def open_index(
    index_dir: str | Path,
    model: str | None = None,
    *,
    encoder: Encoder | None = None,
    allow_model_mismatch: bool = False,
) -> tuple[Encoder, LoadedIndex]:
    """Load the encoder (default: the index's own model) and the index, checked against it.

    Pass an already loaded `encoder` to (re)load only the index with that model.
    """
    manifest = read_manifest(index_dir)
    if encoder is None:
        encoder = load_encoder(model or manifest.model)
    if encoder.dimension != manifest.dimension:
        raise IndexStoreError(
            f"{index_dir}: index vectors are {manifest.dimension}-d but model {encoder.name!r} "
            f"makes {encoder.dimension}-d embeddings"
        )
    fingerprint = None if allow_model_mismatch else encoder.fingerprint
    return encoder, load_index(index_dir, fingerprint=fingerprint)


def text_jobs(texts: Sequence[str]) -> pl.DataFrame:
    """A jobs frame for bare job texts: job_id q1, q2, ... in the given order."""
    return pl.DataFrame(
        {schema.JOB_ID: [f"q{i + 1}" for i in range(len(texts))], schema.TEXT: list(texts)},
        schema={schema.JOB_ID: pl.String, schema.TEXT: pl.String},
    )


def retrieve(
    loaded: LoadedIndex,
    encoder: Encoder,
    texts: Sequence[str],
    *,
    k: int,
    params: dict[str, int] | None = None,
    filters: Sequence[Filter | str] = (),
    aggregate: Aggregate | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, metadata rows) per text; row -1 marks an empty slot.

    `params` (nprobe, efSearch) override the manifest's defaults; `filters` (ANDed) restrict
    the search to matching metadata rows inside FAISS. `aggregate` scores a candidate of a
    chunked index from its passages (default: the manifest's).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    aggregate = check_aggregate_for(loaded, aggregate)
    mask = filter_mask(loaded.metadata, filters) if filters else None
    queries = encoder.encode(texts, progress=progress)
    merged = {**loaded.manifest.search_params, **(params or {})}
    try:
        if loaded.passages is None:
            return ann.search(loaded.index, queries, k, params=merged, mask=mask)
        return search_candidates(
            loaded.index, loaded.passages, queries, k, aggregate=aggregate, params=merged, mask=mask
        )
    except ValueError as exc:  # a search parameter this index type does not have
        raise IndexStoreError(f"{loaded.path}: {exc}") from exc


def check_aggregate_for(loaded: LoadedIndex, aggregate: str | None) -> Aggregate:
    """The aggregate a query on `loaded` uses: the one asked for, else the manifest's.

    Raises:
        InputError: an aggregate asked of an index without passages, or an unknown one.
    """
    manifest = loaded.manifest
    if aggregate is None:
        return manifest.aggregate or DEFAULT_AGGREGATE  # type: ignore[return-value]
    if aggregate not in AGGREGATES:
        raise InputError(f"aggregate {aggregate!r} is not one of {', '.join(AGGREGATES)}")
    if not manifest.chunked:
        raise InputError(
            f"aggregate {aggregate!r} needs an index built with --chunking passages; "
            "this one has one vector per candidate (chunking none)",
            path=str(loaded.path),
        )
    return aggregate  # type: ignore[return-value]


def hits_frame(query_ids: Sequence[str], scores: np.ndarray, rows: np.ndarray) -> pl.DataFrame:
    """Long table of hits: job_id, rank (1-based), FAISS row, score; empty slots dropped."""
    n_queries, depth = rows.shape
    frame = pl.DataFrame(
        {
            schema.JOB_ID: np.repeat(np.asarray(query_ids, dtype=object), depth).astype(str),
            schema.RANK: np.tile(np.arange(1, depth + 1, dtype=np.int32), n_queries),
            _ROW: rows.reshape(-1),
            schema.SCORE: scores.reshape(-1).astype(np.float32),
        }
    )
    return frame.filter(pl.col(_ROW) >= 0)


def search(
    loaded: LoadedIndex,
    encoder: Encoder,
    jobs: pl.DataFrame,
    *,
    k: int = 20,
    params: dict[str, int] | None = None,
    filters: Sequence[Filter | str] = (),
    aggregate: Aggregate | None = None,
    explain: RuleSet | None = None,
    with_text: bool = False,
    progress: bool = False,
) -> pl.DataFrame:
    """One row per (job_id, rank, candidate_id, score) plus candidate metadata columns.

    `jobs` needs job_id and text; with `explain` set, jobs that carry structured fields get
    a rule explanation per hit (others get null). A chunked index gives one row per distinct
    candidate, scored by `aggregate` (default: the manifest's).
    """
    texts = jobs[schema.TEXT].to_list()
    scores, rows = retrieve(
        loaded,
        encoder,
        texts,
        k=k,
        params=params,
        filters=filters,
        aggregate=aggregate,
        progress=progress,
    )
    hits = hits_frame(jobs[schema.JOB_ID].to_list(), scores, rows)
    hidden = [c for c in loaded.metadata.columns if c.startswith(schema.HIDDEN_PREFIX)]
    dropped = [*hidden, schema.CONTENT_HASH, *([] if with_text else [schema.TEXT])]
    # gather the hit rows only: a join would touch every metadata row on each query
    metadata = loaded.metadata.drop(dropped, strict=False)
    result = pl.concat([hits, metadata[hits[_ROW].to_numpy()]], how="horizontal")
    if explain is not None:
        result = result.with_columns(
            pl.Series(schema.EXPLANATION, _explanations(result, jobs, explain), dtype=pl.String)
        )
    front = [schema.JOB_ID, schema.RANK, schema.CANDIDATE_ID, schema.SCORE]
    return result.select(front + [c for c in result.columns if c not in front and c != _ROW])


def _explanations(hits: pl.DataFrame, jobs: pl.DataFrame, rules: RuleSet) -> list[str | None]:
    if not any(column in jobs.columns for column in rules.job_columns()):
        return [None] * hits.height
    by_id = {row[schema.JOB_ID]: row for row in jobs.iter_rows(named=True)}
    return [
        explain_pair(by_id[hit[schema.JOB_ID]], hit, rules) for hit in hits.iter_rows(named=True)
    ]
