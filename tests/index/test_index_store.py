"""Index store lifecycle: streaming builds, embedding store, filters, upsert/remove, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io
from jobmatch.cli import main
from jobmatch.errors import IndexStoreError
from jobmatch.index import (
    BuildConfig,
    atomic,
    build_from_embeddings,
    build_index,
    load_index,
    verify_index,
)
from jobmatch.index.faiss_ops import reconstruct
from jobmatch.index.filters import filter_mask
from jobmatch.index.lifecycle import remove, upsert
from jobmatch.search import search
from jobmatch.synth import write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    folder = tmp_path_factory.mktemp("corpus")
    paths = write_corpus(folder, n_candidates=1500, n_jobs=5, seed=11)
    return io.read_table(paths["candidates"], "candidates")


def aligned(folder: Path, encoder) -> bool:
    """Row i of the index holds the embedding of metadata row i's text."""
    loaded = load_index(folder)
    vectors = reconstruct(loaded.index, np.arange(loaded.rows, dtype=np.int64))
    expected = encoder.encode(loaded.metadata["text"].to_list())
    return bool(np.allclose(vectors, expected, atol=1e-5))


def test_streaming_build_from_many_formats_equals_frame_build(
    tmp_path: Path, corpus: pl.DataFrame, tiny_encoder
) -> None:
    parts = tmp_path / "parts"
    io.write_table(corpus.slice(0, 500), parts / "a.parquet")
    io.write_table(corpus.slice(500, 500), parts / "b.csv")
    io.write_table(corpus.slice(1000, 500), parts / "nested" / "c.jsonl")
    streamed, framed = tmp_path / "streamed", tmp_path / "framed"
    config = BuildConfig(factory="Flat", chunk_rows=128)
    build_index([parts], streamed, tiny_encoder, config)
    build_index(corpus, framed, tiny_encoder, BuildConfig(factory="Flat", chunk_rows=700))
    a, b = load_index(streamed), load_index(framed)
    assert a.metadata["candidate_id"].to_list() == corpus["candidate_id"].to_list()
    assert a.metadata["content_hash"].to_list() == b.metadata["content_hash"].to_list()
    np.testing.assert_allclose(
        reconstruct(a.index, np.arange(1500)), reconstruct(b.index, np.arange(1500)), atol=1e-6
    )


def test_build_from_saved_embeddings_equals_build_from_text(
    tmp_path: Path, corpus: pl.DataFrame, tiny_encoder
) -> None:
    store = tmp_path / "store"
    config = BuildConfig(factory="HNSW32", chunk_rows=256, save_embeddings=store)
    manifest = build_index(corpus, tmp_path / "from_text", tiny_encoder, config)
    assert manifest.search_params == {"efSearch": 64}
    assert len(list(store.glob("part-*.parquet"))) == 6  # ceil(1500 / 256)
    rebuilt = build_from_embeddings(store, tmp_path / "from_store", BuildConfig(factory="HNSW32"))
    assert rebuilt.model_fingerprint == tiny_encoder.fingerprint
    a, b = load_index(tmp_path / "from_text"), load_index(tmp_path / "from_store")
    assert a.metadata.equals(b.metadata)
    np.testing.assert_array_equal(
        reconstruct(a.index, np.arange(1500)), reconstruct(b.index, np.arange(1500))
    )
    queries = tiny_encoder.encode(["senior nlp engineer in berlin", "frontend developer"])
    assert np.array_equal(a.index.search(queries, 20)[1], b.index.search(queries, 20)[1])
    ivf = build_from_embeddings(store, tmp_path / "ivf", BuildConfig(factory="IVF16,Flat"))
    assert ivf.factory == "IVF16,Flat" and ivf.rows == 1500
    assert aligned(tmp_path / "ivf", tiny_encoder)


