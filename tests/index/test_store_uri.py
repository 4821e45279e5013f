"""Embedding stores on filesystem URIs: fsspec's memory:// and S3 (a moto server on 127.0.0.1)."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io
from jobmatch.cli import main
from jobmatch.errors import IndexStoreError
from jobmatch.index import BuildConfig, build_from_embeddings, build_index, load_index
from jobmatch.index.build import encode_into_store
from jobmatch.index.embeddings import EmbeddingStore, StoreInfo
from jobmatch.index.faiss_ops import reconstruct
from jobmatch.index.folder import Folder
from jobmatch.io.batches import iter_chunks
from jobmatch.synth import write_corpus


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    return write_corpus(folder, n_candidates=600, n_jobs=3, seed=5)["candidates"]


def memory_uri() -> str:
    return f"memory://jobmatch-tests/{uuid.uuid4().hex}/store"


def test_memory_uri_store_equals_local_store_and_resumes(
    tmp_path: Path, corpus_file: Path, tiny_encoder
) -> None:
    uri, local = memory_uri(), tmp_path / "store"
    for where, index in ((uri, "remote"), (local, "local")):
        config = BuildConfig(factory="Flat", chunk_rows=128, save_embeddings=where)
        build_index([corpus_file], tmp_path / index, tiny_encoder, config)
    remote_store, local_store = EmbeddingStore.open(uri), EmbeddingStore.open(local)
    assert remote_store.info == local_store.info
    assert remote_store.part_indices() == local_store.part_indices() == [0, 1, 2, 3, 4]
    assert remote_store.rows() == 600
    for (frame_a, vectors_a), (frame_b, vectors_b) in zip(
        remote_store.iter_parts(), local_store.iter_parts(), strict=True
    ):
        assert frame_a.equals(frame_b)
        np.testing.assert_array_equal(vectors_a, vectors_b)
    np.testing.assert_array_equal(remote_store.sample(50), local_store.sample(50))

    build_from_embeddings(uri, tmp_path / "from-uri", BuildConfig(factory="Flat"))
    a, b = load_index(tmp_path / "from-uri"), load_index(tmp_path / "local")
    assert a.metadata.equals(b.metadata)
    np.testing.assert_array_equal(
        reconstruct(a.index, np.arange(600)), reconstruct(b.index, np.arange(600))
    )

    # a killed build lost its last part: resume re-encodes only that one
    remote_store.folder.delete(EmbeddingStore.part_name(4))
    resumed = EmbeddingStore.create(uri, remote_store.info, resume=True)
    chunks = iter_chunks([corpus_file], "candidates", chunk_rows=128)
    assert encode_into_store(chunks, resumed, tiny_encoder, BuildConfig(), total=None) == 4
    assert resumed.part_indices() == [0, 1, 2, 3, 4]


def test_failed_remote_write_keeps_the_old_file_and_leaves_no_temporary() -> None:
    folder = Folder.of(memory_uri())
    folder.make()
    old = pl.DataFrame({"candidate_id": ["a", "b"]})
    folder.write_parquet("part-00000.parquet", old)

    def torn(handle) -> None:
        handle.write(b"PAR1 half a file")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError, match="killed mid-write"):
        folder.write_atomic("part-00000.parquet", torn)
    assert folder.file_names() == ["part-00000.parquet"]
    assert pl.from_arrow(folder.read_parquet("part-00000.parquet")).equals(old)


def test_store_uri_errors_are_one_line(tmp_path: Path, corpus_file: Path, tiny_model_dir) -> None:
    with pytest.raises(IndexStoreError, match=r"^nosuch://x/y: unsupported filesystem URI"):
        Folder.of("nosuch://x/y?secret=1")
    runner = CliRunner()
    for uri, message in (
        ("nosuch://x/y?token=hidden", "error: nosuch://x/y: unsupported filesystem URI"),
        (memory_uri(), "not an embedding store (store.json missing)"),
    ):
        result = runner.invoke(main, ["index", "build", "--embeddings", uri, "--index", "i"])
        assert result.exit_code == 2, result.output
        assert message in result.output and "hidden" not in result.output
        assert len(result.output.strip().splitlines()) == 1
    # a store that is not empty and not a store is refused before anything is written
    uri = memory_uri()
    Folder.of(uri).write_text("notes.txt", "someone else's files")
    result = runner.invoke(
        main,
        [
            "index", "build", "--input", str(corpus_file), "--index", str(tmp_path / "i"),
            "--model", str(tiny_model_dir), "--save-embeddings", uri,
        ],
    )  # fmt: skip
    assert result.exit_code == 2 and "not empty and not an embedding store" in result.output
    assert not (tmp_path / "i").exists()


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch):
    """A real S3 API (moto's server) on 127.0.0.1 with one bucket; yields the URI query."""
    import boto3
    from moto.server import ThreadedMotoServer

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        boto3.client("s3", endpoint_url=f"http://{host}:{port}").create_bucket(Bucket="talent")
        yield f"endpoint_override={host}:{port}&scheme=http&region=us-east-1"
    finally:
        server.stop()


def test_cli_builds_through_an_s3_store(
    tmp_path: Path, corpus_file: Path, tiny_model_dir, s3_bucket: str
) -> None:
    uri = f"s3://talent/embeddings/v1?{s3_bucket}"
    runner = CliRunner()
    base = ["index", "build", "--model", str(tiny_model_dir), "--factory", "Flat"]
    first = runner.invoke(
        main,
        [*base, "--input", str(corpus_file), "--index", str(tmp_path / "a"),
         "--chunk-rows", "256", "--save-embeddings", uri],
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, [*base, "--embeddings", uri, "--index", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    store = EmbeddingStore.open(uri)
    assert store.folder.file_names() == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet", "store.json"
    ]  # fmt: skip
    a, b = load_index(tmp_path / "a"), load_index(tmp_path / "b")
    assert a.metadata.equals(b.metadata)
    np.testing.assert_array_equal(
        reconstruct(a.index, np.arange(600)), reconstruct(b.index, np.arange(600))
    )
    jobs = io.read_table(corpus_file.with_name("jobs.parquet"), "jobs")
    out_a, out_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for index, out in ((tmp_path / "a", out_a), (tmp_path / "b", out_b)):
        result = runner.invoke(
            main,
            ["query", "--index", str(index), "--jobs", str(corpus_file.with_name("jobs.parquet")),
             "-k", "10", "--format", "jsonl", "--out", str(out)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    assert out_a.read_text() == out_b.read_text()
    assert len(out_a.read_text().splitlines()) == 10 * jobs.height


def test_store_info_round_trips_through_a_uri() -> None:
    info = StoreInfo(model="m", model_fingerprint="f", dimension=4, chunk_rows=2)
    uri = memory_uri()
    created = EmbeddingStore.create(uri, info, resume=False)
    vectors = np.eye(2, 4, dtype=np.float32)
    created.write_part(0, pl.DataFrame({"candidate_id": ["x", "y"]}), vectors)
    reopened = EmbeddingStore.open(uri)
    assert reopened.info == info and str(reopened.folder) == uri
    frame, read = next(reopened.iter_parts())
    assert frame["candidate_id"].to_list() == ["x", "y"]
    np.testing.assert_array_equal(read, vectors)
