"""Index store and query: build -> info -> query returns the exact brute-force top-k."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io
from jobmatch.cli import main
from jobmatch.errors import IndexStoreError
from jobmatch.index import build_index, load_index, read_manifest, verify_index
from jobmatch.rules import load_rules
from jobmatch.search import search
from jobmatch.testing import make_candidates


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, tiny_encoder):
    folder = tmp_path_factory.mktemp("idx") / "index"
    candidates = make_candidates()
    build_index(candidates, folder, tiny_encoder)
    return folder, candidates


def test_folder_layout_and_manifest(built, tiny_encoder) -> None:
    folder, candidates = built
    assert sorted(p.name for p in folder.iterdir()) == [
        "index.faiss",
        "manifest.json",
        "metadata.parquet",
    ]
    manifest = read_manifest(folder)
    assert manifest.rows == candidates.height
    assert manifest.dimension == tiny_encoder.dimension == 32
    assert manifest.model_fingerprint == tiny_encoder.fingerprint
    assert manifest.factory == "Flat" and manifest.metric == "inner_product"
    assert set(manifest.files) == {"index.faiss", "metadata.parquet"}
    assert verify_index(folder) == []
    metadata = pl.read_parquet(folder / "metadata.parquet")
    assert metadata["candidate_id"].to_list() == candidates["candidate_id"].to_list()


def test_search_equals_brute_force(built, tiny_encoder) -> None:
    folder, candidates = built
    loaded = load_index(folder, fingerprint=tiny_encoder.fingerprint)
    jobs = pl.DataFrame({"job_id": ["a", "b"], "text": ["senior nlp engineer berlin", "paris"]})
    hits = search(loaded, tiny_encoder, jobs, k=7)
    corpus = tiny_encoder.encode(candidates["text"].to_list())
    queries = tiny_encoder.encode(jobs["text"].to_list())
    scores = queries @ corpus.T
    for q, job_id in enumerate(["a", "b"]):
        mine = hits.filter(pl.col("job_id") == job_id)
        expected = np.argsort(-scores[q], kind="stable")[:7]
        assert mine["rank"].to_list() == list(range(1, 8))
        np.testing.assert_allclose(mine["score"].to_numpy(), scores[q][expected], atol=1e-5)
        # ids agree wherever scores are not tied
        ids = candidates["candidate_id"].to_numpy()[expected].tolist()
        for got, want, s in zip(mine["candidate_id"], ids, scores[q][expected], strict=True):
            assert got == want or np.isclose(s, scores[q]).sum() > 1


def test_explanations_use_job_fields(built, tiny_encoder) -> None:
    folder, _ = built
    loaded = load_index(folder)
    jobs = pl.DataFrame(
        {
            "job_id": ["j"],
            "text": ["staff security engineer"],
            "location": ["Berlin, Germany"],
            "seniority": [4],
            "areas": [["security"]],
        },
        schema_overrides={"seniority": pl.Int8},
    )
    hits = search(loaded, tiny_encoder, jobs, k=60, explain=load_rules())
    assert hits.height == 60  # k larger than... equal to the corpus: every row once
    row = hits.filter(pl.col("candidate_id") == "c003").row(0, named=True)  # security, London
    assert row["explanation"].startswith("location: different country (London, United Kingdom)")
    assert "areas: 1 shared — security" in row["explanation"]


def test_fingerprint_mismatch_and_corruption_are_errors(built, tmp_path: Path) -> None:
    folder, _ = built
    with pytest.raises(IndexStoreError, match="fingerprint"):
        load_index(folder, fingerprint="0" * 16)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("index.faiss", "manifest.json"):
        (broken / name).write_bytes((folder / name).read_bytes())
    (broken / "metadata.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(IndexStoreError, match=r"metadata\.parquet has"):
        load_index(broken)
    assert "metadata.parquet checksum does not match the manifest" in verify_index(broken)


def test_rebuild_replaces_folder_atomically(tmp_path: Path, tiny_encoder) -> None:
    folder = tmp_path / "index"
    build_index(make_candidates(10), folder, tiny_encoder)
    build_index(make_candidates(20), folder, tiny_encoder)
    assert read_manifest(folder).rows == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index", "index.lock"]


def test_cli_build_info_query_round_trip(
    tmp_path: Path, tiny_model_dir: Path, tiny_encoder
) -> None:
    candidates = make_candidates()
    source = tmp_path / "people.csv"
    io.write_table(candidates.rename({"candidate_id": "person"}), source)
    folder = tmp_path / "index"
    runner = CliRunner()
    built = runner.invoke(
        main,
        [
            "index",
            "build",
            "--input",
            str(source),
            "--index",
            str(folder),
            "--id-col",
            "person",
            "--model",
            str(tiny_model_dir),
        ],
    )
    assert built.exit_code == 0, built.output
    assert "indexed 60 candidates (32-d, Flat)" in built.stderr

    info = runner.invoke(main, ["index", "info", str(folder)])
    assert info.exit_code == 0
    assert json.loads(info.stdout)["rows"] == 60

    out = tmp_path / "hits.jsonl"
    queried = runner.invoke(
        main,
        [
            "query",
            "--index",
            str(folder),
            "--text",
            "senior nlp engineer",
            "--text",
            "paris",
            "-k",
            "5",
            "--out",
            str(out),
        ],
    )
    assert queried.exit_code == 0, queried.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["job_id"], r["rank"]) for r in rows] == [("q1", i) for i in range(1, 6)] + [
        ("q2", i) for i in range(1, 6)
    ]
    corpus = tiny_encoder.encode(candidates["text"].to_list())
    query = tiny_encoder.encode(["senior nlp engineer"])[0]
    best = np.sort(corpus @ query)[::-1][:5]
    np.testing.assert_allclose([r["score"] for r in rows[:5]], best, atol=1e-5)
    assert {"location", "seniority", "areas"} <= set(rows[0])
    assert "text" not in rows[0]

    table = runner.invoke(main, ["query", "--index", str(folder), "--text", "paris", "-k", "3"])
    assert table.exit_code == 0
    assert table.stdout.count("| q1") == 3


def test_cli_query_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["query", "--index", str(tmp_path / "none"), "--text", "x"])
    assert missing.exit_code == 2
    assert missing.stderr.strip() == f"error: {tmp_path / 'none'}: no index folder there"
    both = runner.invoke(main, ["query", "--index", str(tmp_path), "--text", "x", "--jobs", "j"])
    assert both.exit_code == 2
    assert "either --text" in both.stderr
