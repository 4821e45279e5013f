"""Stage-1 training data from rule labels: held-out split, positives, random negatives.

A training row is one job with its positives (relevance >= a threshold) and negatives
(candidate ids). Rows are written as RankPO training JSONL (`query`, `positives`,
`negatives` as texts, plus the ids), which `jobmatch train contrastive --train` reads back
and the RankPO importer understands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from jobmatch import io, schema
from jobmatch.errors import InputError

QUERY = "query"
POSITIVES = "positives"
NEGATIVES = "negatives"
POSITIVE_IDS = "positive_ids"
NEGATIVE_IDS = "negative_ids"


def split_jobs(
    jobs: pl.DataFrame, *, held_out: int | float, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(training jobs, held-out jobs): a seeded split; a float is a share, an int a count."""
    count = round(jobs.height * held_out) if isinstance(held_out, float) else int(held_out)
    if not 0 <= count < jobs.height:
        raise ValueError(f"held_out must leave training jobs, got {held_out} of {jobs.height}")
    order = np.random.default_rng(seed).permutation(jobs.height)
    held = np.zeros(jobs.height, dtype=bool)
    held[order[:count]] = True
    mask = pl.Series(held)
    return jobs.filter(~mask), jobs.filter(mask)


def positives_by_job(qrels: pl.DataFrame, *, threshold: int = 1) -> dict[str, list[str]]:
    """Candidate ids with relevance >= threshold, per job, best grades first."""
    relevant = qrels.filter(pl.col(schema.RELEVANCE) >= threshold).sort(
        [schema.JOB_ID, schema.RELEVANCE, schema.CANDIDATE_ID], descending=[False, True, False]
    )
    grouped = relevant.group_by(schema.JOB_ID, maintain_order=True).agg(pl.col(schema.CANDIDATE_ID))
    return dict(
        zip(grouped[schema.JOB_ID].to_list(), grouped[schema.CANDIDATE_ID].to_list(), strict=True)
    )


def judged_by_job(qrels: pl.DataFrame) -> dict[str, set[str]]:
    """Every candidate with relevance > 0 per job: never usable as a negative."""
    grouped = (
        qrels.filter(pl.col(schema.RELEVANCE) > 0)
        .group_by(schema.JOB_ID)
        .agg(pl.col(schema.CANDIDATE_ID))
    )
    return {job: set(ids) for job, ids in grouped.iter_rows()}


def random_negatives(
    jobs: pl.DataFrame,
    candidates: pl.DataFrame,
    qrels: pl.DataFrame,
    *,
    num: int,
    positive_threshold: int = 1,
    seed: int = 0,
) -> pl.DataFrame:
    """Training rows (job_id, positive_ids, negative_ids) with uniformly random negatives.

    Jobs without positives are dropped. Negatives exclude every judged relevant candidate.
    """
    rng = np.random.default_rng(seed)
    positives = positives_by_job(qrels, threshold=positive_threshold)
    judged = judged_by_job(qrels)
    ids = candidates[schema.CANDIDATE_ID].to_numpy()
    rows = []
    for job_id in jobs[schema.JOB_ID].to_list():
        if job_id not in positives:
            continue
        excluded = judged.get(job_id, set())
        picked: list[str] = []
        attempts = 0
        while len(picked) < num and attempts < 20:
            draw = ids[rng.integers(0, len(ids), size=num * 2)]
            picked += [c for c in draw if c not in excluded and c not in picked]
            attempts += 1
        rows.append((job_id, positives[job_id], picked[:num]))
    return training_rows(rows)


def training_rows(rows: list[tuple[str, list[str], list[str]]]) -> pl.DataFrame:
    """(job_id, positive_ids, negative_ids) tuples as a typed frame."""
    return pl.DataFrame(
        rows,
        schema={
            schema.JOB_ID: pl.String,
            POSITIVE_IDS: pl.List(pl.String),
            NEGATIVE_IDS: pl.List(pl.String),
        },
        orient="row",
    )


