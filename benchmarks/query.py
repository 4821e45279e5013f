"""Query latency and throughput on a large index, and `jobmatch --help` start time.

Usage:
    python benchmarks/query.py                      # 1M vectors, factory auto, bundled model
    python benchmarks/query.py --n 100000 --factory Flat --queries 100

The index holds generated 384-d low-rank vectors (jobmatch/testing.py) written to an
embedding store and built with `jobmatch index build --embeddings` (encoding 1M texts on two
cores would take hours and does not change search cost). Queries are real job texts from
`jobmatch synth`, encoded by the real model each time, so latency = encode + search + joining
metadata, as `jobmatch query` does it (minus process start and model load, reported apart).

Writes benchmarks/results/query.json: single-JD latency p50/p99 (encode and search split),
batch throughput, model/index load times and `jobmatch --help` wall time (best and median of
repeated runs in fresh processes).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import numpy as np
from _common import (
    RESULTS,
    jobmatch_command,
    load_average,
    machine_info,
    offline_env,
    script_help,
    write_json,
)
from index_build import write_store


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def help_seconds(repeats: int) -> dict[str, float]:
    """Wall time of `jobmatch --help` in fresh processes (Python start included)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(jobmatch_command("--help"), check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return {"best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3)}


def run(
    *,
    n: int,
    factory: str,
    model: str | None,
    queries: int,
    batch: int,
    k: int,
    help_repeats: int,
    workdir: Path,
) -> dict[str, Any]:
    from jobmatch.encoder import load_encoder
    from jobmatch.index import ann
    from jobmatch.search import open_index, search, text_jobs
    from jobmatch.synth import write_corpus

    started = time.perf_counter()
    encoder = load_encoder(model)
    model_load_s = time.perf_counter() - started
    store, index = workdir / "store", workdir / "index"
    started = time.perf_counter()
    write_store(store, n, 8192, encoder.dimension)
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(
        jobmatch_command("index", "build", "--embeddings", str(store), "--index", str(index),
                         "--factory", factory, "--no-progress"),
        check=True, env=offline_env(),
    )  # fmt: skip
    build_s = time.perf_counter() - started
    corpus = write_corpus(workdir / "jobs", n_candidates=10, n_jobs=max(queries, batch), seed=0)
    import polars as pl

    texts = pl.read_parquet(corpus["jobs"])["text"].to_list()

    started = time.perf_counter()
    encoder, loaded = open_index(index, encoder=encoder, allow_model_mismatch=True)
    index_load_s = time.perf_counter() - started

    search(loaded, encoder, text_jobs(texts[:2]), k=k)  # warm up threads and caches
    total, encode, lookup = [], [], []
    for text in texts[:queries]:
        started = time.perf_counter()
        vector = encoder.encode([text])
        encoded = time.perf_counter()
        ann.search(loaded.index, vector, k, params=loaded.manifest.search_params)
        searched = time.perf_counter()
        search(loaded, encoder, text_jobs([text]), k=k)
        total.append(time.perf_counter() - searched)
        encode.append(encoded - started)
        lookup.append(searched - encoded)
    jobs = text_jobs(texts[:batch])
    started = time.perf_counter()
    hits = search(loaded, encoder, jobs, k=k)
    batch_s = time.perf_counter() - started
    ms = 1000.0

    return {
        "index": {
            "n": n,
            "factory": factory,
            "index_type": type(loaded.index).__name__,
            "search_params": loaded.manifest.search_params,
            "generate_s": round(generate_s, 1),
            "build_s": round(build_s, 1),
            "load_s": round(index_load_s, 2),
        },
        "model": {"name": encoder.name, "load_s": round(model_load_s, 2)},
        "single": {
            "queries": len(total),
            "p50_ms": round(percentile(total, 50) * ms, 2),
            "p99_ms": round(percentile(total, 99) * ms, 2),
            "mean_ms": round(statistics.fmean(total) * ms, 2),
            "encode_p50_ms": round(percentile(encode, 50) * ms, 2),
            "search_p50_ms": round(percentile(lookup, 50) * ms, 2),
            "search_p99_ms": round(percentile(lookup, 99) * ms, 2),
        },
        "batch": {
            "queries": batch,
            "seconds": round(batch_s, 2),
            "queries_per_s": round(batch / batch_s, 1),
            "hits": hits.height,
        },
        "help": help_seconds(help_repeats),
    }


@click.command(help=script_help(__doc__))
@click.option("--n", type=int, default=1_000_000, show_default=True)
@click.option("--factory", default="auto", show_default=True)
@click.option("--model", default=None, help="Query model [default: the bundled MiniLM].")
@click.option("--queries", type=int, default=200, show_default=True, help="Single-JD runs.")
@click.option("--batch", type=int, default=1000, show_default=True, help="JDs in the batch run.")
@click.option("--k", type=int, default=20, show_default=True)
@click.option("--help-repeats", type=int, default=10, show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default=None)
@click.option(
    "--out", type=click.Path(dir_okay=False), default=str(RESULTS / "query.json"), show_default=True
)
def main(
    n: int,
    factory: str,
    model: str | None,
    queries: int,
    batch: int,
    k: int,
    help_repeats: int,
    workdir: str | None,
    out: str,
) -> None:
    import faiss
    import torch

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        figures = run(
            n=n, factory=factory, model=model, queries=queries, batch=batch, k=k,
            help_repeats=help_repeats, workdir=Path(tmp),
        )  # fmt: skip
    results = {
        "benchmark": "query",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(
            cpu_key=None,
            torch=torch.__version__,
            faiss=faiss.__version__,
            load_average=load_average(),
        ),
        "parameters": {"n": n, "factory": factory, "k": k, "queries": queries, "batch": batch},
        "notes": [
            "Index vectors are generated (jobmatch/testing.py); queries are synthetic job "
            "texts encoded by the real model, so hit identities are meaningless but the "
            "encode + search + metadata-join cost is real.",
            "single: one jobmatch.search.search call per job text (encode, FAISS search with "
            "the manifest's search parameters, metadata join), model and index already loaded; "
            "encode_* and search_* time the two parts alone on the same texts.",
            "help: `python -m jobmatch --help` in a fresh process, Python start included.",
        ],
        **figures,
    }
    write_json(results, out)
    click.echo(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