def test_store_refuses_reuse_without_resume_and_mismatched_resume(
    tmp_path: Path, corpus: pl.DataFrame, tiny_encoder
) -> None:
    store = tmp_path / "store"
    build_index(corpus.head(100), tmp_path / "a", tiny_encoder, BuildConfig(save_embeddings=store))
    with pytest.raises(IndexStoreError, match="already holds embeddings; pass --resume"):
        build_index(
            corpus.head(100), tmp_path / "b", tiny_encoder, BuildConfig(save_embeddings=store)
        )
    with pytest.raises(IndexStoreError, match=r"cannot resume.*chunk_rows 8192 != 50"):
        build_index(
            corpus.head(100),
            tmp_path / "b",
            tiny_encoder,
            BuildConfig(save_embeddings=store, resume=True, chunk_rows=50),
        )
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        (["country=Germany"], lambda m: m["location"].str.ends_with(", Germany")),
        (
            ["seniority>=senior", "areas~nlp"],
            lambda m: (m["seniority"] >= 3) & m["areas"].list.contains("nlp"),
        ),
        (["location=Remote"], lambda m: m["location"] == "Remote"),
    ],
)
@pytest.mark.parametrize("factory", ["Flat", "HNSW32", "IVF16,Flat"])
def test_filters_return_exactly_k_matching_hits(
    tmp_path_factory, corpus: pl.DataFrame, tiny_encoder, factory: str, filters, check
) -> None:
    folder = tmp_path_factory.mktemp("filtered") / "index"
    build_index(corpus, folder, tiny_encoder, BuildConfig(factory=factory))
    loaded = load_index(folder)
    allowed = int(filter_mask(loaded.metadata, filters).sum())
    assert allowed >= 20
    jobs = pl.DataFrame({"job_id": ["a", "b"], "text": ["nlp researcher", "backend engineer"]})
    hits = search(loaded, tiny_encoder, jobs, k=20, filters=filters)
    assert hits.group_by("job_id").len().sort("job_id")["len"].to_list() == [20, 20]
    assert hits.select(check(hits).all()).item()


def test_selective_filter_falls_back_to_exact_and_caps_at_allowed(
    tmp_path: Path, corpus: pl.DataFrame, tiny_encoder
) -> None:
    folder = tmp_path / "index"
    build_index(corpus, folder, tiny_encoder, BuildConfig(factory="HNSW32"))
    loaded = load_index(folder)
    some = corpus["candidate_id"].to_list()[:7]
    mask = loaded.metadata["candidate_id"].is_in(some).to_numpy()
    assert mask.sum() == 7
    from jobmatch.index import ann

    queries = tiny_encoder.encode(["data engineer"])
    scores, rows = ann.search(loaded.index, queries, 10, params={"efSearch": 64}, mask=mask)
    assert sorted(rows[0][:7]) == sorted(np.flatnonzero(mask))
    assert list(rows[0][7:]) == [-1, -1, -1]
    exact = queries @ reconstruct(loaded.index, np.flatnonzero(mask)).T
    np.testing.assert_allclose(scores[0][:7], np.sort(exact[0])[::-1], atol=1e-5)


