"""Sharded indexes (no Ray needed) and Ray builds that must equal the single-process build."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io
from jobmatch.cli import main
from jobmatch.index import BuildConfig, build_index, load_index, read_manifest, verify_index
from jobmatch.index.lifecycle import remove
from jobmatch.search import search
from jobmatch.testing import make_candidates

JOBS = pl.DataFrame(
    {
        "job_id": ["a", "b", "c"],
        "text": ["senior nlp engineer berlin", "paris data scientist", "remote security"],
    }
)


def assert_same_hits(got: pl.DataFrame, want: pl.DataFrame) -> None:
    """Same scores per (job, rank) within 1e-5 and the same ids wherever scores are not tied."""
    assert got.select("job_id", "rank").equals(want.select("job_id", "rank"))
    np.testing.assert_allclose(got["score"].to_numpy(), want["score"].to_numpy(), atol=1e-5)
    for job_id in want["job_id"].unique():
        mine = got.filter(pl.col("job_id") == job_id)
        theirs = want.filter(pl.col("job_id") == job_id)
        scores = theirs["score"].to_numpy()
        for rank, (a, b) in enumerate(
            zip(mine["candidate_id"], theirs["candidate_id"], strict=True)
        ):
            assert a == b or np.isclose(scores, scores[rank], atol=1e-5).sum() > 1


@pytest.fixture(scope="module")
def plain_and_sharded(tmp_path_factory: pytest.TempPathFactory, tiny_encoder):
    root = tmp_path_factory.mktemp("shards")
    candidates = make_candidates(61)
    build_index(candidates, root / "plain", tiny_encoder, BuildConfig(chunk_rows=16))
    build_index(candidates, root / "sharded", tiny_encoder, BuildConfig(chunk_rows=16, shards=3))
    return root / "plain", root / "sharded"


def test_sharded_folder_layout_and_verify(plain_and_sharded) -> None:
    _, sharded = plain_and_sharded
    names = sorted(p.name for p in sharded.iterdir())
    assert names == [
        "manifest.json",
        "metadata.parquet",
        "shard-00000.faiss",
        "shard-00001.faiss",
        "shard-00002.faiss",
    ]
    manifest = read_manifest(sharded)
    assert manifest.shards == 3 and manifest.rows == 61
    assert set(manifest.files) == set(names) - {"manifest.json"}
    assert verify_index(sharded) == []
    loaded = load_index(sharded)
    assert loaded.rows == 61
    assert [loaded.index.at(j).ntotal for j in range(3)] == [21, 20, 20]
    shard = sharded / "shard-00001.faiss"
    intact = shard.read_bytes()
    shard.write_bytes(b"torn")
    try:
        assert "shard-00001.faiss checksum does not match the manifest" in verify_index(sharded)
    finally:
        shard.write_bytes(intact)


@pytest.mark.parametrize("filters", [(), ("location=Berlin, Germany",), ("seniority>=3",)])
@pytest.mark.parametrize("k", [1, 7, 61, 80])
def test_sharded_search_equals_unsharded(plain_and_sharded, tiny_encoder, filters, k) -> None:
    plain, sharded = plain_and_sharded
    want = search(load_index(plain), tiny_encoder, JOBS, k=k, filters=filters)
    got = search(load_index(sharded), tiny_encoder, JOBS, k=k, filters=filters)
    assert got.height == want.height
    assert_same_hits(got, want)
    assert got.columns == want.columns


def test_sharded_index_stays_sharded_on_remove(
    tmp_path: Path, tiny_encoder, plain_and_sharded
) -> None:
    candidates = make_candidates(40)
    build_index(candidates, tmp_path / "plain", tiny_encoder)
    build_index(candidates, tmp_path / "sharded", tiny_encoder, BuildConfig(shards=4))
    for folder in (tmp_path / "plain", tmp_path / "sharded"):
        remove(folder, ["c001", "c017", "c039"])
    assert read_manifest(tmp_path / "sharded").shards == 4
    assert verify_index(tmp_path / "sharded") == []
    want = search(load_index(tmp_path / "plain"), tiny_encoder, JOBS, k=10)
    got = search(load_index(tmp_path / "sharded"), tiny_encoder, JOBS, k=10)
    assert_same_hits(got, want)


def test_cli_shards_option_and_query(tmp_path: Path, tiny_model_dir: Path) -> None:
    source = tmp_path / "people.parquet"
    io.write_table(make_candidates(30), source)
    runner = CliRunner()
    args = ["index", "build", "--input", str(source), "--model", str(tiny_model_dir)]
    built = runner.invoke(main, [*args, "--index", str(tmp_path / "idx"), "--shards", "2"])
    assert built.exit_code == 0, built.output
    assert "(32-d, Flat, 2 shards)" in built.stderr
    queried = runner.invoke(
        main,
        [
            "query",
            "--index",
            str(tmp_path / "idx"),
            "--text",
            "paris",
            "-k",
            "3",
            "--format",
            "jsonl",
        ],
    )
    assert queried.exit_code == 0, queried.output
    assert len(queried.stdout.splitlines()) == 3
    too_many = runner.invoke(main, [*args, "--index", str(tmp_path / "x"), "--shards", "31"])
    assert too_many.exit_code == 2
    assert too_many.stderr.splitlines()[-1] == "error: cannot split 30 rows into 31 shards"
    assert not (tmp_path / "x").exists()


def test_engine_ray_without_ray_is_a_one_line_error(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "people.parquet"
    io.write_table(make_candidates(5), source)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    result = CliRunner().invoke(
        main,
        [
            "index",
            "build",
            "--input",
            str(source),
            "--index",
            str(tmp_path / "i"),
            "--engine",
            "ray",
        ],
    )
    assert result.exit_code == 2
    assert result.stderr == 'error: Ray is not installed: pip install "jobmatch[ray]"\n'
    assert not (tmp_path / "i").exists()


def test_ray_options_need_engine_ray(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["index", "build", "--input", "x.csv", "--index", str(tmp_path / "i"), "--workers", "2"],
    )
    assert result.exit_code == 2
    assert "--cpus-per-worker and --stall-timeout need --engine ray" in result.stderr


def test_actors_are_sized_to_leave_the_read_stages_cpus() -> None:
    from jobmatch.errors import IndexStoreError
    from jobmatch.index.distributed import READ_RESERVE_CPUS, RayConfig, plan_cpus

    assert plan_cpus(RayConfig(workers=2), 2) == 0.5  # (2 - 1) / 2
    assert plan_cpus(RayConfig(workers=3), 4) == 1.0  # at most one CPU each unless asked
    assert plan_cpus(RayConfig(workers=8), 64) == 1.0
    assert plan_cpus(RayConfig(workers=2, cpus_per_worker=0.5), 2) == 0.5
    assert plan_cpus(RayConfig(workers=4, cpus_per_worker=4), 17) == 4
    for workers in (1, 2, 3):
        assert workers * plan_cpus(RayConfig(workers=workers), 2) <= 2 - READ_RESERVE_CPUS
    with pytest.raises(IndexStoreError) as refused:
        plan_cpus(RayConfig(workers=2, cpus_per_worker=1), 2)
    assert str(refused.value) == (
        "2 workers x 1 CPUs do not fit the Ray cluster's 2 CPUs with 1 kept for reading: "
        "pass --workers 1 or --cpus-per-worker 0.5 (or add CPUs to the cluster, or build "
        "with --engine local)"
    )
    with pytest.raises(IndexStoreError, match=r"20 workers do not fit .* --workers 10"):
        plan_cpus(RayConfig(workers=20), 2)


def test_stall_guard_fails_a_silent_iterator_and_passes_errors_through() -> None:
    from jobmatch.errors import IndexStoreError
    from jobmatch.index.distributed import _stall_guarded

    def hangs():
        yield 1
        threading.Event().wait()  # never set: a Ray iterator whose tasks cannot be scheduled
        yield 2

    got = []
    started = time.monotonic()
    with pytest.raises(IndexStoreError, match=r"no rows encoded for 0.5 s"):
        for item in _stall_guarded(hangs(), 0.5):
            got.append(item)
    assert got == [1] and time.monotonic() - started < 5

    def fails():
        yield "a"
        raise ValueError("worker error")

    with pytest.raises(ValueError, match="worker error"):
        list(_stall_guarded(fails(), 5))
    assert list(_stall_guarded(iter(range(5)), 5)) == [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------- Ray (slow)


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    # one logical GPU: Ray schedules --gpus-per-worker actors on it (torch finds no CUDA here
    # and encodes on the CPU), which exercises the GPU scheduling path on a CPU-only machine
    ray.init(
        num_cpus=2,
        num_gpus=1,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="WARNING",
    )
    yield ray
    ray.shutdown()


def assert_equals_local_build(data: Path, ray_index: Path, local_index: Path, encoder) -> None:
    """Build `data` in-process and check the Ray-built index has its rows and top-10 hits."""
    build_index([str(data)], local_index, encoder)
    local, distributed = load_index(local_index), load_index(ray_index)
    assert distributed.metadata.equals(local.metadata)
    assert_same_hits(search(distributed, encoder, JOBS, k=10), search(local, encoder, JOBS, k=10))


def mixed_inputs(folder: Path, n: int) -> Path:
    """One corpus split over Parquet, CSV and JSONL files (CSV flattens the areas lists)."""
    folder.mkdir(parents=True, exist_ok=True)
    candidates = make_candidates(n)
    third = n // 3
    io.write_table(candidates.slice(0, third), folder / "a.parquet")
    io.write_table(candidates.slice(third, third), folder / "b.csv")
    io.write_table(candidates.slice(2 * third), folder / "c.jsonl")
    return folder


@pytest.mark.slow
def test_ray_build_equals_local_build_and_resumes(
    tmp_path: Path, tiny_model_dir: Path, tiny_encoder, ray_cluster
) -> None:
    from jobmatch.index.distributed import RayConfig, build_index_ray

    data = mixed_inputs(tmp_path / "data", 150)
    config = BuildConfig(chunk_rows=32)
    build_index([str(data)], tmp_path / "local", tiny_encoder, config)
    runner = CliRunner()
    built = runner.invoke(
        main,
        [
            "index", "build", "--input", str(data), "--index", str(tmp_path / "ray"),
            "--model", str(tiny_model_dir), "--engine", "ray", "--workers", "1",
            "--chunk-rows", "32", "--shards", "2", "--save-embeddings", str(tmp_path / "emb"),
        ],
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert "indexed 150 candidates (32-d, Flat, 2 shards)" in built.stderr
    local, distributed = load_index(tmp_path / "local"), load_index(tmp_path / "ray")
    assert distributed.metadata.equals(local.metadata)  # same rows, order, types, hashes
    for k in (5, 150):
        want = search(local, tiny_encoder, JOBS, k=k)
        assert_same_hits(search(distributed, tiny_encoder, JOBS, k=k), want)
    parts = sorted((tmp_path / "emb").glob("part-*.parquet"))
    assert len(parts) == 5  # chunk i holds the same rows as in a local build
    assert pl.read_parquet(parts[1])["candidate_id"].to_list() == [
        f"c{i:03d}" for i in range(32, 64)
    ]

    # a killed build: parts 0-1 survive; --resume encodes only the rest
    for part in parts[2:]:
        part.unlink()
    before = parts[0].stat().st_mtime_ns
    build_index_ray(
        [str(data)],
        tmp_path / "resumed",
        str(tiny_model_dir),
        BuildConfig(chunk_rows=32, save_embeddings=tmp_path / "emb", resume=True),
        RayConfig(workers=1),
    )
    assert parts[0].stat().st_mtime_ns == before
    resumed = load_index(tmp_path / "resumed")
    assert sorted(resumed.metadata["candidate_id"]) == sorted(local.metadata["candidate_id"])
    assert_same_hits(
        search(resumed, tiny_encoder, JOBS, k=20), search(local, tiny_encoder, JOBS, k=20)
    )


def test_as_many_workers_as_cluster_cpus_finishes_or_refuses_fast(
    tmp_path: Path, tiny_model_dir: Path, tiny_encoder, ray_cluster
) -> None:
    """Two 1-CPU actors on a 2-CPU cluster once starved the read tasks: the build hung."""
    from jobmatch.index.distributed import RayConfig, plan_cpus

    cpus = int(ray_cluster.cluster_resources()["CPU"])
    data = mixed_inputs(tmp_path / "data", 60)
    args = ["index", "build", "--input", str(data), "--model", str(tiny_model_dir), "--progress",
            "--engine", "ray", "--workers", str(cpus), "--chunk-rows", "16"]  # fmt: skip
    started = time.monotonic()
    refused = CliRunner().invoke(
        main, [*args, "--index", str(tmp_path / "refused"), "--cpus-per-worker", "1"]
    )
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.splitlines()[-1].startswith(
        f"error: {cpus} workers x 1 CPUs do not fit the Ray cluster's {cpus} CPUs with 1 kept "
        f"for reading: pass --workers {cpus - 1} or --cpus-per-worker {(cpus - 1) / cpus:.2g}"
    )
    assert time.monotonic() - started < 30 and not (tmp_path / "refused").exists()

    built = CliRunner().invoke(
        main, [*args, "--index", str(tmp_path / "ray"), "--stall-timeout", "240"]
    )
    assert built.exit_code == 0, built.output
    assert "indexed 60 candidates" in built.stderr
    share = plan_cpus(RayConfig(workers=cpus), cpus)
    assert f"encoding on Ray ({cpus} x {share:g} CPU)" in built.stderr  # the progress bar
    assert "60/60" in built.stderr
    assert_equals_local_build(data, tmp_path / "ray", tmp_path / "local", tiny_encoder)


def test_unschedulable_actors_fail_after_the_stall_timeout(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    """A command in its own process and local cluster, which has no GPU for the actors."""
    pytest.importorskip("ray.data")
    import subprocess

    data = mixed_inputs(tmp_path / "data", 30)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "jobmatch", "index", "build", "--input", str(data),
         "--model", str(tiny_model_dir), "--index", str(tmp_path / "ray"), "--engine", "ray",
         "--cpus-per-worker", "0.5", "--gpus-per-worker", "1", "--stall-timeout", "5"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stderr.splitlines()[-1].startswith("error: no rows encoded for 5 s")
    assert time.monotonic() - started < 120
    assert not (tmp_path / "ray").exists()


@pytest.mark.slow
def test_ray_bad_row_fails_like_local(tmp_path: Path, tiny_model_dir: Path, ray_cluster) -> None:
    data = mixed_inputs(tmp_path / "data", 30)
    (data / "d.csv").write_text("candidate_id,text\nx1,fine\nx2,\n", "utf-8")
    runner = CliRunner()
    args = ["index", "build", "--input", str(data), "--model", str(tiny_model_dir)]
    local = runner.invoke(main, [*args, "--index", str(tmp_path / "l")])
    distributed = runner.invoke(main, [*args, "--index", str(tmp_path / "r"), "--engine", "ray"])
    assert local.exit_code == distributed.exit_code == 2
    assert distributed.stderr == local.stderr
    assert len(distributed.stderr.splitlines()) == 1 and "d.csv, row 2" in distributed.stderr


@pytest.mark.slow
def test_killed_worker_is_restarted_and_build_completes(
    tmp_path: Path, tiny_model_dir: Path, tiny_encoder, ray_cluster
) -> None:
    import psutil

    from jobmatch.index.distributed import RayConfig, build_index_ray

    data = tmp_path / "data"
    data.mkdir()
    io.write_table(make_candidates(1200), data / "people.parquet")
    store = tmp_path / "emb"
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (store / "part-00001.parquet").exists():
            time.sleep(0.05)
        for process in psutil.process_iter(["pid", "cmdline"]):
            if "MapBatches(EncodeBatches)" in " ".join(process.info["cmdline"] or []):
                process.kill()
                killed.append(process.info["pid"])
                return

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    build_index_ray(
        [str(data)],
        tmp_path / "ray",
        str(tiny_model_dir),
        BuildConfig(chunk_rows=20, batch_size=4, save_embeddings=store),
        RayConfig(workers=2, cpus_per_worker=0.5),
    )
    killer.join()
    assert killed, "no encoder actor was found to kill"
    assert len(list(store.glob("part-*.parquet"))) == 60
    assert_equals_local_build(data, tmp_path / "ray", tmp_path / "local", tiny_encoder)


@pytest.mark.slow
def test_gpu_workers_are_scheduled_on_gpu_resources(
    tmp_path: Path, tiny_model_dir: Path, tiny_encoder, ray_cluster
) -> None:
    from jobmatch.index.distributed import RayConfig, build_index_ray

    data = tmp_path / "data"
    data.mkdir()
    io.write_table(make_candidates(90), data / "people.parquet")
    build_index_ray(
        [str(data)],
        tmp_path / "ray",
        str(tiny_model_dir),
        BuildConfig(chunk_rows=30),
        RayConfig(workers=2, gpus_per_worker=0.5, cpus_per_worker=0.5),  # share the one GPU
    )
    assert_equals_local_build(data, tmp_path / "ray", tmp_path / "local", tiny_encoder)


@pytest.mark.slow
def test_benchmark_runs_at_toy_size(tmp_path: Path, tiny_model_dir: Path) -> None:
    pytest.importorskip("ray")
    import subprocess

    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable, "benchmarks/ray_build.py", "--candidates", "60", "--workers", "1",
            "--model", str(tiny_model_dir), "--out", str(out),
        ],
        cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["parameters"]["candidates"] == 60
    assert {run["engine"] for run in result["runs"]} == {"local", "ray"}
    assert all(run["docs_per_s"] > 0 for run in result["runs"])
    assert result["same_top_k"] is True
    assert "GPU" in result["notes"]
