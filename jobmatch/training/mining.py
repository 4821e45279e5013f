"""Hard-negative mining with the current model (RankPO's three strategies), via FAISS.

For each job, the candidates ranked in a search range (say 0-100) by the current model are
the pool; every judged relevant candidate of the job is excluded (the reference code only
excluded the one sampled positive, which turns true matches into negatives). From the pool:
- topk: the best-ranked `num`;
- sample: `num` drawn uniformly;
- cluster: k-means over the pool's embeddings, then `num` drawn without replacement with
  weight decay**k for the k-th pool member (in rank order) of its cluster, so repeated
  clusters are down-weighted geometrically and negatives cover different kinds of mistakes.
Rounds chain: train, mine with the new model, train again.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.training.data import judged_by_job, positives_by_job, training_rows

if TYPE_CHECKING:
    from jobmatch.encoder import Encoder

Strategy = Literal["topk", "sample", "cluster"]
STRATEGIES: tuple[Strategy, ...] = ("topk", "sample", "cluster")


@dataclass(frozen=True)
class MiningConfig:
    """How to mine; fields mirror `jobmatch mine-negatives` options."""

    strategy: Strategy = "topk"
    range_start: int = 0
    """First rank (0-based) of the pool."""
    range_end: int = 100
    """Rank after the last one of the pool."""
    num: int = 10
    """Negatives per job."""
    clusters: int | None = None
    """k-means clusters for `cluster` (default: num)."""
    decay: float = 0.5
    """Geometric weight per earlier pool member of the same cluster (RankPO's lambda)."""
    positive_threshold: int = 1
    seed: int = 0
    batch_size: int = 64

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if not 0 <= self.range_start < self.range_end:
            raise ValueError(f"need 0 <= start < end, got {self.range_start}-{self.range_end}")
        if self.num < 1 or self.num > self.range_end - self.range_start:
            raise ValueError(f"num must be 1..{self.range_end - self.range_start}, got {self.num}")
        if not 0 < self.decay <= 1:
            raise ValueError(f"decay must be in (0, 1], got {self.decay}")


def parse_range(text: str) -> tuple[int, int]:
    """'0-100' -> (0, 100)."""
    try:
        start, end = (int(part) for part in text.split("-"))
    except ValueError as exc:
        raise ValueError(f"range must look like 0-100, got {text!r}") from exc
    return start, end


def mine_negatives(
    encoder: Encoder,
    jobs: pl.DataFrame,
    candidates: pl.DataFrame,
    qrels: pl.DataFrame,
    config: MiningConfig,
    *,
    corpus: np.ndarray | None = None,
    progress: bool = False,
) -> pl.DataFrame:
    """Training rows (job_id, positive_ids, negative_ids) with mined negatives.

    `corpus` may carry the candidates' embeddings by this encoder (row i = candidate i),
    e.g. read back from an index built with it, to skip encoding the corpus again.
    """
    import faiss

    positives = positives_by_job(qrels, threshold=config.positive_threshold)
    judged = judged_by_job(qrels)
    jobs = jobs.filter(pl.col(schema.JOB_ID).is_in(list(positives)))
    if corpus is None:
        corpus = encoder.encode(
            candidates[schema.TEXT].to_list(), batch_size=config.batch_size, progress=progress
        )
    queries = encoder.encode(jobs[schema.TEXT].to_list(), batch_size=config.batch_size)
    index = faiss.IndexFlatIP(corpus.shape[1])
    index.add(corpus)
    most_judged = max((len(judged.get(j, ())) for j in jobs[schema.JOB_ID]), default=0)
    depth = min(index.ntotal, config.range_end + most_judged)
    _, ranked = index.search(queries, depth)
    ids = candidates[schema.CANDIDATE_ID].to_numpy()
    rng = np.random.default_rng(config.seed)
    rows = []
    for job_id, order in zip(jobs[schema.JOB_ID].to_list(), ranked, strict=True):
        excluded = judged.get(job_id, set())
        allowed = [row for row in order if row >= 0 and ids[row] not in excluded]
        pool = allowed[config.range_start : config.range_end]
        if len(pool) < config.num:  # too many positives in range: extend past its end
            pool = allowed[config.range_start : config.range_start + config.num]
        chosen = pick(pool, corpus, config, rng)
        rows.append((job_id, positives[job_id], [str(ids[row]) for row in chosen]))
    return training_rows(rows)


def pick(
    pool: list[int], vectors: np.ndarray, config: MiningConfig, rng: np.random.Generator
) -> list[int]:
    """Choose `config.num` rows of a rank-ordered pool by the configured strategy."""
    num = min(config.num, len(pool))
    if config.strategy == "topk":
        return pool[:num]
    if config.strategy == "sample":
        return [pool[i] for i in sorted(rng.choice(len(pool), num, replace=False))]
    weights = cluster_weights(
        vectors[pool], config.clusters or config.num, config.decay, config.seed
    )
    chosen = rng.choice(len(pool), num, replace=False, p=weights)
    return [pool[i] for i in sorted(chosen)]


def cluster_weights(vectors: np.ndarray, clusters: int, decay: float, seed: int) -> np.ndarray:
    """Sampling weights decay**k, k = earlier pool members (rank order) in the same cluster."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    clusters = min(clusters, len(vectors))
    with warnings.catch_warnings():  # near-duplicate embeddings give fewer distinct clusters
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = KMeans(n_clusters=clusters, n_init=1, random_state=seed).fit(vectors).labels_
    seen = np.zeros(clusters, dtype=np.int64)
    weights = np.empty(len(vectors), dtype=np.float64)
    for i, label in enumerate(labels):
        weights[i] = decay ** seen[label]
        seen[label] += 1
    return weights / weights.sum()