def test_unknown_filter_column_is_one_line_error(tmp_path: Path, corpus, tiny_model_dir) -> None:
    folder = tmp_path / "index"
    io.write_table(corpus.head(50), tmp_path / "c.parquet")
    runner = CliRunner()
    args = ["index", "build", "--input", str(tmp_path / "c.parquet"), "--index", str(folder)]
    assert runner.invoke(main, [*args, "--model", str(tiny_model_dir)]).exit_code == 0
    result = runner.invoke(
        main, ["query", "--index", str(folder), "--text", "x", "--filter", "salary>3"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: filter 'salary>3': unknown column 'salary'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_upsert_and_remove_keep_index_and_metadata_aligned(
    tmp_path: Path, corpus: pl.DataFrame, tiny_encoder
) -> None:
    folder = tmp_path / "index"
    build_index(corpus.head(300), folder, tiny_encoder, BuildConfig(factory="IVF4,Flat"))
    changed = corpus.slice(100, 5).with_columns(pl.col("text") + " Now leads a platform team.")
    batch = pl.concat([corpus.slice(0, 50), changed, corpus.slice(300, 40)])  # same, changed, new
    io.write_table(batch, tmp_path / "batch.jsonl")
    summary = upsert(folder, [tmp_path / "batch.jsonl"], tiny_encoder)
    assert (summary.added, summary.updated, summary.unchanged, summary.removed) == (40, 5, 50, 0)
    loaded = load_index(folder)
    assert loaded.rows == 340 and loaded.metadata["candidate_id"].n_unique() == 340
    texts = dict(loaded.metadata.select("candidate_id", "text").iter_rows())
    assert texts[changed["candidate_id"][0]].endswith("Now leads a platform team.")
    assert aligned(folder, tiny_encoder)
    assert loaded.manifest.factory == "IVF4,Flat"

    gone = [*corpus["candidate_id"].to_list()[10:20], "not-there"]
    summary = remove(folder, gone)
    assert (summary.removed, summary.unchanged, summary.rows) == (10, 1, 330)
    assert not set(gone) & set(load_index(folder).metadata["candidate_id"].to_list())
    assert aligned(folder, tiny_encoder)
    assert verify_index(folder) == []

    pruned = upsert(folder, [tmp_path / "batch.jsonl"], tiny_encoder, prune=True)
    # the 10 removed come back, the other 85 rows of the batch are unchanged, 245 are pruned
    assert (pruned.added, pruned.updated, pruned.unchanged, pruned.removed) == (10, 0, 85, 245)
    assert load_index(folder).rows == 95  # the index now mirrors batch.jsonl
    assert aligned(folder, tiny_encoder)


def test_verify_detects_flipped_bytes(tmp_path: Path, corpus: pl.DataFrame, tiny_encoder) -> None:
    folder = tmp_path / "index"
    build_index(corpus.head(200), folder, tiny_encoder)
    runner = CliRunner()
    assert runner.invoke(main, ["index", "verify", str(folder)]).exit_code == 0
    for name in ("index.faiss", "metadata.parquet"):
        path = folder / name
        original = path.read_bytes()
        flipped = bytearray(original)
        flipped[len(flipped) // 2] ^= 0xFF
        path.write_bytes(bytes(flipped))
        result = runner.invoke(main, ["index", "verify", str(folder)])
        assert result.exit_code == 1
        assert f"{name} checksum does not match the manifest" in result.stderr
        path.write_bytes(original)
    assert runner.invoke(main, ["index", "verify", str(folder)]).exit_code == 0


def test_second_writer_fails_cleanly_with_no_wait(tmp_path: Path, corpus, tiny_model_dir) -> None:
    folder = tmp_path / "index"
    io.write_table(corpus.head(20), tmp_path / "c.parquet")
    with atomic.writer_lock(folder):
        result = CliRunner().invoke(
            main,
            [
                "index",
                "build",
                "--input",
                str(tmp_path / "c.parquet"),
                "--index",
                str(folder),
                "--model",
                str(tiny_model_dir),
                "--no-wait",
            ],
        )
    assert result.exit_code == 2
    assert "another writer holds index.lock; retry later" in result.stderr
    assert not folder.exists()


def test_query_with_a_different_model_is_refused(tmp_path: Path, corpus, tiny_encoder) -> None:
    from jobmatch.testing import build_tiny_model

    folder = tmp_path / "index"
    build_index(corpus.head(50), folder, tiny_encoder)
    other = build_tiny_model(tmp_path / "other", seed=1)
    runner = CliRunner()
    refused = runner.invoke(
        main, ["query", "--index", str(folder), "--text", "x", "--model", str(other)]
    )
    assert refused.exit_code == 2
    assert "fingerprint" in refused.stderr and "rebuild the index" in refused.stderr
    allowed = runner.invoke(
        main,
        [
            "query",
            "--index",
            str(folder),
            "--text",
            "x",
            "--model",
            str(other),
            "-k",
            "3",
            "--allow-model-mismatch",
            "--format",
            "jsonl",
        ],
    )
    assert allowed.exit_code == 0 and len(allowed.stdout.splitlines()) == 3


# --------------------------------------------------------------------------- crash safety


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "jobmatch.cli", *args]


def _kill_when(process: subprocess.Popen, condition, timeout: float = 120.0) -> bool:
    """SIGKILL `process` as soon as `condition()` holds; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if condition():
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.005)
    process.kill()
    raise AssertionError("condition never held")


def _staging_exists(folder: Path) -> bool:
    return any(folder.parent.glob(f".{folder.name}.*.tmp"))


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def test_sigkill_mid_build_then_resume(
    tmp_path: Path, corpus: pl.DataFrame, tiny_model_dir
) -> None:
    source = tmp_path / "c.parquet"
    io.write_table(corpus, source)
    folder, store = tmp_path / "index", tmp_path / "store"
    args = _cli(
        "index",
        "build",
        "--input",
        str(source),
        "--index",
        str(folder),
        "--model",
        str(tiny_model_dir),
        "--save-embeddings",
        str(store),
        "--chunk-rows",
        "100",
    )
    process = subprocess.Popen(args, env=_env(), stderr=subprocess.DEVNULL)
    assert _kill_when(process, lambda: len(list(store.glob("part-*.parquet"))) >= 3)
    assert not folder.exists()  # no index yet: the old state (none) is intact
    finished = len(list(store.glob("part-*.parquet")))
    resumed = subprocess.run([*args, "--resume"], env=_env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert verify_index(folder) == []
    loaded = load_index(folder)
    assert loaded.rows == 1500
    assert loaded.metadata["candidate_id"].to_list() == corpus["candidate_id"].to_list()
    assert finished >= 3


def test_sigkill_during_folder_swap_leaves_old_or_new_index(
    tmp_path: Path, corpus: pl.DataFrame, tiny_model_dir
) -> None:
    base, extra = tmp_path / "base.parquet", tmp_path / "extra.parquet"
    io.write_table(corpus.head(1000), base)
    io.write_table(corpus.slice(1000, 500), extra)
    folder = tmp_path / "index"
    model = ["--model", str(tiny_model_dir)]
    built = subprocess.run(
        _cli("index", "build", "--input", str(base), "--index", str(folder), *model),
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    for attempt in range(3):
        process = subprocess.Popen(
            _cli("index", "add", "--input", str(extra), "--index", str(folder)),
            env=_env(),
            stderr=subprocess.DEVNULL,
        )
        killed = _kill_when(process, lambda: _staging_exists(folder))
        assert verify_index(folder) == [], f"attempt {attempt}"
        rows = load_index(folder).rows
        assert rows in (1000, 1500)
        if not killed:
            break
    query = subprocess.run(
        _cli("query", "--index", str(folder), "--text", "nlp", "-k", "5", "--format", "jsonl"),
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert query.returncode == 0, query.stderr
    assert len(query.stdout.splitlines()) == 5


def test_concurrent_writers_serialise(tmp_path: Path, corpus: pl.DataFrame, tiny_model_dir) -> None:
    folder = tmp_path / "index"
    io.write_table(corpus.head(500), tmp_path / "base.parquet")
    io.write_table(corpus.slice(500, 300), tmp_path / "one.parquet")
    io.write_table(corpus.slice(800, 300), tmp_path / "two.parquet")
    built = subprocess.run(
        _cli(
            "index",
            "build",
            "--input",
            str(tmp_path / "base.parquet"),
            "--index",
            str(folder),
            "--model",
            str(tiny_model_dir),
        ),
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    writers = [
        subprocess.Popen(
            _cli(
                "index", "add", "--input", str(tmp_path / f"{name}.parquet"), "--index", str(folder)
            ),
            env=_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("one", "two")
    ]
    outputs = [writer.communicate(timeout=300)[1] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], outputs
    loaded = load_index(folder)
    assert loaded.rows == 1100  # neither writer's rows were lost
    assert set(loaded.metadata["candidate_id"]) == set(corpus["candidate_id"].head(1100))
    assert verify_index(folder) == []
