"""Long documents: truncation (`--chunking none`) against passages with each aggregate.

Usage:
    python benchmarks/long_documents.py              # bundled MiniLM, 2,000 candidates x 200 jobs
    python benchmarks/long_documents.py --candidates 500 --jobs 20 --long-chunks 256

For each corpus (`synth --long`: résumés of 1,000-2,000 tokens with the graded facts spread
through the text; and the normal short synthetic corpus of the same seed, whose structured
fields, jobs and rule labels are the same) the candidates are indexed once per chunking:
`none` (the model truncates at its max_seq_length, 256 tokens for MiniLM) and `passages` of
each `--*-chunks` size (overlap `--overlap-share` of it). Each passages index is queried with
every aggregate (first, max, mean, first+max), so one build serves four rows. Per row:
nDCG@20 and Recall@20 of the jobs against the default rules' graded labels
(`jobmatch.evaluation.evaluate_run` on `model_run`, exact Flat search), the paired difference
in nDCG@20 with truncation on the same jobs (mean, bootstrap 95% interval, jobs better and
worse), index bytes (index.faiss plus the
passage map), build docs/s (encoding included; candidates per second), and query p50: one job
at a time through `jobmatch.search.search` (encode + search + metadata), and the search alone
on pre-encoded queries. Offline extras, from the stored passage vectors of each passages
index: first+max with other weights, and the normalised mean of the passage vectors.

Writes benchmarks/results/long_documents.json; `python benchmarks/report.py` renders the
README table from it.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    RESULTS,
    CpuMeter,
    config_command,
    config_dict,
    load_average,
    machine_info,
    package_versions,
    script_help,
    write_json,
)

AGGREGATES = ("first", "max", "mean", "first+max")
EXTRA_WEIGHTS = (0.25, 0.75)
"""first+max weights of the opening passage tried offline (the option uses 0.5)."""


@dataclass
class Config:
    model: str = field(default="bundled:all-MiniLM-L6-v2", metadata={"help": "model id/folder"})
    candidates: int = field(default=2000, metadata={"help": "synthetic candidates per corpus"})
    jobs: int = field(default=200, metadata={"help": "synthetic jobs (the queries)"})
    seed: int = field(default=0, metadata={"help": "corpus seed (both corpora)"})
    long_chunks: tuple[int, ...] = field(
        default=(256, 128), metadata={"help": "passage sizes (tokens) for the long corpus"}
    )
    short_chunks: tuple[int, ...] = field(
        default=(256, 64), metadata={"help": "passage sizes (tokens) for the short corpus"}
    )
    overlap_share: float = field(
        default=0.125, metadata={"help": "overlap as a share of the passage size (32 of 256)"}
    )
    batch_size: int = field(default=64, metadata={"help": "texts per forward pass"})
    k: int = field(default=20, metadata={"help": "cut-off of nDCG and Recall"})
    workdir: Path | None = field(default=None, metadata={"help": "keep the indexes here"})
    out: Path = field(default=RESULTS / "long_documents.json", metadata={"help": "JSON out"})

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_share < 0.5:
            raise ValueError(f"overlap_share must be in [0, 0.5), got {self.overlap_share}")


def main(config: Config) -> dict[str, Any]:
    from jobmatch.encoder import load_encoder

    encoder = load_encoder(config.model)
    report: dict[str, Any] = {
        "benchmark": "long_documents",
        "machine": machine_info(load_average_start=load_average()),
        "versions": package_versions("torch", "sentence-transformers", "faiss-cpu", "jobmatch"),
        "parameters": config_dict(config, exclude=("workdir", "out")),
        "model_max_seq_length": encoder.model.max_seq_length,
        "corpora": {},
        "rows": [],
        "extras": [],
    }
    workdir = Path(config.workdir or tempfile.mkdtemp(prefix="long-documents-"))
    try:
        for style, chunks in (("long", config.long_chunks), ("short", config.short_chunks)):
            candidates, jobs, qrels = corpus(config, style)
            report["corpora"][style] = corpus_stats(encoder, candidates)
            variants = [None, *chunks]
            baseline: dict[str, float] = {}
            for tokens in variants:
                rows, extras = run_variant(
                    encoder, config, style, tokens, candidates, jobs, qrels, workdir
                )
                for row in rows:
                    per_job = row.pop("per_job")
                    baseline = baseline or per_job
                    row["vs_none"] = paired(per_job, baseline)
                report["rows"] += rows
                report["extras"] += extras
                for row in rows:
                    print({k: row[k] for k in ("corpus", "chunking", "aggregate", "ndcg@20")})
                write_json(report, config.out)  # partial results survive a killed run
    finally:
        if config.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report["summary"] = summarise(report["rows"])
    report["machine"]["load_average_end"] = load_average()
    write_json(report, config.out)
    return report


def corpus(config: Config, style: str) -> tuple[Any, Any, Any]:
    """(candidates, jobs, qrels) of the seed: same fields, jobs and labels in both styles."""
    import polars as pl

    from jobmatch import rules
    from jobmatch.synth import generate_candidates, generate_jobs

    candidates = pl.from_arrow(
        generate_candidates(config.candidates, seed=config.seed, style=style)
    )
    jobs = pl.from_arrow(generate_jobs(config.jobs, seed=config.seed))
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rules.load_rules())))
    return candidates, jobs, qrels


def corpus_stats(encoder: Any, candidates: Any) -> dict[str, Any]:
    """Tokens per candidate and how often the graded city lies beyond the truncation."""
    tokenizer = encoder.model.tokenizer
    texts = candidates["text"].to_list()
    encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    lengths = np.array([len(ids) for ids in encoded["input_ids"]])
    limit = encoder.model.max_seq_length - tokenizer.num_special_tokens_to_add(pair=False)
    late = []
    for text, offsets, location in zip(
        texts, encoded["offset_mapping"], candidates["location"].to_list(), strict=True
    ):
        city = location.split(",")[0]
        if city == "Remote":
            continue
        cut = offsets[min(limit, len(offsets)) - 1][1]
        late.append(city not in text[:cut])
    return {
        "tokens_mean": round(float(lengths.mean()), 1),
        "tokens_min": int(lengths.min()),
        "tokens_max": int(lengths.max()),
        "city_beyond_truncation_share": round(float(np.mean(late)), 3),
    }


def run_variant(
    encoder: Any,
    config: Config,
    style: str,
    tokens: int | None,
    candidates: Any,
    jobs: Any,
    qrels: Any,
    workdir: Path,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Build one index (none, or passages of `tokens`), then score it with each aggregate."""
    from jobmatch.evaluation import model_run, qrels_mapping
    from jobmatch.index import BuildConfig, build_index, load_index
    from jobmatch.index.passages import Chunking
    from jobmatch.metrics import evaluate_run, ndcg_at_k

    chunking = Chunking()
    if tokens is not None:
        chunking = Chunking("passages", tokens, round(tokens * config.overlap_share))
    folder = workdir / f"{style}-{tokens or 'none'}"
    meter = CpuMeter()
    started = time.perf_counter()
    manifest = build_index(
        candidates, folder, encoder, BuildConfig(chunking=chunking, batch_size=config.batch_size)
    )
    build_s = time.perf_counter() - started
    build_others = meter.others_share()
    loaded = load_index(folder)
    index_bytes = sum(
        (folder / name).stat().st_size
        for name in manifest.data_files()
        if name != "metadata.parquet"
    )
    rows = []
    judgments = qrels_mapping(qrels)
    for aggregate in AGGREGATES if tokens is not None else (None,):
        run = model_run(loaded, encoder, jobs, depth=100, aggregate=aggregate)
        metrics = evaluate_run(run, judgments, k=config.k)
        per_job = {
            job: ndcg_at_k(run.get(job, []), judged, config.k)
            for job, judged in judgments.items()
            if any(grade > 0 for grade in judged.values())
        }
        latency = query_latency(loaded, encoder, jobs, config.k, aggregate)
        rows.append(
            {
                "corpus": style,
                "chunking": "none" if tokens is None else "passages",
                "chunk_tokens": manifest.chunk_tokens,
                "chunk_overlap": manifest.chunk_overlap,
                "aggregate": aggregate,
                f"ndcg@{config.k}": round(metrics.ndcg, 4),
                f"recall@{config.k}": round(metrics.recall, 4),
                "candidates": manifest.candidate_rows,
                "vectors": manifest.rows,
                "index_bytes": index_bytes,
                "build_seconds": round(build_s, 1),
                "build_docs_per_s": round(manifest.candidate_rows / build_s, 2),
                "build_others_cpu_share": build_others,
                **latency,
                "per_job": per_job,
            }
        )
    extras = offline_extras(loaded, encoder, jobs, qrels, config, style) if tokens else []
    return rows, extras


