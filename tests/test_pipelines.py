"""Batch-job entry points under pipelines/, run on generated data with a tiny model."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import polars as pl
import pytest

from jobmatch import io
from jobmatch.index import load_index, verify_index
from jobmatch.synth import write_corpus

ROOT = Path(__file__).resolve().parents[1]


def load_pipeline(name: str):
    """pipelines/NAME.py as module `pipeline_NAME` (benchmarks/ has scripts of the same names)."""
    module_name = f"pipeline_{name}"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "pipelines" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up there
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


@pytest.fixture(scope="module")
def two_stage_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir) -> tuple[dict, Path]:
    """One full two-stage pipeline run on a tiny model, shared by the tests that read it."""
    pipeline = load_pipeline("train_two_stage")
    out = tmp_path_factory.mktemp("two-stage") / "run"
    config = pipeline.TwoStageConfig(
        out=out,
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
    return pipeline.main(config), out


def test_train_two_stage_runs_every_step(two_stage_run: tuple[dict, Path]) -> None:
    results, run = two_stage_run
    assert list(results["metrics"]) == [
        "zero-shot",
        "bm25",
        "stage1-random",
        "stage1-mined",
        "rankpo",
        "rankpo-retention",
        "rankpo-head",
    ]
    for system in ("stage1-mined", "rankpo", "rankpo-retention", "rankpo-head"):
        assert 0.0 <= results["metrics"][system]["alignment"] <= 1.0
    prefs = pl.read_parquet(run / "preferences.parquet")
    assert prefs.height > 0 and (prefs["chosen"] != prefs["rejected"]).all()
    for values in results["metrics"].values():
        assert values["queries"] + values["skipped_no_relevant"] == 6
        assert 0.0 <= values["ndcg@20"] <= 1.0
    assert results["training"]["stage1-mined"]["examples"] > 0
    assert (run / "stage1-mined" / "modules.json").is_file()
    head_modules = json.loads((run / "rankpo-head" / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in head_modules][-2:] == ["Dense", "Normalize"]
    held = set(pl.read_parquet(run / "heldout_jobs.parquet")["job_id"])
    mined = [json.loads(line) for line in (run / "mined.jsonl").read_text().splitlines()]
    assert mined and not {row["job_id"] for row in mined} & held  # held-out jobs never trained on


def test_rankpo_sweep_benchmark_runs_on_a_pipeline_run(
    two_stage_run: tuple[dict, Path], tmp_path: Path
) -> None:
    """benchmarks/rankpo_sweep.py end to end at toy size (no speed asserted)."""
    from click.testing import CliRunner

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import rankpo_sweep

    _, run = two_stage_run
    out = tmp_path / "sweep.json"
    common = ["--run", str(run), "--train-pairs", "16", "--batch-size", "4", "--out", str(out)]
    result = CliRunner().invoke(
        rankpo_sweep.main, [*common, "--lrs", "1e-4", "--weights", "0,1"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    sweep = json.loads(out.read_text())
    assert [(p["lr"], p["retention_weight"]) for p in sweep["points"]] == [(1e-4, 0.0), (1e-4, 1.0)]
    for entry in [sweep["stage1"], *sweep["points"]]:
        assert 0.0 <= entry["ndcg@20"] <= 1.0 and 0.0 <= entry["alignment"] <= 1.0
        assert entry["heldout_pairs"] > 0
        parts = entry["alignment_by_attribute"].values()
        assert sum(part["pairs"] for part in parts) == entry["heldout_pairs"]
        aligned = sum(part["pairs"] * part["alignment"] for part in parts)
        assert aligned == pytest.approx(entry["alignment"] * entry["heldout_pairs"], abs=0.01)
        assert 0.0 <= entry["train_alignment"] <= 1.0
        assert entry["train_alignment_pairs"] == 16  # every one of the --train-pairs sample
        fit = entry["judge_term_fit"]  # held-out margins regressed on the judge's terms
        assert list(fit["coefficients"]) == ["rules", "must-have", "nice-to-have", "impact"]
        assert 0.0 <= fit["r2"] <= 1.0
    assert all(p["steps"] > 0 for p in sweep["points"])
    assert 0.5 <= sweep["label_ceiling"] <= 1.0  # the judge's own noise-free answers
    ceilings = sweep["label_ceilings"]  # the noise-free judge with a subset of its terms
    assert len(ceilings) == 15 and all(0.0 <= value <= 1.0 for value in ceilings.values())
    assert ceilings["rules+must-have+nice-to-have+impact"] == sweep["label_ceiling"]
    assert out.with_suffix(".png").stat().st_size > 0

    result = CliRunner().invoke(
        rankpo_sweep.main, [*common, "--steps-only", "--timing-steps", "2"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    timing = json.loads(out.read_text())["reference_timing"]
    assert timing["precomputed"]["steps_per_s"] > 0 and timing["online"]["steps_per_s"] > 0
    assert len(json.loads(out.read_text())["points"]) == 2  # earlier points kept

    args = [*common, "--lrs", "1e-2", "--weights", "1", "--mode", "head"]
    result = CliRunner().invoke(rankpo_sweep.main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    points = json.loads(out.read_text())["points"]  # a new point, not the full weight-1 one
    assert [p.get("linear_head", False) for p in points] == [False, False, True]
    assert [p.get("retention_loss") for p in points] == ["none", "contrastive", "preference"]
    assert points[-1]["lr"] == 1e-2 and points[-1]["steps"] > 0


def test_rankpo_sweep_spreads_training_pairs_over_more_jobs(
    two_stage_run: tuple[dict, Path],
) -> None:
    """--more-jobs synthesises and judges new training jobs after the run's own;
    --pairs-per-job caps each job's training pairs."""
    import click

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import rankpo_sweep

    _, run = two_stage_run
    base = rankpo_sweep.load_run(run, train_pairs=0, seed=0)
    spread = rankpo_sweep.load_run(run, train_pairs=0, seed=0, more_jobs=10, pairs_per_job=1)

    original = set(base["jobs"]["job_id"])
    extra = set(spread["jobs"]["job_id"]) - original
    assert len(extra) == 10 and spread["jobs"].height == base["jobs"].height + 10
    per_job = spread["train_prefs"].group_by("job_id").len()
    assert per_job["len"].max() == 1
    trained_on = set(per_job["job_id"])
    assert trained_on & extra and trained_on & original
    assert not trained_on & set(base["held"]["job_id"])  # held-out jobs stay held out
    assert spread["train_prefs_jobs"] == len(trained_on)
    assert spread["held_prefs"].equals(base["held_prefs"])  # evaluated on the same pairs
    assert spread["rule_jobs"].equals(base["rule_jobs"])  # retention keeps the rule jobs
    cached = pl.read_parquet(run / "more-jobs-10-seed0" / "preferences.parquet")
    assert set(cached["job_id"]) <= extra and cached.height > 0

    with pytest.raises(click.ClickException, match="not `jobmatch synth` output with seed 1"):
        rankpo_sweep.load_run(run, train_pairs=0, seed=1, more_jobs=10)


