"""The CLI end to end: help without torch, label + evaluate, and the whole demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from jobmatch import rules
from jobmatch.cli import main


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from jobmatch.cli import main\n"
        "for args in (['--help'], ['index', 'build', '--help'], ['query', '--help'],"
        " ['evaluate', '--help'], ['demo', '--help'], ['synth', '--help'], ['label', '--help']):\n"
        "    result = CliRunner().invoke(main, args)\n"
        "    assert result.exit_code == 0 and 'Example' in result.output, (args, result.output)\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'transformers') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_synth_label_evaluate(tmp_path: Path, tiny_model_dir: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "data"
    made = runner.invoke(
        main, ["synth", "--candidates", "300", "--jobs", "6", "--seed", "4", "--out", str(data)]
    )
    assert made.exit_code == 0, made.output
    qrels_path = data / "qrels.csv"
    labelled = runner.invoke(
        main,
        [
            "label",
            "--jobs",
            str(data / "jobs.parquet"),
            "--candidates",
            str(data / "candidates.parquet"),
            "--out",
            str(qrels_path),
        ],
    )
    assert labelled.exit_code == 0, labelled.output
    qrels = pl.read_csv(qrels_path)
    jobs = pl.read_parquet(data / "jobs.parquet")
    candidates = pl.read_parquet(data / "candidates.parquet")
    # every written pair is relevant and agrees with the scalar rules
    assert qrels["relevance"].min() >= 1
    sample = qrels.sample(min(30, qrels.height), seed=0)
    by_job = {r["job_id"]: r for r in jobs.iter_rows(named=True)}
    by_cand = {r["candidate_id"]: r for r in candidates.iter_rows(named=True)}
    rule_set = rules.load_rules()
    for job_id, cand_id, relevance in sample.iter_rows():
        assert rules.match_pair(by_job[job_id], by_cand[cand_id], rule_set).relevance == relevance

    index = tmp_path / "index"
    built = runner.invoke(
        main,
        [
            "index",
            "build",
            "--input",
            str(data / "candidates.parquet"),
            "--index",
            str(index),
            "--model",
            str(tiny_model_dir),
        ],
    )
    assert built.exit_code == 0, built.output
    evaluated = runner.invoke(
        main,
        [
            "evaluate",
            "--index",
            str(index),
            "--jobs",
            str(data / "jobs.parquet"),
            "--qrels",
            str(qrels_path),
            "--baseline",
            "bm25",
            "--json",
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.stdout)
    assert list(report) == [str(tiny_model_dir), "bm25"]
    judged_jobs = qrels["job_id"].n_unique()
    for metrics in report.values():
        assert metrics["queries"] + metrics["skipped_no_relevant"] <= 6
        assert metrics["queries"] == judged_jobs
        for name in ("ndcg@20", "recall@20", "mrr@20", "map@20", "ndcg_paper@20"):
            assert 0.0 <= metrics[name] <= 1.0
        assert metrics["ndcg_paper@20"] >= metrics["ndcg@20"] - 1e-9 or metrics["ndcg@20"] == 0


def test_demo_runs_end_to_end(tmp_path: Path, tiny_model_dir: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        main,
        [
            "demo",
            "--out",
            str(out),
            "--candidates",
            "200",
            "--jobs",
            "5",
            "--model",
            str(tiny_model_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Retrieval quality against rule-based graded labels" in result.stdout
    assert "| bm25" in result.stdout and "ndcg@20" in result.stdout
    assert "location:" in result.stdout  # explanations of the example query
    for name in (
        "data/candidates.parquet",
        "data/jobs.parquet",
        "data/qrels.parquet",
        "index/manifest.json",
    ):
        assert (out / name).is_file(), name
        assert str(out / name) in result.stdout or str(out / Path(name).parent) in result.stdout
    assert pl.read_parquet(out / "index" / "metadata.parquet").height == 200
