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
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np
from _common import (
    RESULTS,
    config_command,
    config_dict,
    jobmatch_command,
    load_average,
    machine_info,
    offline_env,
    package_versions,
    script_help,
    write_json,
)

_LISTENING = re.compile(r"Uvicorn running on http://([^:\s]+):(\d+)")
PACKAGES = ("torch", "sentence-transformers", "faiss-cpu", "fastapi", "uvicorn", "httpx")


def _help(text: str, **extra: Any) -> dict[str, Any]:
    return {"help": text, **extra}


@dataclass
class LoadConfig:
    requests: int = field(
        default=2000,
        metadata=_help(
            "timed POST /match calls (after --warmup untimed ones)", type=click.IntRange(min=1)
        ),
    )
    concurrency: int = field(
        default=8,
        metadata=_help(
            "clients sending at the same time, one keep-alive connection each",
            type=click.IntRange(min=1),
        ),
    )
    k: int = field(default=20, metadata=_help("candidates per request"))
    filter: str = field(default="seniority>=2", metadata=_help("metadata filter of some requests"))
    filter_every: int = field(
        default=4, metadata=_help("every n-th request carries --filter; 0 means none do")
    )
    warmup: int = field(default=20, metadata=_help("untimed requests before the timed ones"))
    model: str | None = field(
        default=None,
        metadata=_help("model for the generated index [default: the bundled all-MiniLM-L6-v2]"),
    )
    index: str | None = field(
        default=None,
        metadata=_help(
            "serve this index instead of generating one",
            type=click.Path(file_okay=False, exists=True),
        ),
    )
    candidates: int = field(
        default=2000,
        metadata=_help("synthetic candidates of the generated index", type=click.IntRange(min=10)),
    )
    jobs: int = field(
        default=200, metadata=_help("synthetic jobs whose texts are the queries (cycled)")
    )
    seed: int = field(default=0, metadata=_help("seed of the synthetic corpus"))
    out: str = field(
        default=str(RESULTS / "serve_load.json"),
        metadata=_help("JSON path", type=click.Path(dir_okay=False)),
    )
    workdir: str | None = field(
        default=None,
        metadata=_help(
            "folder for the temporary corpus and index [default: the system's]",
            type=click.Path(file_okay=False),
        ),
    )
    startup_timeout: float = field(
        default=300.0, metadata=_help("seconds to wait for `jobmatch serve` to listen")
    )


def main(config: LoadConfig) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=config.workdir) as tmp:
        work = Path(tmp)
        setup_started = time.perf_counter()
        index = Path(config.index) if config.index else _build_index(config, work)
        texts = _query_texts(config, work)
        setup_seconds = time.perf_counter() - setup_started
        with _server(index, config, work) as (url, startup_seconds):
            load_before = load_average()
            run = asyncio.run(_load(url, texts, config))
            load_after = load_average()
            index_summary = _get_json(f"{url}/index")
    latencies = np.asarray(run.pop("latencies"))
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine_info(cpu_key="cpu", packages=package_versions(*PACKAGES)),
        "parameters": {**config_dict(config), "queries": len(texts)},
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
    write_json(results, config.out)
    return results


def _build_index(config: LoadConfig, work: Path) -> Path:
    data, index = work / "data", work / "index"
    _synth(config, data)
    build = ["index", "build", "--input", str(data / "candidates.parquet"), "--index", str(index)]
    if config.model:
        build += ["--model", config.model]
    subprocess.run(jobmatch_command(*build, "--no-progress"), env=offline_env(), check=True)
    return index


def _synth(config: LoadConfig, data: Path) -> None:
    if (data / "jobs.parquet").is_file():
        return
    synth = ["synth", "--candidates", str(config.candidates), "--jobs", str(config.jobs)]
    synth += ["--seed", str(config.seed), "--out", str(data), "--no-progress"]
    subprocess.run(jobmatch_command(*synth), env=offline_env(), check=True, capture_output=True)


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
        self.args = jobmatch_command(*args)
        self.timeout = config.startup_timeout
        self.log = work / "serve.log"

    def __enter__(self) -> tuple[str, float]:
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.args,
            env=offline_env(),
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
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


@config_command(LoadConfig, help=script_help(__doc__))
def cli(config: LoadConfig) -> None:
    results = main(config)
    shown = {k: results[k] for k in ("requests", "errors", "requests_per_second", "latency_ms")}
    print(json.dumps(shown, indent=2))


if __name__ == "__main__":
    cli()
