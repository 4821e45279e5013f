"""Two-stage training benchmark: BM25, zero-shot, stage 1 (random, mined), RankPO (plain,
with retention) on held-out jobs of a synthetic corpus.

Usage:
    python benchmarks/two_stage.py                       # 4,000 candidates, 250 jobs, 50 held out
    python benchmarks/two_stage.py --candidates 20000 --jobs 600 --held-out 100

Runs pipelines/train_two_stage.py with the bundled all-MiniLM-L6-v2 on this CPU and copies
its results (metrics, training wall time and examples/s, step times) with machine info to
benchmarks/results/two_stage.json.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import click
from _common import RESULTS, ROOT, machine_info, script_help, write_json


def _pipeline():
    spec = importlib.util.spec_from_file_location(
        "train_two_stage", ROOT / "pipelines" / "train_two_stage.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_two_stage"] = module
    spec.loader.exec_module(module)
    return module


@click.command(help=script_help(__doc__))
@click.option("--candidates", type=int, default=4000, show_default=True)
@click.option("--jobs", type=int, default=250, show_default=True)
@click.option("--held-out", type=int, default=50, show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default=None)
def main(
    candidates: int,
    jobs: int,
    held_out: int,
    workdir: str | None,
) -> None:
    pipeline = _pipeline()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        config = pipeline.TwoStageConfig(
            out=Path(tmp) / "run",
            candidates=candidates,
            jobs=jobs,
            held_out=held_out,
            progress=False,
        )
        results = pipeline.main(config)
    results["machine"] = machine_info(cpu_key=None)
    results["date"] = time.strftime("%Y-%m-%d")
    out = write_json(results, RESULTS / "two_stage.json")
    click.echo(f"wrote {out}")


if __name__ == "__main__":
    main()
