"""Benchmark FAISS index factories at million scale: build time, size, QPS and recall@20.

Vectors are generated (jobmatch/testing.py: low-rank latent clusters projected to 384-d plus
noise), not encoded: a million real documents would take hours to embed on this machine. Per
factory the script records train/add time, serialised bytes per vector, single-query and
batched QPS and recall@k against exact (Flat) search, at `default_search_params` and over a
sweep of nprobe / efSearch / k_factor; it also measures this machine's sgemm rate and how
close exact batched search comes to it (work = 2·N·d flops per query).

Usage:
    python benchmarks/index_factories.py                 # 1M vectors, ~30-60 min on 2 cores
    python benchmarks/index_factories.py --n 50000 --out /tmp/f.json --plot /tmp/f.png
    python benchmarks/index_factories.py --factories Flat HNSW32 --single-queries 50

Writes benchmarks/results/index_factories.json (after every factory, so a partial run keeps
what it measured) and benchmarks/results/index_factories.png (recall@k vs batched QPS).
"""

from __future__ import annotations

import gc
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    RESULTS,
    CpuMeter,
    config_command,
    config_dict,
    cpu_flags,
    load_average,
    machine_info,
    memory_gib,
    script_help,
    wait_for_quiet,
    write_json,
)

DEFAULT_FACTORIES = (
    "Flat",
    "HNSW32",
    "IVF4096,Flat",
    "IVF4096_HNSW32,Flat",
    "IVF4096,PQ48x4fs",
    "IVF4096,PQ48x4fsr",
    "IVF4096,PQ48x4fsr,Refine(SQ8)",
    "IVF4096,PQ96x4fsr,Refine(SQ8)",
)
EF_SWEEP = (16, 32, 64, 128, 256)
NPROBE_SWEEP = (1, 2, 4, 8, 16, 32, 64, 128)
K_FACTOR_SWEEP = (1, 2, 4, 8, 16, 32, 64)
REPEATS = 3
"""Batched searches are timed this many times and the best kept: the machine is shared."""
NOTES = [
    "Vectors are generated, not model embeddings; see parameters.data.",
    "The machine may be shared: each timing carries other_processes_cpu_share (share of all "
    "cores used by other processes meanwhile) and waited_for_quiet_s. Under contention QPS and "
    "build times are lower bounds for an idle machine; recall and bytes/vector are unaffected.",
    "qps_batched: best of 3 searches of all queries in one call. qps_single: one pass over the "
    "first single_queries queries, one search call each.",
    "HNSW32 uses faiss's default efConstruction (40) and is built on all n vectors.",
    "IVF4096,PQ48x4fs (codes not residual to the coarse centroid) is measured to show why "
    "choose_factory uses PQ...x4fsr.",
    "faiss 1.15 takes its BLAS path only when nq*d >= 128000 (distance_compute_blas_threshold), "
    "i.e. >= 334 queries at d=384; faiss-cpu links its own OpenBLAS, numpy scipy-openblas, so the "
    "sgemm share compares two BLAS builds.",
]


@dataclass
class Config:
    """Benchmark parameters; each field is a command-line option."""

    n: int = field(default=1_000_000, metadata={"help": "database vectors"})
    queries: int = field(default=1_000, metadata={"help": "queries for batched QPS and recall"})
    single_queries: int = field(
        default=200, metadata={"help": "queries searched one at a time for single-query QPS"}
    )
    k: int = field(default=20, metadata={"help": "neighbours per query (recall@k)"})
    dimension: int = field(default=384, metadata={"help": "vector dimension"})
    rank: int = field(default=32, metadata={"help": "latent rank of the generated vectors"})
    noise: float = field(default=0.05, metadata={"help": "isotropic noise of the vectors"})
    factories: tuple[str, ...] = field(
        default=DEFAULT_FACTORIES, metadata={"help": "index_factory strings to measure"}
    )
    sweep: bool = field(default=True, metadata={"help": "also sweep nprobe/efSearch/k_factor"})
    seed: int = field(default=0, metadata={"help": "seed of the database sample"})
    resume: bool = field(
        default=False,
        metadata={"help": "keep the factories already in --out (same n, d, data) and run the rest"},
    )
    quiet_wait: int = field(
        default=180,
        metadata={"help": "seconds to wait, before each factory, for other processes to go idle"},
    )
    out: Path = field(default=RESULTS / "index_factories.json", metadata={"help": "JSON path"})
    plot: Path = field(default=RESULTS / "index_factories.png", metadata={"help": "PNG path"})

    def __post_init__(self) -> None:
        if self.n < 1 or self.queries < 1 or self.k < 1:
            raise ValueError("n, queries and k must be >= 1")
        if not 0 <= self.single_queries <= self.queries:
            raise ValueError("single_queries must be within 0..queries")
        if not self.factories:
            raise ValueError("give at least one factory")