def write_training_jsonl(
    rows: pl.DataFrame, jobs: pl.DataFrame, candidates: pl.DataFrame, path: str | Path
) -> int:
    """Write rows as RankPO training JSONL with texts (and ids); returns rows written."""
    job_text = dict(jobs.select(schema.JOB_ID, schema.TEXT).iter_rows())
    text = dict(candidates.select(schema.CANDIDATE_ID, schema.TEXT).iter_rows())
    records = [
        {
            schema.JOB_ID: job_id,
            QUERY: job_text[job_id],
            POSITIVES: [text[c] for c in positive_ids],
            NEGATIVES: [text[c] for c in negative_ids],
            POSITIVE_IDS: positive_ids,
            NEGATIVE_IDS: negative_ids,
        }
        for job_id, positive_ids, negative_ids in rows.select(
            schema.JOB_ID, POSITIVE_IDS, NEGATIVE_IDS
        ).iter_rows()
    ]
    with io.atomic_path(path) as tmp:
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return len(records)


def read_training_jsonl(path: str | Path) -> list[dict]:
    """RankPO training rows: query text, positive texts, negative texts (validated)."""
    rows = []
    if not Path(path).is_file():
        raise InputError("file not found", path=str(path))
    text = io.decode_text(Path(path).read_bytes(), str(path), csv_header=False)
    for line_no, record in io.json_objects(io.split_lines(text), str(path)):
        query = record.get(QUERY)
        if isinstance(query, dict):  # the RankPO repository nests texts as {"text": ...}
            query = query.get("text")
        if not isinstance(query, str) or not query.strip():
            raise InputError("missing or empty query", path=str(path), line=line_no, column=QUERY)
        lists = {}
        for key in (POSITIVES, NEGATIVES):
            value = record.get(key, [])
            if isinstance(value, dict):
                value = value.get("text", [])
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                raise InputError(
                    "expected a list of non-empty texts", path=str(path), line=line_no, column=key
                )
            lists[key] = value
        if not lists[POSITIVES]:
            raise InputError("no positives", path=str(path), line=line_no, column=POSITIVES)
        rows.append({QUERY: query, POSITIVES: lists[POSITIVES], NEGATIVES: lists[NEGATIVES]})
    if not rows:
        raise InputError("no training rows", path=str(path))
    return rows


def contrastive_examples(
    rows: Sequence[dict], *, negatives: int, max_positives: int = 4, seed: int = 0
) -> dict[str, list[str]]:
    """Columns anchor, positive, negative_1..negative_n for MultipleNegativesRankingLoss.

    Each row gives up to `max_positives` examples (one per positive); each example takes
    `negatives` of the row's negatives, rotating so different examples see different ones.
    Rows with fewer negatives than asked reuse them (sampled with replacement).
    """
    rng = np.random.default_rng(seed)
    columns: dict[str, list[str]] = {"anchor": [], "positive": []}
    for i in range(negatives):
        columns[f"negative_{i + 1}"] = []
    for row in rows:
        pool = list(row[NEGATIVES])
        if negatives and not pool:
            continue
        for j, positive in enumerate(row[POSITIVES][:max_positives]):
            columns["anchor"].append(row[QUERY])
            columns["positive"].append(positive)
            if negatives:
                order = rng.permutation(len(pool))
                chosen = [pool[order[(j * negatives + i) % len(pool)]] for i in range(negatives)]
                for i, text in enumerate(chosen):
                    columns[f"negative_{i + 1}"].append(text)
    return columns


def rows_with_texts(rows: pl.DataFrame, jobs: pl.DataFrame, candidates: pl.DataFrame) -> list[dict]:
    """Id-based training rows -> text rows, as `read_training_jsonl` returns them."""
    job_text = dict(jobs.select(schema.JOB_ID, schema.TEXT).iter_rows())
    text = dict(candidates.select(schema.CANDIDATE_ID, schema.TEXT).iter_rows())
    return [
        {
            QUERY: job_text[job_id],
            POSITIVES: [text[c] for c in positive_ids],
            NEGATIVES: [text[c] for c in negative_ids],
        }
        for job_id, positive_ids, negative_ids in rows.select(
            schema.JOB_ID, POSITIVE_IDS, NEGATIVE_IDS
        ).iter_rows()
    ]