def _team_data(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A folder of DOCX and .txt resumes, a jobs table and a team's outcome table for them."""
    import docx

    from jobmatch import rules

    paths = write_corpus(tmp_path / "synth", n_candidates=120, n_jobs=24, seed=3)
    candidates = io.read_table(paths["candidates"], "candidates")
    jobs = io.read_table(paths["jobs"], "jobs")
    folder = tmp_path / "resumes"
    (folder / "2024").mkdir(parents=True)
    for i, (candidate_id, text) in enumerate(candidates.select("candidate_id", "text").rows()):
        if i % 2:
            (folder / f"{candidate_id}.txt").write_text(text, "utf-8")
        else:
            document = docx.Document()
            document.add_paragraph(text)
            document.save(folder / "2024" / f"{candidate_id}.docx")
    ids = {c: (c if i % 2 else f"2024/{c}") for i, c in enumerate(candidates["candidate_id"])}
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rules.load_rules())))
    outcomes = qrels.select(
        "job_id",
        pl.col("candidate_id").replace_strict(ids),
        pl.col("relevance").replace_strict({1: "applied", 2: "Shortlisted", 3: "hired"}),
    ).rename({"relevance": "outcome"})
    io.write_table(jobs.select("job_id", "text"), tmp_path / "jobs.csv")
    outcomes.write_csv(tmp_path / "outcomes.csv")
    return folder, tmp_path / "jobs.csv", tmp_path / "outcomes.csv"


def test_adapt_from_documents_and_team_labels(tmp_path: Path, tiny_model_dir) -> None:
    pipeline = load_pipeline("adapt")
    resumes, jobs, outcomes = _team_data(tmp_path)
    config = pipeline.AdaptConfig(
        candidates=str(resumes),
        jobs=str(jobs),
        out=tmp_path / "run",
        labels=outcomes,
        model=str(tiny_model_dir),
        modes=("head", "full"),
        held_out=6,
        epochs=2,
        progress=False,
    )
    results = pipeline.main(config)
    assert list(results["metrics"]) == ["zero-shot", "bm25", "adapted-head", "adapted-full"]
    corpus = results["corpus"]
    assert corpus["candidates"] == 120 and corpus["heldout_jobs"] == 6
    assert corpus["training_jobs"] + corpus["validation_jobs"] + 6 == corpus["labelled_jobs"]
    held = set(pl.read_parquet(config.out / "heldout_jobs.parquet")["job_id"])
    extracted = pl.read_parquet(config.out / "candidates.parquet")
    assert "2024/" + extracted["candidate_id"][0].split("/")[-1] in set(extracted["candidate_id"])
    assert held and len(held) == 6
    for mode in ("head", "full"):
        assert load_index(config.out / "indexes" / f"adapted-{mode}").rows == 120
        assert 0.0 <= results["metrics"][f"adapted-{mode}"]["ndcg@20"] <= 1.0
        assert results["training"][mode]["steps"] > 0
    saved = json.loads((config.out / "results.json").read_text())
    assert saved["metrics"] == results["metrics"]


def test_adapt_refuses_labels_for_unknown_candidates(tmp_path: Path, tiny_model_dir) -> None:
    from click.testing import CliRunner

    pipeline = load_pipeline("adapt")
    resumes, jobs, outcomes = _team_data(tmp_path)
    rows = pl.read_csv(outcomes).height
    with outcomes.open("a") as stream:
        stream.write("nojob,nobody,hired\n")
    args = ["--candidates", str(resumes), "--jobs", str(jobs), "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(
        pipeline.cli, [*args, "--labels", str(outcomes), "--model", str(tiny_model_dir)]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"error: {outcomes}, row {rows + 1}, column 'job_id': unknown job 'nojob'"
    )
    both = CliRunner().invoke(
        pipeline.cli, [*args, "--labels", str(outcomes), "--rules", str(outcomes)]
    )
    assert both.exit_code == 2 and "exactly one of --rules and --labels" in both.output
