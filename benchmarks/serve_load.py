"""Load run of `jobmatch serve`: latency percentiles and throughput of POST /match.

Usage:
    python benchmarks/serve_load.py                    # 2,000 requests, 8 concurrent, ~5 minutes
    python benchmarks/serve_load.py --index indexes/demo --requests 500
    python benchmarks/serve_load.py --requests 200 --model /path/to/tiny --out /tmp/load.json

Steps: unless --index is given, `jobmatch synth` writes a small synthetic corpus and
`jobmatch index build` indexes it with the model (default: the bundled all-MiniLM-L6-v2).
`jobmatch serve` then runs as its own process on a free port (access log off), and
`concurrency` asyncio clients (one httpx connection each) send `requests` POST /match calls
of one synthetic job text each, k=20, every `filter_every`-th with a metadata filter. Every
non-200 answer or transport error counts as an error. The clients share the machine with
the server, so on a 2-core machine they take part of its CPU; the JSON records the load
average before and after. Writes benchmarks/results/serve_load.json (or --out).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "serve_load.json"
_LISTENING = re.compile(r"Uvicorn running on http://([^:\s]+):(\d+)")


@dataclass
class LoadConfig:
    requests: int = 2000
    """Timed POST /match calls (after `warmup` untimed ones)."""
    concurrency: int = 8
    """Clients sending at the same time, one keep-alive connection each."""
    k: int = 20
    filter: str = "seniority>=2"
    filter_every: int = 4
    """Every n-th request carries `filter`; 0 means none do."""
    warmup: int = 20
    model: str | None = None
    """Model for the generated index; None means the bundled all-MiniLM-L6-v2."""
    index: str | None = None
    """Serve this index instead of generating one."""
    candidates: int = 2000
    jobs: int = 200
    """Synthetic jobs whose texts are the queries (cycled)."""
    seed: int = 0
    out: str = str(RESULTS)
    workdir: str | None = None
    startup_timeout: float = 300.0


def main(config: LoadConfig) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=config.workdir) as tmp:
        work = Path(tmp)
        setup_started = time.perf_counter()
        index = Path(config.index) if config.index else _build_index(config, work)
        texts = _query_texts(config, work)
        setup_seconds = time.perf_counter() - setup_started
        with _server(index, config, work) as (url, startup_seconds):
            load_before = list(os.getloadavg())
            run = asyncio.run(_load(url, texts, config))
            load_after = list(os.getloadavg())
            index_summary = _get_json(f"{url}/index")
    latencies = np.asarray(run.pop("latencies"))
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": _machine(),
        "parameters": {**asdict(config), "queries": len(texts)},
        "index": {
            key: index_summary[key] for key in ("model", "rows", "dimension", "factory", "path")
        },
        "requests": int(latencies.size),
        "errors": run["errors"],
        "error_examples": run["error_examples"],
        "seconds": round(run["seconds"], 3),
        "requests_per_second": round(latencies.size / run["seconds"], 1),
        "latency_ms": {
            name: round(float(np.percentile(latencies, q)) * 1000, 2)
            for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
        }
        | {"mean": round(float(latencies.mean()) * 1000, 2)},
        "server_startup_seconds": round(startup_seconds, 1),
        "setup_seconds": round(setup_seconds, 1),
        "load_average": {"before": load_before, "after": load_after},
    }
    out = Path(config.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return results


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "jobmatch", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def _build_index(config: LoadConfig, work: Path) -> Path:
    data, index = work / "data", work / "index"
    _synth(config, data)
    build = ["index", "build", "--input", str(data / "candidates.parquet"), "--index", str(index)]
    if config.model:
        build += ["--model", config.model]
    subprocess.run(_cli(*build, "--no-progress"), env=_env(), check=True)
    return index


def _synth(config: LoadConfig, data: Path) -> None:
    if (data / "jobs.parquet").is_file():
        return
    synth = ["synth", "--candidates", str(config.candidates), "--jobs", str(config.jobs)]
    synth += ["--seed", str(config.seed), "--out", str(data), "--no-progress"]
    subprocess.run(_cli(*synth), env=_env(), check=True, capture_output=True)


def _query_texts(config: LoadConfig, work: Path) -> list[str]:
    import polars as pl

    _synth(config, work / "data")
    return pl.read_parquet(work / "data" / "jobs.parquet")["text"].to_list()


class _server:
    """`jobmatch serve` on port 0 as a subprocess; yields (url, startup seconds)."""

    def __init__(self, index: Path, config: LoadConfig, work: Path) -> None:
        args = ["serve", "--index", str(index), "--port", "0", "--no-access-log"]
        args += ["--reload-interval", "0"]
        if config.model:
            args += ["--model", config.model]
        self.args = _cli(*args)
        self.timeout = config.startup_timeout
        self.log = work / "serve.log"

    def __enter__(self) -> tuple[str, float]:
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.args, env=_env(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        found: list[str] = []
        ready = threading.Event()

        def read() -> None:  # keep draining stderr so the server never blocks on it
            with open(self.log, "w") as log:
                for line in self.process.stderr:
                    log.write(line)
                    log.flush()
                    match = _LISTENING.search(line)
                    if match and not found:
                        found.append(f"http://{match[1]}:{match[2]}")
                        ready.set()
            ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        ready.wait(self.timeout)
        if not found:
            self.__exit__()
            raise RuntimeError(f"jobmatch serve did not start:\n{self.log.read_text()[-3000:]}")
        return found[0], time.perf_counter() - started

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(30)
        self.process.stderr.close()


async def _load(url: str, texts: list[str], config: LoadConfig) -> dict[str, Any]:
    import httpx

    def body(i: int) -> dict[str, Any]:
        request: dict[str, Any] = {"text": texts[i % len(texts)], "k": config.k}
        if config.filter_every and i % config.filter_every == 0:
            request["filters"] = [config.filter]
        return request

    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(config.requests))

    async def client(http: httpx.AsyncClient, timed: bool, todo) -> None:
        for i in todo:
            started = time.perf_counter()
            try:
                response = await http.post(f"{url}/match", json=body(i))
                ok = response.status_code == 200 and len(response.json()["results"]) == 1
                problem = None if ok else f"{response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if timed:
                latencies.append(time.perf_counter() - started)
                if problem:
                    errors.append(problem)

    limits = httpx.Limits(max_connections=config.concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120.0) as http:
        await client(http, False, range(config.warmup))
        started = time.perf_counter()
        await asyncio.gather(*(client(http, True, counter) for _ in range(config.concurrency)))
        seconds = time.perf_counter() - started
    return {
        "latencies": latencies,
        "seconds": seconds,
        "errors": len(errors),
        "error_examples": errors[:5],
    }


def _get_json(url: str) -> dict[str, Any]:
    import httpx

    return httpx.get(url, timeout=30).raise_for_status().json()


def _machine() -> dict[str, Any]:
    from importlib.metadata import version

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    packages = ("torch", "sentence-transformers", "faiss-cpu", "fastapi", "uvicorn", "httpx")
    versions = {}
    for name in packages:
        try:
            versions[name] = version(name)
        except Exception:
            versions[name] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "packages": versions,
    }


@click.command(help=__doc__)
@click.option("--requests", "n_requests", type=click.IntRange(min=1), default=2000)
@click.option("--concurrency", type=click.IntRange(min=1), default=8)
@click.option("--model", default=None, help="Model for the generated index (default: bundled).")
@click.option("--index", type=click.Path(file_okay=False, exists=True), default=None)
@click.option("--candidates", type=click.IntRange(min=10), default=2000)
@click.option("--out", type=click.Path(dir_okay=False), default=str(RESULTS))
def cli(
    n_requests: int,
    concurrency: int,
    model: str | None,
    index: str | None,
    candidates: int,
    out: str,
) -> None:
    config = LoadConfig(
        requests=n_requests,
        concurrency=concurrency,
        model=model,
        index=index,
        candidates=candidates,
        out=out,
    )
    results = main(config)
    shown = {k: results[k] for k in ("requests", "errors", "requests_per_second", "latency_ms")}
    print(json.dumps(shown, indent=2))


if __name__ == "__main__":
    cli()
