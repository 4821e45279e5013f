"""`jobmatch serve` against real uvicorn servers on 127.0.0.1 with a tiny model.

Hits must equal `jobmatch query`'s, bad input is a 422 naming the field, an index swapped in
by `jobmatch index add` is picked up while requests keep succeeding, and the load benchmark
runs at toy size with zero errors.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest
import uvicorn
from click.testing import CliRunner

from jobmatch import io
from jobmatch.cli import main
from jobmatch.index import atomic, read_manifest
from jobmatch.serve import MAX_BATCH, MAX_BODY_BYTES, MAX_K, MatchService, ServeConfig, create_app
from jobmatch.synth import write_corpus

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def serving(config: ServeConfig) -> Iterator[str]:
    """A uvicorn server in a thread on a socket bound to a free port; yields its URL."""
    app = create_app(MatchService.load(config))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("serve-data"), n_candidates=300, n_jobs=6, seed=5)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, data, tiny_model_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("serve-index") / "index"
    build = ["index", "build", "--input", str(data["candidates"]), "--index", str(folder)]
    cli(*build, "--model", str(tiny_model_dir))
    return folder


@pytest.fixture(scope="module")
def url(index_dir: Path) -> Iterator[str]:
    with serving(ServeConfig(str(index_dir), reload_interval=0)) as base:
        yield base


def query_cli(index_dir: Path, tmp_path: Path, *args: str) -> dict[str, list[dict]]:
    """`jobmatch query ... --format jsonl` hits grouped by job_id."""
    out = tmp_path / "hits.jsonl"
    cli("query", "--index", str(index_dir), "--format", "jsonl", "--out", str(out), *args)
    grouped: dict[str, list[dict]] = {}
    for line in out.read_text().splitlines():
        row = json.loads(line)
        grouped.setdefault(row["job_id"], []).append(row)
    return grouped


def assert_same_hits(served: list[dict], expected: dict[str, list[dict]]) -> None:
    assert [result["job_id"] for result in served] == list(expected)
    for result in served:
        rows = expected[result["job_id"]]
        assert [h["candidate_id"] for h in result["hits"]] == [r["candidate_id"] for r in rows]
        for hit, row in zip(result["hits"], rows, strict=True):
            assert hit["rank"] == row["rank"]
            assert hit["score"] == pytest.approx(row["score"], abs=1e-6)
            assert hit.get("explanation") == row.get("explanation")
            for column, value in hit["metadata"].items():
                assert value == pytest.approx(row[column]), column
            assert set(hit["metadata"]) == set(row) - {
                "job_id", "rank", "candidate_id", "score", "explanation"
            }  # fmt: skip


@pytest.mark.parametrize(
    "filters", [[], ["seniority>=senior", "areas~backend"], ["country=Germany"]]
)
def test_hits_equal_jobmatch_query(
    url: str, index_dir: Path, data, tmp_path: Path, filters: list[str]
) -> None:
    texts = pl.read_parquet(data["jobs"])["text"].to_list()[:3]
    response = httpx.post(f"{url}/match", json={"texts": texts, "k": 7, "filters": filters})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows"] == 300
    args = [a for t in texts for a in ("--text", t)] + [a for f in filters for a in ("--filter", f)]
    expected = query_cli(index_dir, tmp_path, *args, "-k", "7")
    assert_same_hits(body["results"], expected)
    assert all(len(result["hits"]) == 7 for result in body["results"])
    if filters:
        candidates = pl.read_parquet(data["candidates"])
        by_id = {r["candidate_id"]: r for r in candidates.iter_rows(named=True)}
        for result in body["results"]:
            for hit in result["hits"]:
                candidate = by_id[hit["candidate_id"]]
                if "areas~backend" in filters:
                    assert candidate["seniority"] >= 3 and "backend" in candidate["areas"]
                else:
                    assert candidate["location"].endswith(", Germany")


def test_single_text_and_jobs_with_fields_explain_like_query(
    url: str, index_dir: Path, data, tmp_path: Path
) -> None:
    one = httpx.post(f"{url}/match", json={"text": "senior nlp engineer in berlin", "k": 3})
    assert one.status_code == 200
    assert [r["job_id"] for r in one.json()["results"]] == ["q1"]
    assert [h["rank"] for h in one.json()["results"][0]["hits"]] == [1, 2, 3]

    jobs = pl.read_parquet(data["jobs"]).head(2)
    fields = ["job_id", "text", "location", "seniority", "areas", "remote"]
    payload = [{f: row[f] for f in fields} for row in jobs.iter_rows(named=True)]
    response = httpx.post(
        f"{url}/match", json={"jobs": payload, "k": 4, "explain": True, "with_text": True}
    )
    assert response.status_code == 200, response.text
    jobs_path = tmp_path / "jobs.jsonl"
    io.write_table(jobs.select(fields), jobs_path)
    expected = query_cli(index_dir, tmp_path, "--jobs", str(jobs_path), "--explain", "-k", "4")
    served = response.json()["results"]
    texts = {h["candidate_id"]: h.pop("text") for r in served for h in r["hits"]}
    assert_same_hits(served, expected)
    assert all(explanation.startswith("location: ") for explanation in _explanations(served))
    candidates = pl.read_parquet(data["candidates"])
    assert all(
        candidates.filter(pl.col("candidate_id") == c)["text"][0] == t for c, t in texts.items()
    )


def _explanations(results: list[dict]) -> list[str]:
    return [hit["explanation"] for result in results for hit in result["hits"]]


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"text": "x", "k": 0}, ["body", "k"], "greater than or equal to 1"),
        ({"text": "x", "k": MAX_K + 1}, ["body", "k"], f"less than or equal to {MAX_K}"),
        ({"text": "x", "k": "many"}, ["body", "k"], "integer"),
        ({}, ["body"], "exactly one of text, texts or jobs"),
        ({"text": "a", "texts": ["b"]}, ["body"], "exactly one of text, texts or jobs"),
        ({"text": ""}, ["body", "text"], "at least 1 character"),
        ({"texts": []}, ["body", "texts"], "at least 1 item"),
        ({"texts": ["a"] * (MAX_BATCH + 1)}, ["body", "texts"], f"at most {MAX_BATCH} items"),
        ({"texts": ["a", 3]}, ["body", "texts", 1], "valid string"),
        ({"text": "x", "filters": ["seniority"]}, ["body", "filters", 0], "no operator"),
        (
            {"text": "x", "filters": ["seniority>=2", "salary>1"]},
            ["body", "filters", 1],
            "unknown column 'salary'",
        ),
        (
            {"text": "x", "filters": ["seniority>=guru"]},
            ["body", "filters", 0],
            "is not a number or a level",
        ),
        ({"text": "x", "filters": ["areas>2"]}, ["body", "filters", 0], "does not apply"),
        ({"text": "x", "colour": "red"}, ["body", "colour"], "Extra inputs"),
        ({"jobs": [{"text": "x", "seniority": 9}]}, ["body", "jobs", 0, "seniority"], "less"),
        (
            {"jobs": [{"text": "x", "job_id": "a"}, {"text": "y", "job_id": "a"}]},
            ["body"],
            "job_id values must be unique",
        ),
        (
            {"jobs": [{"text": "x"}, {"text": "y", "job_id": "q1"}]},
            ["body"],
            "job_id values must be unique",
        ),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    url: str, body: dict, loc: list, message: str
) -> None:
    response = httpx.post(f"{url}/match", json=body)
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert any(p["loc"] == loc and message in p["msg"] for p in problems), problems


def test_malformed_json_and_oversized_bodies_are_refused(url: str) -> None:
    broken = httpx.post(
        f"{url}/match",
        content=b'{"text": "x", "k": 3',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["detail"][0]["type"] == "json_invalid"
    huge = json.dumps({"text": "x" * MAX_BODY_BYTES}).encode()
    too_large = httpx.post(
        f"{url}/match", content=huge, headers={"content-type": "application/json"}
    )
    assert too_large.status_code == 413

    def chunks() -> Iterator[bytes]:  # no content-length: the limit counts streamed bytes
        yield b'{"text": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 1):
            yield b"y" * 65536
        yield b'"}'

    streamed = httpx.post(
        f"{url}/match", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_health_and_index_summary(url: str, index_dir: Path, tiny_model_dir: Path) -> None:
    health = httpx.get(f"{url}/health").json()
    manifest = read_manifest(index_dir)
    assert health == {
        "status": "ok",
        "model": str(tiny_model_dir),
        "rows": 300,
        "index_updated": manifest.updated,
        "reload_error": None,
    }
    summary = httpx.get(f"{url}/index").json()
    assert summary["rows"] == manifest.rows == 300
    assert summary["model_fingerprint"] == manifest.model_fingerprint
    assert summary["dimension"] == manifest.dimension == 32
    assert {"country", "location", "seniority", "areas"} <= set(summary["filterable_columns"])
    assert not any(c.startswith("hidden_") for c in summary["filterable_columns"])
    assert "/match" in httpx.get(f"{url}/openapi.json").json()["paths"]


def test_index_add_is_picked_up_without_restart_and_never_half_served(
    index_dir: Path, data, tmp_path: Path
) -> None:
    folder = tmp_path / "live"
    shutil.copytree(index_dir, folder)
    candidates = pl.read_parquet(data["candidates"]).head(4)
    extra = candidates.with_columns(
        ("new-" + pl.col("candidate_id")).alias("candidate_id"),
        ("python rust kubernetes staff engineer " + pl.col("candidate_id")).alias("text"),
    )
    extra_path = tmp_path / "extra.parquet"
    extra.write_parquet(extra_path)
    probe = {"text": extra["text"][0], "k": 1}
    with serving(ServeConfig(str(folder), reload_interval=0.1)) as base:
        before = httpx.post(f"{base}/match", json=probe).json()
        assert before["rows"] == 300
        assert before["results"][0]["hits"][0]["candidate_id"] != "new-" + candidates[0, 0]

        seen: list[tuple[int, int, int]] = []  # (status, rows, hits) while the index changes
        stop = threading.Event()

        def hammer() -> None:
            with httpx.Client() as client:
                while not stop.is_set():
                    response = client.post(f"{base}/match", json={"text": "data engineer"})
                    if response.status_code != 200:
                        seen.append((response.status_code, -1, -1))
                        continue
                    body = response.json()
                    seen.append((200, body["rows"], len(body["results"][0]["hits"])))

        worker = threading.Thread(target=hammer)
        worker.start()
        try:
            cli("index", "add", "--input", str(extra_path), "--index", str(folder))
            deadline = time.monotonic() + 60
            while httpx.get(f"{base}/health").json()["rows"] != 304:
                assert time.monotonic() < deadline, "the new index version was not picked up"
                time.sleep(0.1)
            time.sleep(0.3)
        finally:
            stop.set()
            worker.join(60)
        after = httpx.post(f"{base}/match", json=probe).json()
        assert after["rows"] == 304
        hit = after["results"][0]["hits"][0]
        assert hit["candidate_id"] == "new-" + candidates[0, 0]
        assert hit["score"] == pytest.approx(1.0, abs=1e-5)
        assert after["index_updated"] == read_manifest(folder).updated
        assert httpx.get(f"{base}/health").json()["reload_error"] is None
    assert seen and {status for status, _, _ in seen} == {200}
    assert {rows for _, rows, _ in seen} <= {300, 304}
    assert {hits for _, _, hits in seen} == {20}


def test_failed_reload_keeps_serving_the_previous_version(
    index_dir: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    folder = tmp_path / "live"
    shutil.copytree(index_dir, folder)
    with serving(ServeConfig(str(folder), reload_interval=0.1)) as base:
        # A folder built by another model is swapped in: its fingerprint does not match.
        with atomic.replace_folder(folder) as staging:
            for item in folder.iterdir():
                shutil.copy2(item, staging / item.name)
            manifest = read_manifest(staging)
            manifest.model_fingerprint = "0" * 16
            (staging / "manifest.json").write_text(manifest.to_json())
        deadline = time.monotonic() + 30
        while (health := httpx.get(f"{base}/health").json())["reload_error"] is None:
            assert time.monotonic() < deadline, "the failed reload was not reported"
            time.sleep(0.1)
        assert "fingerprint" in health["reload_error"] and str(folder) in health["reload_error"]
        assert "/proc/" not in health["reload_error"]
        response = httpx.post(f"{base}/match", json={"text": "backend engineer", "k": 2})
        assert response.status_code == 200 and response.json()["rows"] == 300


def test_serve_without_the_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, index_dir: Path
) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)
    result = CliRunner().invoke(main, ["serve", "--index", str(index_dir)])
    assert result.exit_code == 2
    assert result.output == 'error: fastapi is not installed: pip install "jobmatch[serve]"\n'


def test_serve_help_imports_neither_models_nor_the_web_stack() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from jobmatch.cli import main\n"
        "result = CliRunner().invoke(main, ['serve', '--help'])\n"
        "assert result.exit_code == 0 and 'Example' in result.output, result.output\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'transformers',"
        " 'fastapi', 'uvicorn', 'starlette') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_load_benchmark_at_toy_size_has_no_errors(
    index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ROOT / "benchmarks" / "serve_load.py"  # a script folder, not a package
    spec = importlib.util.spec_from_file_location("_benchmark_serve_load", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # as `python benchmarks/X.py` has
    spec.loader.exec_module(module)
    out = tmp_path / "serve_load.json"
    config = module.LoadConfig(
        requests=200, concurrency=8, index=str(index_dir), jobs=20, candidates=20, out=str(out)
    )
    results = module.main(config)
    assert json.loads(out.read_text()) == results
    assert results["requests"] == 200 and results["errors"] == 0, results["error_examples"]
    assert results["index"]["rows"] == 300
    latency = results["latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    assert results["requests_per_second"] > 0
    assert results["parameters"]["concurrency"] == 8 and results["machine"]["cores"] >= 1


def test_cli_serve_with_two_workers_answers_like_query(
    index_dir: Path, data, tmp_path: Path
) -> None:
    """`jobmatch serve --workers 2`: uvicorn worker processes built by the app factory."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "jobmatch", "serve", "--index", str(index_dir),
               "--port", str(port), "--workers", "2"]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "server with two workers did not start"
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            time.sleep(0.5)
        text = pl.read_parquet(data["jobs"])["text"][0]
        expected = query_cli(index_dir, tmp_path, "--text", text, "-k", "5")
        for _ in range(4):  # connections land on either worker
            response = httpx.post(f"{base}/match", json={"text": text, "k": 5}, timeout=60)
            assert response.status_code == 200, response.text
            assert_same_hits(response.json()["results"], expected)
    finally:
        server.terminate()
        server.wait(30)
