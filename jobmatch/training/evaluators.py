"""Held-out evaluators for the sentence-transformers Trainer, with jobmatch's metrics.

`AlignmentEvaluator` reports the share of held-out preference pairs a model orders as the
judge did (stage 2). `RankingEvaluator`, below:

The library's InformationRetrievalEvaluator uses binary relevance; our labels are graded, so
this evaluator ranks a candidate pool by cosine similarity and reports graded nDCG@k (the
checkpoint-selection metric), Recall@k, MRR@k and MAP@k from `jobmatch.metrics`. Encoding a
whole corpus at every evaluation is too slow on a CPU, so the pool is every candidate judged
for a held-out job plus a seeded random sample of the rest: numbers are estimates, and the
final `jobmatch evaluate` runs against a full index.

For cross-encoders: `RerankingEvaluator` reranks the retriever's top list of each held-out job
with the model and reports the same graded metrics, beside the retriever's own on the same
lists; `PairMSEEvaluator` reports the Korean matcher's validation MSE for a BCE-trained one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import torch
from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator

from jobmatch import schema
from jobmatch.evaluation import qrels_mapping
from jobmatch.losses.rankpo import reference_scores
from jobmatch.metrics import PAPER_POOL_SIZE, alignment, evaluate_run, rank_by_scores


def primary_metric(evaluator: Any) -> str:
    """The evaluator's primary metric as logged (`eval_heldout_ndcg@20`); sentence-transformers
    prefixes `primary_metric` with the evaluator's name on its first call."""
    name, metric = evaluator.name, evaluator.primary_metric
    return f"eval_{metric}" if metric.startswith(f"{name}_") else f"eval_{name}_{metric}"


class RankingEvaluator(SentenceEvaluator):
    """Graded retrieval metrics of held-out jobs over a candidate pool.

    Args:
        jobs: held-out jobs (job_id, text).
        candidates: candidates (candidate_id, text); judged ones are always in the pool.
        qrels: graded labels (job_id, candidate_id, relevance).
        k: metric cut-off.
        pool_size: total pool size (judged candidates + random others).
        name: prefix of the metric names, e.g. "heldout" -> "heldout_ndcg@20".
    """

    def __init__(
        self,
        jobs: pl.DataFrame,
        candidates: pl.DataFrame,
        qrels: pl.DataFrame,
        *,
        k: int = 20,
        pool_size: int = 2000,
        name: str = "heldout",
        batch_size: int = 64,
        seed: int = 0,
    ) -> None:
        super().__init__()
        qrels = qrels.filter(pl.col(schema.JOB_ID).is_in(jobs[schema.JOB_ID].implode()))
        judged = set(qrels[schema.CANDIDATE_ID].to_list())
        is_judged = candidates[schema.CANDIDATE_ID].is_in(list(judged))
        others = candidates.filter(~is_judged)
        extra = max(0, min(pool_size - int(is_judged.sum()), others.height))
        pool = pl.concat([candidates.filter(is_judged), others.sample(extra, seed=seed)])
        self.job_ids = jobs[schema.JOB_ID].to_list()
        self.job_texts = jobs[schema.TEXT].to_list()
        self.pool_ids = pool[schema.CANDIDATE_ID].to_list()
        self.pool_texts = pool[schema.TEXT].to_list()
        self.judgments = qrels_mapping(qrels)
        self.k = k
        self.name = name
        self.batch_size = batch_size
        self.primary_metric = f"ndcg@{k}"

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        corpus = model.encode(
            self.pool_texts, batch_size=self.batch_size, normalize_embeddings=True
        )
        queries = model.encode(
            self.job_texts, batch_size=self.batch_size, normalize_embeddings=True
        )
        scores = np.asarray(queries) @ np.asarray(corpus).T
        depth = min(max(self.k, PAPER_POOL_SIZE), scores.shape[1])
        top = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
        run = {
            job: [self.pool_ids[i] for i in ranked]
            for job, ranked in zip(self.job_ids, top, strict=True)
        }
        report = evaluate_run(run, self.judgments, k=self.k).as_dict()
        metrics = {key: float(value) for key, value in report.items() if "@" in key}
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics


class AlignmentEvaluator(SentenceEvaluator):
    """Share of held-out preference pairs with s(query, chosen) > s(query, rejected)."""

    def __init__(
        self,
        queries: list[str],
        chosen: list[str],
        rejected: list[str],
        *,
        name: str = "heldout",
        batch_size: int = 64,
    ) -> None:
        super().__init__()
        self.queries, self.chosen, self.rejected = queries, chosen, rejected
        self.name = name
        self.batch_size = batch_size
        self.primary_metric = "alignment"

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        scores = reference_scores(
            model, self.queries, self.chosen, self.rejected, batch_size=self.batch_size
        )
        metrics = {"alignment": alignment(scores[:, 0], scores[:, 1])}
        return self.prefix_name_to_metrics(metrics, self.name)


