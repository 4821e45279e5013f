"""Streaming index builds: wall time and peak RSS at corpus sizes 10x apart.

Usage:
    python benchmarks/index_build.py                      # 10k/100k text, 100k/1M store, ~15 min
    python benchmarks/index_build.py --text-sizes 2000 --text-sizes 20000 --store-sizes 100000

Two kinds of build, each run as a separate `jobmatch index build` process whose own peak RSS
is recorded (through a small wrapper process, see RSS_WRAPPER):
- from text: synthetic candidates encoded by a tiny random BERT (2 layers, 32-d) built from
  a config, so encoding does not dominate; this measures streaming, validation, hashing,
  the embedding store and metadata writes;
- from an embedding store: generated low-rank 384-d vectors (jobmatch/testing.py) written
  as store parts, then `--embeddings` builds of Flat and IVF indexes; this shows memory is the
  index itself plus a bounded working set.
Writes benchmarks/results/index_build.json.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "index_build.json"


@dataclass
class IndexBuildConfig:
    text_sizes: list[int] = field(default_factory=lambda: [10_000, 100_000])
    store_sizes: list[int] = field(default_factory=lambda: [100_000, 1_000_000])
    store_factories: list[str] = field(default_factory=lambda: ["Flat", "IVF{nlist},Flat"])
    """`{nlist}` becomes the IVF list count jobmatch's auto choice uses for that size."""
    chunk_rows: int = 8192
    workdir: Path | None = None
    out: Path = RESULTS


RSS_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
    "sys.exit(code)"
)
"""Runs a command and writes its peak RSS (KiB). Linux keeps a process's max RSS across fork
and exec, so a child forked straight from this benchmark (hundreds of MiB of torch) would
report at least that; a small wrapper process in between reports the command's own peak."""


def timed(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run a command; wall seconds and that command's peak RSS in MiB."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "maxrss"
        result = subprocess.run(
            [sys.executable, "-c", RSS_WRAPPER, str(peak), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-2000:]}")
        rss_kib = int(peak.read_text())
    return {"seconds": round(wall, 2), "peak_rss_mib": round(rss_kib / 1024, 1)}


def write_store(folder: Path, n: int, chunk_rows: int, dimension: int = 384) -> None:
    """An embedding store of `n` generated vectors with ids and no other metadata."""
    import numpy as np
    import polars as pl

    from jobmatch.index.embeddings import EmbeddingStore, StoreInfo
    from jobmatch.testing import low_rank_vectors

    info = StoreInfo(
        model=f"generated:low-rank-{dimension}",
        model_fingerprint="generated",
        dimension=dimension,
        chunk_rows=chunk_rows,
    )
    store = EmbeddingStore.create(folder, info, resume=False)
    for part, start in enumerate(range(0, n, chunk_rows)):
        rows = min(chunk_rows, n - start)
        vectors = low_rank_vectors(rows, dimension, seed=10_000 + part)
        ids = pl.DataFrame({"candidate_id": [f"v{start + i:08d}" for i in range(rows)]})
        store.write_part(part, ids, np.ascontiguousarray(vectors))


def main(config: IndexBuildConfig) -> dict:
    from jobmatch.index.factory import ivf_nlist
    from jobmatch.synth import write_corpus
    from jobmatch.testing import build_tiny_model

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cli = [sys.executable, "-m", "jobmatch.cli"]
    results: dict = {
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d"),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        "text_builds": [],
        "store_builds": [],
    }
    with tempfile.TemporaryDirectory(dir=config.workdir) as tmp:
        work = Path(tmp)
        model = build_tiny_model(work / "tiny")
        for n in config.text_sizes:
            data = write_corpus(work / f"text-{n}", n_candidates=n, n_jobs=1, seed=0)
            run = timed(
                [
                    *cli,
                    "index",
                    "build",
                    "--input",
                    str(data["candidates"]),
                    "--index",
                    str(work / f"idx-text-{n}"),
                    "--model",
                    str(model),
                    "--factory",
                    "Flat",
                    "--chunk-rows",
                    str(config.chunk_rows),
                    "--no-progress",
                ],
                env,
            )
            run.update(n=n, docs_per_second=round(n / run["seconds"], 1))
            results["text_builds"].append(run)
            print(f"text n={n}: {run}", flush=True)
        for n in config.store_sizes:
            store = work / f"store-{n}"
            write_store(store, n, config.chunk_rows)
            for template in config.store_factories:
                factory = template.format(nlist=ivf_nlist(n))
                run = timed(
                    [
                        *cli,
                        "index",
                        "build",
                        "--embeddings",
                        str(store),
                        "--index",
                        str(work / f"idx-store-{n}-{factory}"),
                        "--factory",
                        factory,
                        "--no-progress",
                    ],
                    env,
                )
                vectors_mib = n * 384 * 4 / 2**20
                run.update(n=n, factory=factory, vectors_mib=round(vectors_mib, 1))
                results["store_builds"].append(run)
                print(f"store n={n} {factory}: {run}", flush=True)
    config.out.parent.mkdir(parents=True, exist_ok=True)
    config.out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


@click.command(help=__doc__)
@click.option("--text-sizes", type=int, multiple=True)
@click.option("--store-sizes", type=int, multiple=True)
@click.option("--store-factories", multiple=True, help="Factory templates ({nlist} allowed).")
@click.option("--chunk-rows", type=int, default=IndexBuildConfig.chunk_rows, show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default=None)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=RESULTS)
def cli(
    text_sizes: tuple[int, ...],
    store_sizes: tuple[int, ...],
    store_factories: tuple[str, ...],
    chunk_rows: int,
    workdir: str | None,
    out: Path,
) -> None:
    config = IndexBuildConfig(
        chunk_rows=chunk_rows, workdir=Path(workdir) if workdir else None, out=out
    )
    if text_sizes:
        config.text_sizes = list(text_sizes)
    if store_sizes:
        config.store_sizes = list(store_sizes)
    if store_factories:
        config.store_factories = list(store_factories)
    main(config)


if __name__ == "__main__":
    cli()