def main(config: Config) -> dict[str, Any]:
    """Run every factory in turn and write the JSON report and the plot."""
    import faiss

    from jobmatch.index.factory import default_search_params, training_sample_size
    from jobmatch.testing import low_rank_vectors

    report: dict[str, Any] = {
        "benchmark": "index_factories",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {
            **config_dict(config, exclude=("out", "plot")),
            "data": "jobmatch/testing.py low_rank_vectors: 64 latent Gaussian clusters of rank "
            f"{config.rank}, decaying spectrum, orthonormal projection to d={config.dimension}, "
            f"isotropic noise {config.noise}, L2-normalised; queries use seed {config.seed + 1}",
            "metric": "inner product (cosine)",
            "threads": faiss.omp_get_max_threads(),
        },
        "notes": NOTES,
        "results": [],
    }
    print(f"generating {config.n:,} x {config.dimension} vectors", flush=True)
    started = time.perf_counter()
    xb = low_rank_vectors(
        config.n, config.dimension, rank=config.rank, noise=config.noise, seed=config.seed
    )
    xq = low_rank_vectors(
        config.queries, config.dimension, rank=config.rank, noise=config.noise, seed=config.seed + 1
    )
    report["parameters"]["generate_s"] = round(time.perf_counter() - started, 1)

    done = _resumable(config, report["parameters"]) if config.resume else []
    if done:
        report["results"] = done
        report["notes"] = [
            *NOTES,
            f"Resumed: rows of {[r['factory'] for r in done]} come from "
            "an earlier run on the same data; each row has its own CPU figures.",
        ]
    wait_for_quiet(config.quiet_wait)
    meter = CpuMeter()
    report["sgemm"] = measure_sgemm(xq, xb)
    print(f"sgemm {report['sgemm']['gflops']:.0f} GFLOP/s", flush=True)
    truth = exact_truth(xb, xq, config.k, report)
    report["exact_search"]["other_processes_cpu_share"] = meter.others_share()

    for factory in config.factories:
        if any(r["factory"] == factory for r in done):
            continue
        print(f"--- {factory}", flush=True)
        waited = wait_for_quiet(config.quiet_wait)
        meter = CpuMeter()
        result = measure_factory(
            factory,
            xb,
            xq,
            truth,
            config,
            training=training_sample_size(factory, config.n),
            params=default_search_params(factory),
        )
        result["waited_for_quiet_s"] = waited
        result["other_processes_cpu_share"] = meter.others_share()
        report["results"].append(result)
        print(json.dumps({k: v for k, v in result.items() if k != "sweep"}), flush=True)
        report["machine"]["load_average_end"] = load_average()
        write_json(report, config.out)
        gc.collect()
    plot(report, config.plot)
    return report