class RerankingEvaluator(SentenceEvaluator):
    """Graded metrics of held-out jobs after a cross-encoder reranks the retriever's top lists.

    The lists are fixed once (`runs`, e.g. `jobmatch.training.reranker.retriever_run`), so an
    evaluation costs one `model.predict` over jobs x depth pairs and measures what reranking
    adds: a relevant candidate the retriever missed stays missed, as at query time, while the
    ideal DCG still counts every judged relevant candidate. The retriever's own figures on the
    same lists are computed once and reported beside the reranked ones as `retriever_*`.

    Args:
        jobs: held-out jobs (job_id, text); jobs without a relevant candidate are skipped.
        candidates: candidates (candidate_id, text).
        qrels: graded labels (job_id, candidate_id, relevance).
        runs: job_id -> the retriever's candidate ids, best first, as deep as to rerank.
        k: metric cut-off.
        name: prefix of the metric names, e.g. "heldout" -> "heldout_ndcg@20".
        batch_size: pairs per `model.predict` batch.
    """

    def __init__(
        self,
        jobs: pl.DataFrame,
        candidates: pl.DataFrame,
        qrels: pl.DataFrame,
        runs: dict[str, list[str]],
        *,
        k: int = 20,
        name: str = "heldout",
        batch_size: int = 64,
    ) -> None:
        super().__init__()
        self.judgments = qrels_mapping(
            qrels.filter(pl.col(schema.JOB_ID).is_in(jobs[schema.JOB_ID].implode()))
        )
        text = dict(candidates.select(schema.CANDIDATE_ID, schema.TEXT).iter_rows())
        job_text = dict(jobs.select(schema.JOB_ID, schema.TEXT).iter_rows())
        relevant = {job for job, grades in self.judgments.items() if max(grades.values()) > 0}
        self.runs = {job: list(runs.get(job, ())) for job in job_text if job in relevant}
        self.pairs = [(job_text[job], text[c]) for job, ranked in self.runs.items() for c in ranked]
        self.k = k
        self.name = name
        self.batch_size = batch_size
        self.primary_metric = f"ndcg@{k}"
        self.retriever = self.metrics(self.runs)
        """The retriever's own metrics on the lists, unprefixed (`ndcg@20`, ...)."""

    def metrics(self, run: dict[str, list[str]]) -> dict[str, float]:
        """Graded nDCG@k, Recall@k, MRR@k and MAP@k of a run over the held-out jobs."""
        report = evaluate_run(run, self.judgments, k=self.k).as_dict()
        names = (f"ndcg@{self.k}", f"recall@{self.k}", f"mrr@{self.k}", f"map@{self.k}")
        return {name: float(report[name]) for name in names}

    def rerank(self, model: Any) -> dict[str, list[str]]:
        """Each job's list ordered by the model's scores (ties by id, deterministically)."""
        scores = np.asarray(
            model.predict(self.pairs, batch_size=self.batch_size, show_progress_bar=False),
            dtype=np.float64,
        ).reshape(-1)
        run, start = {}, 0
        for job, ranked in self.runs.items():
            run[job] = rank_by_scores(ranked, scores[start : start + len(ranked)])
            start += len(ranked)
        return run

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        metrics = self.metrics(self.rerank(model))
        metrics.update({f"retriever_{key}": value for key, value in self.retriever.items()})
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics


class PairMSEEvaluator(SentenceEvaluator):
    """Mean squared error of sigmoid(cross-encoder score) against [0, 1] pair labels: the
    figure the Korean matcher reports, and what the bi-encoder's validation loss measures,
    for a model that trains on BCE instead."""

    def __init__(
        self,
        first: list[str],
        second: list[str],
        labels: list[float],
        *,
        name: str = "validation",
        batch_size: int = 64,
    ) -> None:
        super().__init__()
        self.pairs = list(zip(first, second, strict=True))
        self.labels = np.asarray(labels, dtype=np.float64)
        self.name = name
        self.batch_size = batch_size
        self.primary_metric = "mse"
        self.greater_is_better = False

    def mse(self, model: Any) -> float:
        scores = model.predict(
            self.pairs,
            batch_size=self.batch_size,
            activation_fn=torch.nn.Sigmoid(),
            show_progress_bar=False,
        )
        return float(np.mean((np.asarray(scores, dtype=np.float64) - self.labels) ** 2))

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        return self.prefix_name_to_metrics({"mse": self.mse(model)}, self.name)
