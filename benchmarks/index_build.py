"""Streaming index builds: wall time and peak RSS at corpus sizes 10x apart.

Usage:
    python benchmarks/index_build.py                      # 10k/100k text, 100k/1M store, ~15 min
    python benchmarks/index_build.py --text-sizes 2000 20000 --store-sizes 100000

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

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
from _common import (
    RESULTS,
    config_command,
    config_dict,
    jobmatch_command,
    machine_info,
    offline_env,
    script_help,
    write_json,
)


@dataclass
class IndexBuildConfig:
    text_sizes: list[int] = field(
        default_factory=lambda: [10_000, 100_000],
        metadata={"help": "candidate counts of the builds from text"},
    )
    store_sizes: list[int] = field(
        default_factory=lambda: [100_000, 1_000_000],
        metadata={"help": "vector counts of the builds from an embedding store"},
    )
    store_factories: list[str] = field(
        default_factory=lambda: ["Flat", "IVF{nlist},Flat"],
        metadata={
            "help": "factories of the store builds; {nlist} becomes the IVF list count "
            "jobmatch's auto choice uses for that size"
        },
    )
    chunk_rows: int = field(default=8192, metadata={"help": "rows per chunk and store part"})
    workdir: Path | None = field(
        default=None,
        metadata={
            "help": "folder for the temporary data [default: the system's]",
            "type": click.Path(file_okay=False, path_type=Path),
        },
    )
    out: Path = field(default=RESULTS / "index_build.json", metadata={"help": "JSON path"})


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

    env = offline_env()
    results: dict = {
        "machine": machine_info(cpu_key="cpu"),
        "date": time.strftime("%Y-%m-%d"),
        "config": config_dict(config),
        "text_builds": [],
        "store_builds": [],
    }
    with tempfile.TemporaryDirectory(dir=config.workdir) as tmp:
        work = Path(tmp)
        model = build_tiny_model(work / "tiny")
        for n in config.text_sizes:
            data = write_corpus(work / f"text-{n}", n_candidates=n, n_jobs=1, seed=0)
            run = timed(
                jobmatch_command(
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
                ),
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
                    jobmatch_command(
                        "index",
                        "build",
                        "--embeddings",
                        str(store),
                        "--index",
                        str(work / f"idx-store-{n}-{factory}"),
                        "--factory",
                        factory,
                        "--no-progress",
                    ),
                    env,
                )
                vectors_mib = n * 384 * 4 / 2**20
                run.update(n=n, factory=factory, vectors_mib=round(vectors_mib, 1))
                results["store_builds"].append(run)
                print(f"store n={n} {factory}: {run}", flush=True)
    write_json(results, config.out)
    return results


@config_command(IndexBuildConfig, help=script_help(__doc__))
def cli(config: IndexBuildConfig) -> None:
    main(config)


if __name__ == "__main__":
    cli()
