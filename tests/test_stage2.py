"""Stage 2 end to end: judge -> train rankpo (plain, retention) -> evaluate --preferences."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from jobmatch import io, rules
from jobmatch.cli import main
from jobmatch.synth import write_corpus
from jobmatch.training.rankpo import _cycled


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stage2")
    paths = write_corpus(folder, n_candidates=300, n_jobs=12, seed=4)
    jobs = io.read_table(paths["jobs"], "jobs")
    candidates = io.read_table(paths["candidates"], "candidates")
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rules.load_rules())))
    io.write_table(qrels, folder / "qrels.parquet")
    return {**paths, "qrels": folder / "qrels.parquet", "folder": folder}


def test_judge_train_rankpo_and_evaluate_alignment(corpus, tiny_model_dir: Path) -> None:
    runner = CliRunner()
    folder = corpus["folder"]
    prefs = folder / "preferences.parquet"
    judged = runner.invoke(
        main,
        [
            "judge",
            "--jobs",
            str(corpus["jobs"]),
            "--candidates",
            str(corpus["candidates"]),
            "--model",
            str(tiny_model_dir),
            "--judge",
            "synthetic",
            "--pairs-per-job",
            "8",
            "--out",
            str(prefs),
        ],
    )
    assert judged.exit_code == 0, judged.output
    assert io.read_table(prefs, "preferences").height == 12 * 8

    common = [
        "--preferences",
        str(prefs),
        "--jobs",
        str(corpus["jobs"]),
        "--candidates",
        str(corpus["candidates"]),
        "--model",
        str(tiny_model_dir),
        "--held-out",
        "3",
        "--batch-size",
        "8",
        "--no-progress",
    ]
    for name, extra in (
        ("plain", ["--retention-weight", "0"]),
        ("retention", ["--qrels", str(corpus["qrels"]), "--reference"]),
    ):
        out = folder / name
        result = runner.invoke(main, ["train", "rankpo", *common, *extra, "--out", str(out)])
        assert result.exit_code == 0, result.output
        history = json.loads((out / "training_history.json").read_text())
        logged = [entry for entry in history if "loss" in entry]
        assert logged and 0.0 <= logged[0]["rankpo_reward_accuracy"] <= 1.0
        evaluated = [entry for entry in history if "eval_heldout_alignment" in entry]
        assert evaluated, history
        if name == "retention":
            assert "eval_heldout_ndcg@20" in evaluated[-1]

    index = folder / "index"
    built = runner.invoke(
        main,
        [
            "index",
            "build",
            "--input",
            str(corpus["candidates"]),
            "--index",
            str(index),
            "--model",
            str(folder / "retention"),
        ],
    )
    assert built.exit_code == 0, built.output
    report = runner.invoke(
        main,
        [
            "evaluate",
            "--index",
            str(index),
            "--jobs",
            str(corpus["jobs"]),
            "--qrels",
            str(corpus["qrels"]),
            "--preferences",
            str(prefs),
            "--json",
        ],
    )
    assert report.exit_code == 0, report.output
    values = json.loads(report.stdout)[str(folder / "retention")]
    assert values["preference_pairs"] == 96 and 0.0 <= values["alignment"] <= 1.0


def test_retention_rows_cycle_to_the_preference_count() -> None:
    columns = {"anchor": ["a", "b"], "positive": ["p", "q"]}
    assert _cycled(columns, 5) == {
        "anchor": ["a", "b", "a", "b", "a"],
        "positive": ["p", "q", "p", "q", "p"],
    }
