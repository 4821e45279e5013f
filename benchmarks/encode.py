"""Encoding benchmark: documents/s and tokens/s per backend/quantisation on this CPU, with
agreement with torch fp32 and nDCG@20 retention on a synthetic evaluation.

Usage:
    python benchmarks/encode.py                          # bundled all-MiniLM-L6-v2, 2,000 docs
    python benchmarks/encode.py --candidates 500 --variants torch onnx-int8 openvino-int8
    python benchmarks/encode.py --readme README.md       # only regenerate the README table

For each variant (torch, torch-bf16, onnx, onnx-int8, openvino, openvino-int8, openvino-bf16)
the same seeded synthetic candidates are encoded with the same batch size and length-sorted batches,
`--repeats` times (the best pass counts: the machine is shared, and each pass records the CPU
share other processes took). The first load of a variant exports and caches the model; its
time is reported separately and never counted as encoding. Quality: mean/min cosine with the
torch fp32 embeddings, and nDCG@20 of exact inner-product retrieval of the synthetic jobs
against the rule labels (as `jobmatch demo` evaluates), with retention = nDCG / torch nDCG.
Writes benchmarks/results/encode.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np
from _common import (
    RESULTS,
    CpuMeter,
    config_command,
    config_dict,
    cpu_flags,
    load_average,
    machine_info,
    package_versions,
    parse_config,
    script_help,
    write_json,
)

VARIANTS = (
    "torch",
    "torch-bf16",
    "onnx",
    "onnx-int8",
    "openvino",
    "openvino-int8",
    "openvino-bf16",
)
ANCHOR = {
    "source": "sentence-transformers docs, 'Speeding up Inference' (CPU, all-MiniLM-L6-v2)",
    "openvino-qint8_speedup": 4.78,
    "onnx-qint8_speedup": 2.34,
    "quality_kept": 0.996,
}
GOAL = {"speedup": 3.0, "ndcg_retention": 0.99}


@dataclass
class Config:
    model: str = field(default="bundled:all-MiniLM-L6-v2", metadata={"help": "model id/folder"})
    candidates: int = field(default=2000, metadata={"help": "synthetic candidates (the docs)"})
    jobs: int = field(default=50, metadata={"help": "synthetic jobs (the queries)"})
    seed: int = field(default=0, metadata={"help": "corpus seed"})
    batch_size: int = field(default=64, metadata={"help": "texts per forward pass"})
    repeats: int = field(default=3, metadata={"help": "timed passes per variant (best counts)"})
    variants: tuple[str, ...] = field(
        default=VARIANTS, metadata={"help": "variants to run", "type": click.Choice(VARIANTS)}
    )
    out: Path = field(default=RESULTS / "encode.json", metadata={"help": "JSON out"})
    readme: str = field(
        default="", metadata={"help": "with a README path: only rewrite its table from --out"}
    )


def main(config: Config) -> dict[str, Any]:
    from jobmatch import rules
    from jobmatch.evaluation import qrels_mapping
    from jobmatch.synth import generate_candidates, generate_jobs

    candidates = generate_candidates(config.candidates, seed=config.seed)
    jobs = generate_jobs(config.jobs, seed=config.seed + 1)
    import polars as pl

    candidates, jobs = pl.from_arrow(candidates), pl.from_arrow(jobs)
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rules.load_rules())))
    judgments = qrels_mapping(qrels)
    docs = candidates["text"].to_list()
    report: dict[str, Any] = {
        "benchmark": "encode",
        "machine": machine(),
        "versions": package_versions(*PACKAGES),
        "parameters": config_dict(config),
        "anchor": ANCHOR,
        "goal": GOAL,
        "results": [],
    }
    reference: dict[str, Any] = {}
    # torch fp32 first: it is the reference of speed-ups, cosines and retention
    ordered = sorted(config.variants, key=lambda variant: variant != "torch")
    for variant in ordered:
        result = run_variant(variant, config, docs, jobs, candidates, judgments, reference)
        report["results"].append(result)
        print(json.dumps(result), flush=True)
    report["summary"] = summarise(report["results"])
    report["machine"]["load_average_end"] = load_average()
    write_json(report, config.out)
    return report


def run_variant(
    variant: str,
    config: Config,
    docs: list[str],
    jobs: Any,
    candidates: Any,
    judgments: dict,
    reference: dict[str, Any],
) -> dict[str, Any]:
    from jobmatch.encoder import load_encoder
    from jobmatch.metrics import evaluate_run

    backend, _, quantize = variant.partition("-")
    started = time.perf_counter()
    encoder = load_encoder(config.model, backend=backend, quantize=quantize or "none")
    load_seconds = time.perf_counter() - started
    if "tokens" not in reference:
        reference["tokens"] = count_tokens(encoder.model, docs, config.batch_size)
    encoder.encode(docs[: config.batch_size], batch_size=config.batch_size)  # warm-up
    passes = []
    embeddings = None
    for _ in range(config.repeats):
        meter = CpuMeter()
        started = time.perf_counter()
        embeddings = encoder.encode(docs, batch_size=config.batch_size)
        seconds = time.perf_counter() - started
        passes.append({"seconds": round(seconds, 3), "others_cpu_share": meter.others_share()})
    best = min(p["seconds"] for p in passes)
    queries = encoder.encode(jobs["text"].to_list(), batch_size=config.batch_size)
    ids = candidates["candidate_id"].to_list()
    top = np.argsort(-(queries @ embeddings.T), axis=1)[:, :100]
    run = {
        job: [ids[i] for i in row] for job, row in zip(jobs["job_id"].to_list(), top, strict=True)
    }
    ndcg = evaluate_run(run, judgments, k=20).ndcg
    if "embeddings" not in reference:
        reference.update(embeddings=embeddings, ndcg=ndcg, docs_per_s=len(docs) / best)
    cosine = np.sum(embeddings * reference["embeddings"], axis=1)
    runtime = encoder.runtime
    return {
        "variant": variant,
        "backend": backend,
        "quantize": quantize or "none",
        "threads": runtime.threads if runtime else _torch_threads(),
        "load_seconds": round(load_seconds, 2),
        "exported_now": bool(runtime and runtime.exported),
        "docs": len(docs),
        "tokens": reference["tokens"],
        "docs_per_s": round(len(docs) / best, 2),
        "tokens_per_s": round(reference["tokens"] / best, 1),
        "speedup_vs_torch": round(len(docs) / best / reference["docs_per_s"], 3),
        "cosine_vs_torch_mean": round(float(cosine.mean()), 5),
        "cosine_vs_torch_min": round(float(cosine.min()), 5),
        "ndcg@20": round(ndcg, 4),
        "ndcg_retention": round(ndcg / reference["ndcg"], 4) if reference["ndcg"] else None,
        "passes": passes,
    }


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest variant that keeps >= 99% nDCG@20, and how far it is from 3x torch."""
    kept = [
        r
        for r in results
        if r["variant"] != "torch" and (r["ndcg_retention"] or 0) >= GOAL["ndcg_retention"]
    ]
    if not kept:
        return {"goal_met": False, "best": None}
    best = max(kept, key=lambda r: r["speedup_vs_torch"])
    return {
        "best": best["variant"],
        "speedup_vs_torch": best["speedup_vs_torch"],
        "ndcg_retention": best["ndcg_retention"],
        "goal_met": best["speedup_vs_torch"] >= GOAL["speedup"],
        "shortfall_vs_goal": round(max(0.0, GOAL["speedup"] - best["speedup_vs_torch"]), 3),
    }


