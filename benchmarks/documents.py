"""Document import benchmark: files/s of text extraction from PDFs, in-process vs worker
processes, on this CPU.

Usage:
    python benchmarks/documents.py                       # 200 three-page PDFs, workers 1 and 2
    python benchmarks/documents.py --files 50 --pages 5 --workers 1 2 4

Generates `--files` PDFs with fpdf2 (a running header, "Page n of N" footers and ~40 lines of
resume-like text per page) in a temporary folder, then times `read_documents` over the folder
once per `--workers` value, `--repeats` times (the best pass counts; each pass records the
CPU share other processes took, since the machine is shared). Worker timings include starting
the processes (spawn), as `jobmatch import documents` pays it. Writes
benchmarks/results/documents.json.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    RESULTS,
    CpuMeter,
    config_command,
    config_dict,
    load_average,
    machine_info,
    package_versions,
    script_help,
    write_json,
)

_VOCABULARY = (
    "python rust kubernetes terraform search ranking retrieval engineer data pipeline spark "
    "team led built designed scaled latency berlin munich paris remote senior staff nlp ir "
    "models training evaluation production customers platform services migration cloud"
)
WORDS = _VOCABULARY.split()


@dataclass
class Config:
    files: int = field(default=200, metadata={"help": "PDFs to generate"})
    pages: int = field(default=3, metadata={"help": "pages per PDF"})
    lines: int = field(default=40, metadata={"help": "text lines per page"})
    workers: tuple[int, ...] = field(default=(1, 2), metadata={"help": "worker counts to time"})
    repeats: int = field(default=2, metadata={"help": "timed passes per worker count"})
    seed: int = field(default=0, metadata={"help": "text seed"})
    workdir: Path | None = field(default=None, metadata={"help": "where PDFs go (default: tmp)"})
    out: Path = field(default=RESULTS / "documents.json", metadata={"help": "JSON out"})


def make_pdfs(folder: Path, config: Config) -> float:
    """Write the PDFs; returns seconds taken."""
    from fpdf import FPDF

    started = time.perf_counter()
    rng = random.Random(config.seed)

    class Resume(FPDF):
        title = ""

        def header(self) -> None:
            self.set_font("Helvetica", size=9)
            self.cell(0, 6, self.title, new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 6, f"Page {self.page_no()} of {{nb}}", align="C")

    for number in range(config.files):
        pdf = Resume()
        pdf.title = f"Candidate {number} - Curriculum Vitae"
        pdf.alias_nb_pages()
        pdf.set_auto_page_break(False)
        for _ in range(config.pages):
            pdf.add_page()
            pdf.set_font("Helvetica", size=10)
            for _ in range(config.lines):
                line = " ".join(rng.choice(WORDS) for _ in range(12))
                pdf.cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(folder / f"cv_{number:04d}.pdf"))
    return time.perf_counter() - started


def time_reads(folder: Path, workers: int, repeats: int) -> dict[str, Any]:
    from jobmatch.documents import read_documents

    passes = []
    rows = 0
    for _ in range(repeats):
        meter = CpuMeter()
        children = _children_cpu()
        started = time.perf_counter()
        table = read_documents(folder, workers=workers)
        seconds = time.perf_counter() - started
        rows = table.frame.height
        # CpuMeter counts our worker processes as "others"; take their CPU time back out
        workers_share = (_children_cpu() - children) / (seconds * (os.cpu_count() or 1))
        others = meter.others_share()
        others = None if others is None else round(max(0.0, others - workers_share), 3)
        passes.append({"seconds": round(seconds, 3), "others_cpu_share": others})
    best = min(p["seconds"] for p in passes)
    return {
        "workers": workers,
        "rows": rows,
        "best_s": best,
        "files_per_s": round(rows / best, 1),
        "passes": passes,
    }


def _children_cpu() -> float:
    """CPU seconds of finished child processes (the pool's workers, once shut down)."""
    times = os.times()
    return times.children_user + times.children_system


def main(config: Config) -> dict[str, Any]:
    machine = machine_info(load_average_start=load_average())
    with tempfile.TemporaryDirectory(dir=config.workdir) as tmp:
        folder = Path(tmp)
        generate_s = make_pdfs(folder, config)
        total_bytes = sum(p.stat().st_size for p in folder.glob("*.pdf"))
        results = []
        for workers in config.workers:
            result = time_reads(folder, workers, config.repeats)
            results.append(result)
            print(json.dumps(result), flush=True)
    base = results[0]["files_per_s"]
    report = {
        "benchmark": "documents",
        "machine": machine,
        "versions": package_versions("pypdf", "fpdf2", "polars"),
        "parameters": config_dict(config, exclude=("workdir", "out")),
        "corpus": {
            "files": config.files,
            "pages_per_file": config.pages,
            "mean_bytes": round(total_bytes / config.files),
            "generate_s": round(generate_s, 2),
        },
        "results": results,
        "speedup_vs_first": {str(r["workers"]): round(r["files_per_s"] / base, 2) for r in results},
    }
    report["machine"]["load_average_end"] = load_average()
    write_json(report, config.out)
    return report


@config_command(Config, help=script_help(__doc__))
def cli(config: Config) -> None:
    main(config)


if __name__ == "__main__":
    cli()
