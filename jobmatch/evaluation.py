"""Evaluate a model's index and lexical baselines on the same jobs against graded qrels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.baselines import bm25_run
from jobmatch.encoder import Encoder
from jobmatch.errors import InputError
from jobmatch.index import LoadedIndex
from jobmatch.index.aggregate import Aggregate
from jobmatch.metrics import PAPER_POOL_SIZE, MetricsReport, Qrels, Run, evaluate_run
from jobmatch.search import retrieve

Baseline = Literal["bm25"]


def qrels_mapping(qrels: pl.DataFrame) -> Qrels:
    """job_id -> candidate_id -> relevance, from a validated qrels table."""
    mapping: dict[str, dict[str, int]] = {}
    for job_id, candidate_id, relevance in qrels.select(
        schema.JOB_ID, schema.CANDIDATE_ID, schema.RELEVANCE
    ).iter_rows():
        mapping.setdefault(job_id, {})[candidate_id] = int(relevance)
    return mapping


def model_run(
    loaded: LoadedIndex,
    encoder: Encoder,
    jobs: pl.DataFrame,
    *,
    depth: int,
    aggregate: Aggregate | None = None,
    progress: bool = False,
) -> Run:
    """Ranked candidate ids per job from the dense index (distinct candidates when chunked)."""
    texts = jobs[schema.TEXT].to_list()
    _, rows = retrieve(loaded, encoder, texts, k=depth, aggregate=aggregate, progress=progress)
    ids = loaded.metadata[schema.CANDIDATE_ID].to_numpy()
    return {
        job_id: [str(ids[r]) for r in ranked if r >= 0]
        for job_id, ranked in zip(jobs[schema.JOB_ID].to_list(), rows, strict=True)
    }


def evaluate(
    loaded: LoadedIndex,
    encoder: Encoder,
    jobs: pl.DataFrame,
    qrels: pl.DataFrame,
    *,
    k: int = 20,
    baselines: Sequence[Baseline] = (),
    aggregate: Aggregate | None = None,
    qrels_path: str = "qrels",
    progress: bool = False,
) -> dict[str, MetricsReport]:
    """Metrics per system: the model first, then each baseline, on the jobs of `jobs`.

    Runs are retrieved PAPER_POOL_SIZE deep (at least k) so the paper nDCG variant sees the
    same top-100 pool as the RankPO code. Only qrels of jobs in `jobs` are used. `aggregate`
    scores the candidates of a chunked index (default: the manifest's).
    """
    judgments = qrels_mapping(qrels.filter(pl.col(schema.JOB_ID).is_in(jobs[schema.JOB_ID])))
    if not judgments:
        raise InputError("no qrels for any job of the jobs table", path=qrels_path)
    depth = max(k, PAPER_POOL_SIZE)
    run = model_run(loaded, encoder, jobs, depth=depth, aggregate=aggregate, progress=progress)
    reports = {encoder.name: evaluate_run(run, judgments, k=k)}
    for baseline in baselines:
        if baseline == "bm25":
            if schema.TEXT not in loaded.metadata.columns:
                raise InputError(
                    "index metadata has no text column for BM25", path=str(loaded.path)
                )
            run = bm25_run(
                loaded.metadata[schema.CANDIDATE_ID].to_list(),
                loaded.metadata[schema.TEXT].to_list(),
                jobs[schema.JOB_ID].to_list(),
                jobs[schema.TEXT].to_list(),
                k=depth,
            )
            reports["bm25"] = evaluate_run(run, judgments, k=k)
    return reports


def preference_alignment(
    loaded: LoadedIndex,
    encoder: Encoder,
    jobs: pl.DataFrame,
    preferences: pl.DataFrame,
    *,
    preferences_path: str = "preferences",
) -> tuple[float, int]:
    """(alignment, pairs): share of pairs of these jobs with s(job, chosen) > s(job, rejected).

    Candidate texts come from the index metadata, so both ids must be indexed candidates.
    """
    from jobmatch.metrics import alignment

    pairs, s_chosen, s_rejected = preference_scores(
        loaded, encoder, jobs, preferences, preferences_path=preferences_path
    )
    return alignment(s_chosen, s_rejected), pairs.height


def preference_scores(
    loaded: LoadedIndex,
    encoder: Encoder,
    jobs: pl.DataFrame,
    preferences: pl.DataFrame,
    *,
    preferences_path: str = "preferences",
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """(pairs of these jobs, s(job, chosen), s(job, rejected)): cosine scores per pair."""
    pairs = preferences.filter(pl.col(schema.JOB_ID).is_in(jobs[schema.JOB_ID].implode()))
    if pairs.height == 0:
        raise InputError("no preference pairs for the jobs given", path=preferences_path)
    if schema.TEXT not in loaded.metadata.columns:
        raise InputError("index metadata has no text column", path=str(loaded.path))
    text = dict(loaded.metadata.select(schema.CANDIDATE_ID, schema.TEXT).iter_rows())
    job_text = dict(jobs.select(schema.JOB_ID, schema.TEXT).iter_rows())
    missing = [
        c
        for c in pairs[schema.CHOSEN].to_list() + pairs[schema.REJECTED].to_list()
        if c not in text
    ]
    if missing:
        raise InputError(f"candidate {missing[0]!r} is not in the index", path=preferences_path)
    queries = encoder.encode([job_text[j] for j in pairs[schema.JOB_ID]])
    chosen = encoder.encode([text[c] for c in pairs[schema.CHOSEN]])
    rejected = encoder.encode([text[c] for c in pairs[schema.REJECTED]])
    return pairs, (queries * chosen).sum(axis=1), (queries * rejected).sum(axis=1)


def index_and_evaluate(
    candidates: pl.DataFrame,
    folder: str | Path,
    model: str | None,
    jobs: pl.DataFrame,
    qrels: pl.DataFrame,
    *,
    name: str,
    k: int = 20,
    baselines: Sequence[Baseline] = (),
    progress: bool = False,
) -> tuple[Encoder, LoadedIndex, dict[str, dict]]:
    """Index `candidates` with `model` (exact Flat search) and evaluate it on `jobs`, as the
    training pipelines compare one system after another: the encoder, the loaded index and
    {name: metrics, baseline: metrics}."""
    from jobmatch.encoder import load_encoder
    from jobmatch.index import BuildConfig, build_index, load_index

    encoder = load_encoder(model)
    build_index(candidates, folder, encoder, BuildConfig(factory="Flat", progress=progress))
    loaded = load_index(folder, fingerprint=encoder.fingerprint)
    reports = evaluate(loaded, encoder, jobs, qrels, k=k, baselines=baselines)
    found = {
        (system if system in baselines else name): report.as_dict()
        for system, report in reports.items()
    }
    return encoder, loaded, found