def update_readme(results: Path, readme: Path) -> None:
    """Rewrite only the encode table of `readme` from the results JSON at `results` (the
    table itself is benchmarks/report.py's, which renders every README table)."""
    from report import encode as encode_table
    from report import replace_block

    try:
        text = replace_block(
            readme.read_text("utf-8"), "encode", encode_table(json.loads(results.read_text()))
        )
    except ValueError as exc:
        raise click.ClickException(f"{readme}: {exc}") from exc
    readme.write_text(text, "utf-8")


def count_tokens(model: Any, texts: list[str], batch_size: int) -> int:
    """Tokens the transformer sees (after truncation), padding excluded."""
    return sum(
        int(model.preprocess(texts[i : i + batch_size])["attention_mask"].sum())
        for i in range(0, len(texts), batch_size)
    )


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


PACKAGES = ("torch", "transformers", "sentence-transformers", "onnxruntime", "onnx",
            "openvino", "nncf", "numpy", "jobmatch")  # fmt: skip
EXTENSIONS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8", "amx_bf16")
"""The SIMD/matrix extensions that decide int8 and bf16 speed."""


def machine() -> dict[str, Any]:
    from jobmatch.backends import available_cores

    return machine_info(
        cpu_extensions=cpu_flags(EXTENSIONS),
        cores_available=available_cores(),
        load_average_start=load_average(),
    )


def parse_args(argv: list[str]) -> Config:
    """The Config a command line gives, for callers that run `main` themselves."""
    return parse_config(Config, argv)


@config_command(Config, help=script_help(__doc__))
def cli(config: Config) -> None:
    if config.readme:
        update_readme(config.out, Path(config.readme))
    else:
        main(config)


if __name__ == "__main__":
    cli()
