"""Benchmark scripts run end to end at toy sizes, so they never rot (no speed asserted)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


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