def query_latency(
    loaded: Any, encoder: Any, jobs: Any, k: int, aggregate: str | None
) -> dict[str, Any]:
    """p50 of one job at a time: the whole `search` (encode included) and the search alone."""
    from jobmatch.index import ann
    from jobmatch.index.passage_search import search_candidates
    from jobmatch.search import search

    whole, alone = [], []
    meter = CpuMeter()
    queries = encoder.encode(jobs["text"].to_list())
    for i in range(jobs.height):
        started = time.perf_counter()
        search(loaded, encoder, jobs.slice(i, 1), k=k, aggregate=aggregate)
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        if loaded.passages is None:
            ann.search(loaded.index, queries[i : i + 1], k)
        else:
            search_candidates(
                loaded.index, loaded.passages, queries[i : i + 1], k, aggregate=aggregate
            )
        alone.append(time.perf_counter() - started)
    return {
        "query_p50_ms": round(statistics.median(whole) * 1000, 2),
        "search_p50_ms": round(statistics.median(alone) * 1000, 3),
        "query_others_cpu_share": meter.others_share(),
    }


def offline_extras(
    loaded: Any, encoder: Any, jobs: Any, qrels: Any, config: Config, style: str
) -> list[dict[str, Any]]:
    """nDCG of aggregates the option does not offer, from the stored passage vectors."""
    from jobmatch.evaluation import qrels_mapping
    from jobmatch.index.aggregate import aggregate_scores
    from jobmatch.index.faiss_ops import reconstruct
    from jobmatch.metrics import evaluate_run

    vectors = reconstruct(loaded.index, np.arange(loaded.rows))
    pmap = loaded.passages
    queries = encoder.encode(jobs["text"].to_list())
    ids = np.asarray(loaded.metadata["candidate_id"].to_list())
    judgments = qrels_mapping(qrels)
    scores = queries @ vectors.T  # [jobs, passages]
    means = np.zeros((loaded.candidates, vectors.shape[1]), dtype=np.float32)
    np.add.at(means, pmap.owners, vectors)
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    systems: dict[str, np.ndarray] = {"mean vector (normalised)": queries @ means.T}
    for weight in EXTRA_WEIGHTS:
        per_job = []
        for row in scores:
            _, first = aggregate_scores(row, pmap.owners, pmap.positions, "first")
            _, best = aggregate_scores(row, pmap.owners, pmap.positions, "max")
            per_job.append(weight * first + (1 - weight) * best)
        systems[f"first+max, first weight {weight:g}"] = np.stack(per_job)
    out = []
    for name, candidate_scores in systems.items():
        top = np.argsort(-candidate_scores, axis=1, kind="stable")[:, :100]
        run = {j: ids[t].tolist() for j, t in zip(jobs["job_id"].to_list(), top, strict=True)}
        metrics = evaluate_run(run, judgments, k=config.k)
        out.append(
            {
                "corpus": style,
                "chunk_tokens": loaded.manifest.chunk_tokens,
                "system": name,
                f"ndcg@{config.k}": round(metrics.ndcg, 4),
                f"recall@{config.k}": round(metrics.recall, 4),
            }
        )
    return out


