"""A cross-encoder reranker trained on graded rule labels with the retriever's hard negatives.

A cross-encoder reads a job and a candidate together and scores the pair, so it can weigh
what two separate vectors cannot; it is too slow for a corpus but affordable for the
retriever's top few dozen. It trains here on the sentence-transformers CrossEncoderTrainer:

- Start: any cross-encoder id or folder; by default the bundled MiniLM weights with a fresh
  one-logit score head, so training runs offline.
- Data: per training job, up to `max_positives` judged positives (a seeded sample, so lower
  grades are kept too) and `negatives` hard negatives sampled from ranks `mining_range` of
  the current retriever, with every judged positive excluded (`mining.mine_negatives`).
- Loss: `bce` scores each pair against relevance/3 (mined negatives 0) with
  BinaryCrossEntropyLoss; `lambda` ranks each job's list by its grades with LambdaLoss
  (NDCG-Loss2++ weighting, gains 2**grade - 1).
- Selection: the held-out jobs' retriever top-`eval_depth` lists, fixed once, are reranked at
  every evaluation (`evaluators.RerankingEvaluator`); the best checkpoint by graded nDCG@20
  is saved to `out`, which loads with `CrossEncoder(out)`. `resume` continues from the last
  checkpoint, on the same data when the inputs and seed are the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.encoder import BUNDLED_MODEL, resolve_model_path
from jobmatch.errors import ModelError
from jobmatch.evaluation import qrels_mapping
from jobmatch.training.config import RerankerConfig, RerankerLoss
from jobmatch.training.contrastive import best_checkpoint_arguments
from jobmatch.training.data import NEGATIVE_IDS, POSITIVE_IDS
from jobmatch.training.evaluators import RerankingEvaluator, primary_metric
from jobmatch.training.mining import MiningConfig, mine_negatives
from jobmatch.training.result import TrainResult

if TYPE_CHECKING:
    from sentence_transformers.cross_encoder import CrossEncoder

    from jobmatch.encoder import Encoder


@dataclass
class Group:
    """One training job: its text, candidate texts and their grades (mined negatives 0)."""

    query: str
    texts: list[str]
    grades: list[int]


@dataclass
class RerankerData:
    """What `train_reranker` takes, from one encoding of the corpus by the retriever."""

    examples: dict[str, list[Any]]
    """Dataset columns for the configured loss (`loss_columns`)."""
    jobs: int
    pairs: int
    evaluator: RerankingEvaluator | None


def load_cross_encoder(
    model: str | None = None, *, max_length: int | None = None, seed: int = 0
) -> CrossEncoder:
    """A one-logit CrossEncoder from an id or folder (default: the bundled MiniLM weights).

    A bi-encoder or a plain transformer gets a fresh score head, initialised from `seed`.
    """
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    name = model or BUNDLED_MODEL
    location = resolve_model_path(name)
    path = Path(location).expanduser()
    if location.startswith((".", "/", "~")) and not path.exists():
        raise ModelError(f"model folder not found: {location}")
    local = path.is_dir()
    torch.manual_seed(seed)
    try:
        return CrossEncoder(
            str(path) if local else location,
            num_labels=1,
            max_length=max_length,
            local_files_only=local,
        )
    except Exception as exc:  # sentence-transformers raises OSError, ValueError, HF errors...
        raise ModelError(f"cannot load model {name!r}: {str(exc).splitlines()[0]}") from exc


def retriever_run(
    retriever: Encoder,
    jobs: pl.DataFrame,
    candidates: pl.DataFrame,
    *,
    depth: int,
    corpus: np.ndarray | None = None,
) -> dict[str, list[str]]:
    """Each job's top-`depth` candidate ids by the retriever (exact inner-product search).

    `corpus` may carry the candidates' embeddings by this retriever (row i = candidate i).
    """
    import faiss

    if corpus is None:
        corpus = retriever.encode(candidates[schema.TEXT].to_list())
    queries = retriever.encode(jobs[schema.TEXT].to_list())
    index = faiss.IndexFlatIP(corpus.shape[1])
    index.add(corpus)
    _, ranked = index.search(queries, min(depth, index.ntotal))
    ids = candidates[schema.CANDIDATE_ID].to_list()
    return {
        job: [ids[row] for row in rows if row >= 0]
        for job, rows in zip(jobs[schema.JOB_ID].to_list(), ranked, strict=True)
    }


def graded_groups(
    rows: pl.DataFrame,
    jobs: pl.DataFrame,
    candidates: pl.DataFrame,
    qrels: pl.DataFrame,
    *,
    max_positives: int,
    seed: int = 0,
) -> list[Group]:
    """Training rows (job_id, positive_ids, negative_ids) -> texts with grades.

    A job with more positives than `max_positives` keeps a seeded sample of them rather than
    its best grades, so the model still sees what separates a 1 from a 3.
    """
    rng = np.random.default_rng(seed)
    grades = qrels_mapping(qrels)
    job_text = dict(jobs.select(schema.JOB_ID, schema.TEXT).iter_rows())
    text = dict(candidates.select(schema.CANDIDATE_ID, schema.TEXT).iter_rows())
    groups = []
    for job_id, positive_ids, negative_ids in rows.select(
        schema.JOB_ID, POSITIVE_IDS, NEGATIVE_IDS
    ).iter_rows():
        if len(positive_ids) > max_positives:
            keep = np.sort(rng.choice(len(positive_ids), max_positives, replace=False))
            positive_ids = [positive_ids[i] for i in keep]
        groups.append(
            Group(
                query=job_text[job_id],
                texts=[text[c] for c in positive_ids + negative_ids],
                grades=[grades[job_id][c] for c in positive_ids] + [0] * len(negative_ids),
            )
        )
    return groups


def loss_columns(groups: list[Group], loss: RerankerLoss) -> dict[str, list[Any]]:
    """Dataset columns: (query, passage, label = grade/3) pairs for `bce`, (query, docs,
    labels = grades) lists for `lambda`, the formats the library's losses read."""
    if loss == "bce":
        return {
            "query": [g.query for g in groups for _ in g.texts],
            "passage": [t for g in groups for t in g.texts],
            "label": [grade / schema.MAX_RELEVANCE for g in groups for grade in g.grades],
        }
    return {
        "query": [g.query for g in groups],
        "docs": [g.texts for g in groups],
        "labels": [[float(grade) for grade in g.grades] for g in groups],
    }


