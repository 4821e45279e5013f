"""`jobmatch demo`: the pipeline end to end on a small synthetic corpus, offline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from jobmatch import io, rules, schema
from jobmatch.metrics import MetricsReport


@dataclass
class DemoResult:
    """What the demo made and measured; the CLI renders it."""

    paths: dict[str, Path]
    reports: dict[str, MetricsReport]
    example_job: dict
    example_hits: pl.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)


def run_demo(
    out_dir: Path,
    *,
    n_candidates: int = 2000,
    n_jobs: int = 50,
    seed: int = 0,
    model: str | None = None,
    k: int = 20,
    progress: bool = False,
    on_step: Callable[[str], None] = lambda message: None,
) -> DemoResult:
    """synth -> label -> index -> evaluate (model vs BM25) -> one explained query."""
    from jobmatch.encoder import load_encoder
    from jobmatch.evaluation import evaluate
    from jobmatch.index import BuildConfig, build_index, load_index
    from jobmatch.search import search
    from jobmatch.synth import write_corpus

    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now

    data_dir = out_dir / "data"
    on_step(f"1/5 synth: {n_candidates} candidates, {n_jobs} jobs (seed {seed}) -> {data_dir}")
    paths = write_corpus(data_dir, n_candidates=n_candidates, n_jobs=n_jobs, seed=seed)
    jobs = io.read_table(paths["jobs"], "jobs")
    candidates = io.read_table(paths["candidates"], "candidates")
    lap("synth")

    on_step("2/5 label: grading every (job, candidate) pair with the default rules")
    rule_set = rules.load_rules()
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rule_set)))
    paths["qrels"] = data_dir / "qrels.parquet"
    io.write_table(qrels, paths["qrels"])
    lap("label")

    paths["index"] = out_dir / "index"
    encoder = load_encoder(model)
    on_step(f"3/5 index: embedding candidates with {encoder.name} on {encoder.device}")
    build_index(candidates, paths["index"], encoder, BuildConfig(progress=progress))
    loaded = load_index(paths["index"], fingerprint=encoder.fingerprint)
    lap("index")

    on_step(f"4/5 evaluate: model vs BM25 on {jobs.height} jobs, k={k}")
    reports = evaluate(loaded, encoder, jobs, qrels, k=k, baselines=("bm25",), progress=progress)
    lap("evaluate")

    example = jobs.head(1)
    on_step(f"5/5 query: top 5 for job {example[schema.JOB_ID][0]} with explanations")
    hits = search(loaded, encoder, example, k=5, explain=rule_set)
    lap("query")
    return DemoResult(paths, reports, example.row(0, named=True), hits, seconds)
