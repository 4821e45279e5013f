"""Benchmark scripts run end to end at toy sizes, so they never rot (no speed asserted)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def benchmarks_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripts import each other and _common by name, as `python benchmarks/X.py` allows."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))


def test_config_options_keep_the_command_lines() -> None:
    """Options built from a Config dataclass: defaults are the fields', several values follow
    one flag (as argparse's nargs="+" took them) or repeat it, bools are --x/--no-x."""
    import index_build
    import index_factories
    from _common import parse_config

    assert parse_config(index_factories.Config, []) == index_factories.Config()
    config = parse_config(
        index_factories.Config,
        ["--factories", "Flat", "IVF16,Flat", "--no-sweep", "--n", "10", "--queries", "300"],
    )
    assert config.factories == ("Flat", "IVF16,Flat") and not config.sweep and config.n == 10
    assert config.queries == 300 and config.k == 20
    with pytest.raises(click.UsageError, match="single_queries"):
        parse_config(index_factories.Config, ["--queries", "5"])  # the Config's own check
    built = parse_config(
        index_build.IndexBuildConfig,
        ["--text-sizes", "1", "--text-sizes=2", "3", "--workdir", "/tmp", "--chunk-rows", "64"],
    )
    assert built.text_sizes == [1, 2, 3] and built.workdir == Path("/tmp")
    assert built.chunk_rows == 64 and built.store_sizes == [100_000, 1_000_000]


def test_query_benchmark(tmp_path: Path, tiny_model_dir: Path) -> None:
    import query

    out = tmp_path / "query.json"
    args = ["--n", "600", "--factory", "Flat", "--model", str(tiny_model_dir), "--queries", "5",
            "--batch", "8", "--help-repeats", "1", "--workdir", str(tmp_path),
            "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(query.main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures["index"]["n"] == 600 and figures["index"]["index_type"] == "IndexFlatIP"
    assert figures["single"]["queries"] == 5
    assert 0 < figures["single"]["p50_ms"] <= figures["single"]["p99_ms"]
    assert figures["batch"]["hits"] == 8 * 20
    assert figures["help"]["best_s"] > 0


def test_report_regenerates_only_marked_blocks(tmp_path: Path) -> None:
    import report

    results = tmp_path / "results"
    results.mkdir()
    (results / "query.json").write_text(
        json.dumps(
            {
                "index": {"n": 600, "factory": "Flat", "index_type": "IndexFlatIP",
                          "search_params": {}, "load_s": 0.1},
                "model": {"load_s": 1.5},
                "parameters": {"k": 20},
                "single": {"p50_ms": 12.5, "p99_ms": 30.25, "encode_p50_ms": 11.0,
                           "search_p50_ms": 0.5, "search_p99_ms": 0.75},
                "batch": {"queries": 8, "queries_per_s": 40.0},
                "help": {"best_s": 0.18, "median_s": 0.2},
            }
        )
    )  # fmt: skip
    readme = "intro\n<!-- query-table:start -->\nstale\n<!-- query-table:end -->\noutro\n"
    updated = report.render_readme(readme, results)
    assert "stale" not in updated and updated.startswith("intro\n") and updated.endswith("outro\n")
    assert "| 12.5 / 30.2 ms |" in updated or "| 12.5 / 30.3 ms |" in updated
    assert "0.18 / 0.20 s" in updated
    assert report.render_readme(updated, results) == updated  # idempotent
    # a block whose JSON is missing stays as written
    other = "<!-- encode-table:start -->\nkept\n<!-- encode-table:end -->\n"
    assert report.render_readme(other, results) == other


def test_index_factories_benchmark(tmp_path: Path) -> None:
    import index_factories

    out, plot = tmp_path / "factories.json", tmp_path / "factories.png"
    args = ["--n", "3000", "--queries", "40", "--single-queries", "5", "--dimension", "32",
            "--rank", "8", "--factories", "Flat", "IVF16,Flat", "--no-sweep", "--quiet-wait", "0",
            "--out", str(out), "--plot", str(plot)]  # fmt: skip
    result = CliRunner().invoke(index_factories.cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    rows = {row["factory"]: row for row in report["results"]}
    assert set(rows) == {"Flat", "IVF16,Flat"}
    assert rows["Flat"]["recall_at_20"] == 1.0  # exact search is its own ground truth
    assert 0 < rows["IVF16,Flat"]["recall_at_20"] <= 1.0
    assert report["sgemm"]["gflops"] > 0 and plot.stat().st_size > 0


def test_index_build_benchmark(tmp_path: Path) -> None:
    import index_build

    out = tmp_path / "index_build.json"
    args = ["--text-sizes", "300", "--store-sizes", "2000", "--store-factories", "Flat",
            "--chunk-rows", "512", "--workdir", str(tmp_path), "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(index_build.cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    (text,) = report["text_builds"]
    (store,) = report["store_builds"]
    assert text["n"] == 300 and store["n"] == 2000 and store["factory"] == "Flat"
    # a python process with torch loaded holds well over 50 MiB: the child's RSS was read
    assert text["peak_rss_mib"] > 50 and store["peak_rss_mib"] > 50


def test_index_build_peak_rss_is_the_commands_own() -> None:
    """Linux carries a parent's RSS into a forked child's maximum: a measure taken straight from
    this (large) test process would report at least its size for any command."""
    import index_build

    ballast = bytearray(300 * 2**20)  # make this process big, as the benchmark process is
    ballast[:: 2**12] = b"x" * len(ballast[:: 2**12])  # touch every page
    small = index_build.timed([sys.executable, "-c", "pass"], env=dict(os.environ))
    large = index_build.timed(
        [sys.executable, "-c", "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"],
        env=dict(os.environ),
    )
    assert small["peak_rss_mib"] < 100 < 200 < large["peak_rss_mib"] < 300
    del ballast


def test_adapt_benchmark(tmp_path: Path, tiny_model_dir: Path) -> None:
    import adapt
    import report

    out = tmp_path / "adapt.json"
    args = ["--candidates", "150", "--jobs", "30", "--held-out", "6", "--mode", "head",
            "--model", str(tiny_model_dir), "--workdir", str(tmp_path),
            "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(adapt.main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert list(figures["metrics"]) == ["zero-shot", "bm25", "adapted-head"]
    assert figures["corpus"]["heldout_jobs"] == 6 and figures["corpus"]["candidates"] == 150
    goal = figures["goals"]["head"]
    gain = (
        figures["metrics"]["adapted-head"]["ndcg@20"] - figures["metrics"]["zero-shot"]["ndcg@20"]
    )
    assert goal["gain_ndcg@20"] == pytest.approx(gain, abs=1e-4)
    assert "stage 1, --mode head" in report.adapt(figures)