def prepare_reranker(
    config: RerankerConfig,
    train_jobs: pl.DataFrame,
    held_jobs: pl.DataFrame,
    candidates: pl.DataFrame,
    qrels: pl.DataFrame,
    retriever: Encoder,
    *,
    progress: bool = False,
) -> RerankerData:
    """Mine negatives for the training jobs and fix the held-out jobs' lists, encoding the
    corpus once; raises ValueError when no training job has a judged positive."""
    corpus = retriever.encode(candidates[schema.TEXT].to_list(), progress=progress)
    start, end = config.mining_range
    mining = MiningConfig(
        strategy="sample",
        range_start=start,
        range_end=end,
        num=config.negatives,
        seed=config.seed,
    )
    rows = mine_negatives(retriever, train_jobs, candidates, qrels, mining, corpus=corpus)
    if rows.height == 0:
        raise ValueError("no training job has a judged relevant candidate")
    groups = graded_groups(
        rows, train_jobs, candidates, qrels, max_positives=config.max_positives, seed=config.seed
    )
    evaluator = None
    if held_jobs.height:
        runs = retriever_run(
            retriever, held_jobs, candidates, depth=config.eval_depth, corpus=corpus
        )
        evaluator = RerankingEvaluator(held_jobs, candidates, qrels, runs)
    return RerankerData(
        examples=loss_columns(groups, config.loss),
        jobs=len(groups),
        pairs=sum(len(g.texts) for g in groups),
        evaluator=evaluator,
    )


def train_reranker(
    config: RerankerConfig,
    examples: dict[str, list[Any]],
    evaluator: RerankingEvaluator | None = None,
) -> TrainResult:
    """Train a cross-encoder on `loss_columns` output; save the best model to `out`."""
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
        losses,
    )

    if not examples.get("query"):
        raise ValueError("no training examples")
    model = load_cross_encoder(config.model, max_length=config.max_length, seed=config.seed)
    if config.loss == "bce":
        loss = losses.BinaryCrossEntropyLoss(model)
        batch_size, pairs = config.batch_size, len(examples["query"])
    else:
        loss = losses.LambdaLoss(model, mini_batch_size=config.batch_size)
        longest = max(len(docs) for docs in examples["docs"])
        batch_size = max(1, config.batch_size // longest)
        pairs = sum(len(docs) for docs in examples["docs"])
    args = CrossEncoderTrainingArguments(
        **best_checkpoint_arguments(config, evaluator, batch_size=batch_size)
    )
    trainer = CrossEncoderTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict(examples),
        loss=loss,
        evaluator=evaluator,
    )
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=config.resume or None)
    seconds = time.perf_counter() - started
    model.save(str(config.out))
    metric = primary_metric(evaluator) if evaluator else None
    history = [entry for entry in trainer.state.log_history if metric is None or metric in entry]
    return TrainResult(
        out=config.out,
        examples=round(pairs * config.epochs),
        steps=trainer.state.global_step,
        seconds=seconds,
        best_metric=trainer.state.best_metric,
        history=history,
    )
