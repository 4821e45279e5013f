"""Draw candidate pairs for a judge from a stage-1 model's top-ranked candidates per job.

RankPO asks its AI judge about pairs drawn from the stage-1 model's top-100 for each query:
pairs there are the ones the model finds hard to order, so preferences on them teach what
stage 1 could not. Pairs are unordered and distinct within a job, drawn uniformly, and which
candidate is shown as A is a coin flip, so a judge's position bias cannot line up with rank.

Example:
    >>> pairs = draw_pairs(load_encoder("models/stage1"), jobs, candidates, pairs_per_job=20)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from jobmatch import schema
from jobmatch.training.judges import PairToJudge

if TYPE_CHECKING:
    from jobmatch.encoder import Encoder

DEFAULT_TOP = 100  # RankPO draws judge pairs from the stage-1 top-100


def draw_pairs(
    encoder: Encoder,
    jobs: pl.DataFrame,
    candidates: pl.DataFrame,
    *,
    pairs_per_job: int,
    top: int = DEFAULT_TOP,
    seed: int = 0,
    corpus: np.ndarray | None = None,
    progress: bool = False,
) -> list[PairToJudge]:
    """`pairs_per_job` distinct unordered pairs per job from its FAISS top-`top`, A/B shuffled.

    Args:
        encoder: the stage-1 model that ranks the candidates.
        jobs: jobs table (job_id, text).
        candidates: candidates table (candidate_id, text).
        pairs_per_job: pairs per job; fewer when a job's pool has fewer than that many pairs
            (only when the corpus has fewer than `top` candidates).
        top: pool size: the best `top` candidates of each job by inner product.
        seed: the same seed draws the same pairs in the same order.
        corpus: the candidates' embeddings by `encoder` (row i = candidate i), to skip
            encoding the corpus again.
        progress: show a progress bar while encoding the candidates.

    Returns:
        Pairs grouped by job, in the order of `jobs`.
    """
    import faiss

    if pairs_per_job < 1:
        raise ValueError(f"pairs_per_job must be at least 1, got {pairs_per_job}")
    if top < 2:
        raise ValueError(f"top must be at least 2 (a pair needs two candidates), got {top}")
    if corpus is None:
        corpus = encoder.encode(candidates[schema.TEXT].to_list(), progress=progress)
    if corpus.shape[0] != candidates.height:
        raise ValueError(f"corpus has {corpus.shape[0]} rows for {candidates.height} candidates")
    queries = encoder.encode(jobs[schema.TEXT].to_list())
    index = faiss.IndexFlatIP(corpus.shape[1])
    index.add(np.ascontiguousarray(corpus, dtype=np.float32))
    depth = min(top, index.ntotal)
    if depth < 2:
        return []
    _, ranked = index.search(queries, depth)

    candidate_ids = candidates[schema.CANDIDATE_ID].to_list()
    candidate_texts = candidates[schema.TEXT].to_list()
    first, second = np.triu_indices(depth, k=1)  # every unordered pair of pool positions
    count = min(pairs_per_job, len(first))
    rng = np.random.default_rng(seed)
    pairs = []
    for job_id, job_text, pool in zip(
        jobs[schema.JOB_ID].to_list(), jobs[schema.TEXT].to_list(), ranked, strict=True
    ):
        drawn = rng.choice(len(first), size=count, replace=False)
        swap = rng.random(count) < 0.5
        for k, swapped in zip(drawn.tolist(), swap.tolist(), strict=True):
            a, b = int(pool[first[k]]), int(pool[second[k]])
            if swapped:
                a, b = b, a
            pairs.append(
                PairToJudge(
                    job_id=job_id,
                    job_text=job_text,
                    a_id=candidate_ids[a],
                    a_text=candidate_texts[a],
                    b_id=candidate_ids[b],
                    b_text=candidate_texts[b],
                )
            )
    return pairs