def paired(per_job: dict[str, float], baseline: dict[str, float]) -> dict[str, Any]:
    """nDCG difference with truncation on the same jobs: mean, bootstrap 95% interval, and
    how many jobs got better or worse."""
    jobs = sorted(baseline)
    diff = np.array([per_job[j] - baseline[j] for j in jobs])
    rng = np.random.default_rng(0)
    means = diff[rng.integers(0, len(diff), size=(2000, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {
        "mean": round(float(diff.mean()), 4),
        "ci95": [round(float(low), 4), round(float(high), 4)],
        "better": int((diff > 1e-9).sum()),
        "worse": int((diff < -1e-9).sum()),
        "jobs": len(jobs),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per corpus: truncation's nDCG@20 and the best passages row against it."""
    summary = {}
    for style in sorted({r["corpus"] for r in rows}):
        mine = [r for r in rows if r["corpus"] == style]
        metric = next(key for key in mine[0] if key.startswith("ndcg@"))
        none = next(r for r in mine if r["chunking"] == "none")
        best = max((r for r in mine if r["chunking"] == "passages"), key=lambda r: r[metric])
        summary[style] = {
            "none": none[metric],
            "best_passages": f"{best['chunk_tokens']} tokens, {best['aggregate']}",
            "best_passages_ndcg": best[metric],
            "gain": round(best[metric] - none[metric], 4),
            "gain_ci95": best["vs_none"]["ci95"],
        }
    return summary


@config_command(Config, help=script_help(__doc__))
def cli(config: Config) -> None:
    main(config)


if __name__ == "__main__":
    cli()
