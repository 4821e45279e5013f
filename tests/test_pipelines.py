"""Batch-job entry points under pipelines/, run on generated data with a tiny model."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import polars as pl

from jobmatch import io
from jobmatch.index import load_index, verify_index
from jobmatch.synth import write_corpus

ROOT = Path(__file__).resolve().parents[1]


def load_pipeline(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "pipelines" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_index_corpus_builds_then_upserts_only_changes(tmp_path: Path, tiny_model_dir) -> None:
    pipeline = load_pipeline("index_corpus")
    paths = write_corpus(tmp_path / "data", n_candidates=400, n_jobs=2, seed=5)
    corpus = io.read_table(paths["candidates"], "candidates")
    source = tmp_path / "corpus.parquet"
    io.write_table(corpus.head(300), source)
    config = pipeline.IndexCorpusConfig(
        [str(source)], tmp_path / "indexes" / "talent", model=str(tiny_model_dir), progress=False
    )
    first = pipeline.main(config)
    assert (first.mode, first.added, first.rows) == ("built", 300, 300)

    edited = corpus.head(300).with_columns(
        pl.when(pl.col("candidate_id") == corpus["candidate_id"][5])
        .then(pl.col("text") + " Recently moved into management.")
        .otherwise(pl.col("text"))
        .alias("text")
    )
    io.write_table(pl.concat([edited.slice(2), corpus.slice(300, 50)]), source)  # drop 2, add 50
    config.prune = True
    second = pipeline.main(config)
    assert (second.mode, second.added, second.updated, second.removed, second.unchanged) == (
        "updated",
        50,
        1,
        2,
        297,
    )
    assert second.rows == 348
    loaded = load_index(config.index)
    assert loaded.metadata["candidate_id"].n_unique() == 348
    assert verify_index(config.index) == []
    assert str(second).startswith("updated: added 50, updated 1, removed 2, unchanged 297")


def test_train_two_stage_runs_every_step(tmp_path: Path, tiny_model_dir) -> None:
    pipeline = load_pipeline("train_two_stage")
    config = pipeline.TwoStageConfig(
        out=tmp_path / "run",
        candidates=300,
        jobs=30,
        held_out=6,
        model=str(tiny_model_dir),
        batch_size=8,
        negatives=2,
        mining_range=(0, 30),
        mining_num=4,
        progress=False,
    )
    results = pipeline.main(config)
    assert list(results["metrics"]) == [
        "zero-shot",
        "bm25",
        "stage1-random",
        "stage1-mined",
        "rankpo",
        "rankpo-retention",
    ]
    for system in ("stage1-mined", "rankpo", "rankpo-retention"):
        assert 0.0 <= results["metrics"][system]["alignment"] <= 1.0
    prefs = pl.read_parquet(tmp_path / "run" / "preferences.parquet")
    assert prefs.height > 0 and (prefs["chosen"] != prefs["rejected"]).all()
    for values in results["metrics"].values():
        assert values["queries"] + values["skipped_no_relevant"] == 6
        assert 0.0 <= values["ndcg@20"] <= 1.0
    assert results["training"]["stage1-mined"]["examples"] > 0
    assert (tmp_path / "run" / "stage1-mined" / "modules.json").is_file()
    held = set(pl.read_parquet(tmp_path / "run" / "heldout_jobs.parquet")["job_id"])
    mined = [
        json.loads(line) for line in (tmp_path / "run" / "mined.jsonl").read_text().splitlines()
    ]
    assert mined and not {row["job_id"] for row in mined} & held  # held-out jobs never trained on