def _resumable(config: Config, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of an earlier report at `config.out` measured on the same data and queries."""
    if not config.out.exists():
        return []
    earlier = json.loads(config.out.read_text())
    same = ("n", "queries", "single_queries", "k", "dimension", "rank", "noise", "seed", "sweep")
    if any(earlier.get("parameters", {}).get(key) != parameters[key] for key in same):
        print(f"{config.out}: different parameters, not resuming", flush=True)
        return []
    return [r for r in earlier.get("results", []) if r["factory"] in config.factories]


def machine() -> dict[str, Any]:
    """CPU, memory and library versions: QPS figures mean nothing without them."""
    import faiss

    return machine_info(
        cpu_simd=cpu_flags(("avx2", "avx512f", "avx512_vnni", "fma")),
        memory_gib=memory_gib(),
        numpy=np.__version__,
        faiss=faiss.__version__,
        faiss_simd=faiss.get_compile_options(),
        openblas_env={k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
        load_average_start=load_average(),
    )


def measure_sgemm(xq: np.ndarray, xb: np.ndarray, *, repeats: int = REPEATS) -> dict[str, Any]:
    """Peak float32 matmul rate on the exact-search shape (queries x d) @ (d x database block).

    Like faiss, each block's product goes into one preallocated buffer (a fresh 1000 x 65536
    result costs page faults, not flops). Block sizes 1,024 (faiss's default) and 4,096 rows,
    best of `repeats`; the higher is the machine's sgemm rate. A square 2048³ product is
    recorded for reference.
    """
    rows = min(len(xb), 65_536)
    database = np.ascontiguousarray(xb[:rows])
    d = xq.shape[1]

    def best(product, flops: float) -> float:
        product()  # warm up the BLAS thread pool and the buffers
        rates = []
        for _ in range(repeats):
            started = time.perf_counter()
            product()
            rates.append(flops / (time.perf_counter() - started) / 1e9)
        return round(max(rates), 1)

    def blocked(block: int) -> float:
        out = np.empty((len(xq), block), dtype=np.float32)
        starts = range(0, rows - block + 1, block)  # whole blocks only
        flops = 2 * len(xq) * len(starts) * block * d

        def product() -> None:
            for i in starts:
                np.matmul(xq, database[i : i + block].T, out=out)

        return best(product, flops)

    rates = {f"gflops_{b}_row_blocks": blocked(b) for b in (1024, 4096) if b <= rows}
    square = np.ones((2048, 2048), dtype=np.float32)
    return {
        "shape": [len(xq), d, rows],
        "library": f"numpy {np.__version__} float32 matmul ({_blas_name()})",
        **rates,
        "gflops_square_2048": best(lambda: square @ square, 2 * 2048**3),
        "gflops": max(rates.values()),
    }


def _blas_name() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas['version']}"
    except Exception:  # show_config's layout is not a stable API
        return "unknown BLAS"


def exact_truth(xb: np.ndarray, xq: np.ndarray, k: int, report: dict[str, Any]) -> np.ndarray:
    """Exact top-k by batched Flat search; also its flop rate (best of 3) as a share of sgemm."""
    import faiss

    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    index.search(xq[:8], k)
    seconds = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        _, truth = index.search(xq, k)
        seconds.append(time.perf_counter() - started)
    seconds = min(seconds)
    gflops = 2 * len(xb) * xb.shape[1] * len(xq) / seconds / 1e9
    report["exact_search"] = {
        "seconds": round(seconds, 3),
        "gflops": round(gflops, 1),
        "share_of_sgemm": round(gflops / report["sgemm"]["gflops"], 3),
        "work": "2 * N * d flops per query",
    }
    print(f"exact search {gflops:.0f} GFLOP/s", flush=True)
    return truth


def measure_factory(
    factory: str,
    xb: np.ndarray,
    xq: np.ndarray,
    truth: np.ndarray,
    config: Config,
    *,
    training: int,
    params: dict[str, int],
) -> dict[str, Any]:
    """Build one index, then time it at its default parameters and over a parameter sweep."""
    import faiss

    index = faiss.index_factory(xb.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    cpu_started = time.process_time()
    started = time.perf_counter()
    if training:
        rng = np.random.default_rng(config.seed)
        index.train(xb[np.sort(rng.choice(len(xb), training, replace=False))])
    trained = time.perf_counter()
    index.add(xb)
    added = time.perf_counter()
    build_cpu = time.process_time() - cpu_started
    size = faiss.serialize_index(index).nbytes

    default = time_search(index, xq, truth, params, single=config.single_queries)
    result = {
        "factory": factory,
        "index_type": type(faiss.downcast_index(index)).__name__,
        "training_vectors": training,
        "train_s": round(trained - started, 2),
        "add_s": round(added - trained, 2),
        "build_s": round(added - started, 2),
        "build_cpu_s": round(build_cpu, 1),
        "bytes_per_vector": round(size / len(xb), 1),
        "default_params": params,
        "qps_single": default.get("qps_single"),
        "qps_batched": default["qps_batched"],
        f"recall_at_{config.k}": default[f"recall_at_{config.k}"],
        "sweep": [time_search(index, xq, truth, v) for v in sweep_values(params)]
        if config.sweep
        else [],
    }
    return result


def time_search(
    index: Any, xq: np.ndarray, truth: np.ndarray, values: dict[str, int], *, single: int = 0
) -> dict[str, Any]:
    """Batched QPS (best of 3) and recall at `values`; single-query QPS over `single` queries."""
    from jobmatch.index.factory import search_parameters

    k = truth.shape[1]
    params = search_parameters(index, values)
    index.search(xq[:8], k, params=params)
    seconds = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        _, found = index.search(xq, k, params=params)
        seconds.append(time.perf_counter() - began)
    row = {
        "params": values,
        "qps_batched": round(len(xq) / min(seconds), 1),
        f"recall_at_{k}": round(recall(found, truth), 4),
    }
    if single:
        began = time.perf_counter()
        for i in range(single):
            index.search(xq[i : i + 1], k, params=params)
        row["qps_single"] = round(single / (time.perf_counter() - began), 1)
    return row


def sweep_values(params: dict[str, int]) -> list[dict[str, int]]:
    """Parameter settings around the defaults: the recall-vs-QPS curve of one index."""
    if "efSearch" in params:
        return [{"efSearch": ef} for ef in EF_SWEEP]
    sweep: list[dict[str, int]] = []
    if "nprobe" in params:
        for nprobe in NPROBE_SWEEP:
            values = {**params, "nprobe": nprobe}
            if "quantizer_efSearch" in params:
                values["quantizer_efSearch"] = max(params["quantizer_efSearch"], 2 * nprobe)
            sweep.append(values)
    if "k_factor" in params:
        sweep += [{**params, "k_factor": kf} for kf in K_FACTOR_SWEEP if kf != params["k_factor"]]
    return sweep


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the exact top-k found in the returned top-k."""
    hits = [np.intersect1d(f, t).size for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / truth.shape[1]


def plot(report: dict[str, Any], path: Path) -> None:
    """Recall@k against batched QPS (log x), one curve per factory, defaults marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = report["parameters"]["k"]
    key = f"recall_at_{k}"
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for result in report["results"]:
        k_factor = result["default_params"].get("k_factor")
        curve = [row for row in result["sweep"] if row["params"].get("k_factor") == k_factor]
        points = [(row["qps_batched"], row[key]) for row in curve]  # in parameter order
        points = points or [(result["qps_batched"], result[key])]
        (line,) = ax.plot(*zip(*points, strict=True), marker=".", label=result["factory"])
        ax.scatter(result["qps_batched"], result[key], s=80, color=line.get_color(), zorder=3)
        nprobe = result["default_params"].get("nprobe")
        refine = [row for row in result["sweep"] if row["params"].get("k_factor") != k_factor]
        refine = [row for row in refine if row["params"].get("nprobe") == nprobe]
        if refine:  # the k_factor sweep at the default nprobe
            refine.append({**result, "params": result["default_params"]})
            refine.sort(key=lambda row: row["params"]["k_factor"])
            points = [(row["qps_batched"], row[key]) for row in refine]
            ax.plot(*zip(*points, strict=True), ls="--", marker="x", color=line.get_color())
    ax.set_xscale("log")
    ax.set_xlabel(f"batched QPS ({report['parameters']['queries']} queries at once)")
    ax.set_ylabel(f"recall@{k} vs exact search (dashed: k_factor sweep)")
    n = report["parameters"]["n"]
    ax.set_title(
        f"{n:,} generated {report['parameters']['dimension']}-d vectors, "
        f"{report['machine']['cores']} cores; large dot = default parameters",
        fontsize=10,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


@config_command(Config, help=script_help(__doc__))
def cli(config: Config) -> None:
    main(config)


if __name__ == "__main__":
    cli()
