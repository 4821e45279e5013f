"""Regenerate the benchmark tables of README.md and benchmarks/FINDINGS.md from
benchmarks/results/*.json.

Usage:
    python benchmarks/report.py            # rewrite every <!-- NAME-table:start/end --> block
    python benchmarks/report.py --check    # exit 1 if a document is out of date
    python benchmarks/report.py --readme benchmarks/FINDINGS.md   # one document only

Each table sits between `<!-- NAME-table:start -->` and `<!-- NAME-table:end -->` in a
document, where NAME is a results file's stem; numbers in those blocks are never typed by hand.
A block whose JSON is missing is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from _common import RESULTS, ROOT, script_help

README = ROOT / "README.md"
DOCUMENTS = (README, ROOT / "benchmarks" / "FINDINGS.md")
"""The documents with rendered blocks."""

Report = dict[str, Any]


def _table(header: list[str], align: str, rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _mib(value: float) -> str:
    return f"{value:,.0f} MiB"


def index_build(report: Report) -> str:
    """Streaming `jobmatch index build` runs, and peak RSS beyond the vectors 100k -> 1M."""
    rows = [
        ["from text", f"{r['n']:,}", "Flat", f"{r['seconds']:.1f} s",
         f"{r['docs_per_second']:,.0f}", _mib(r["peak_rss_mib"]), "-", "-"]
        for r in report["text_builds"]
    ]  # fmt: skip
    for r in report["store_builds"]:
        rows.append(
            [
                "from store",
                f"{r['n']:,}",
                r["factory"],
                f"{r['seconds']:.1f} s",
                f"{r['n'] / r['seconds']:,.0f}",
                _mib(r["peak_rss_mib"]),
                _mib(r["vectors_mib"]),
                _mib(r["peak_rss_mib"] - r["vectors_mib"]),
            ]
        )
    text = _table(
        ["build", "rows", "factory", "wall time", "rows/s", "peak RSS", "vectors", "RSS - vectors"],
        ["---", "---:", "---", "---:", "---:", "---:", "---:", "---:"],
        rows,
    )
    flat = {r["n"]: r for r in report["store_builds"] if r["factory"] == "Flat"}
    if len(flat) >= 2:
        small, large = flat[min(flat)], flat[max(flat)]
        beyond = [r["peak_rss_mib"] - r["vectors_mib"] for r in (small, large)]
        growth = beyond[1] / beyond[0] - 1
        verdict = "met" if growth < 0.20 else "missed"
        text += (
            f"\nPeak RSS beyond the index's own vectors (Flat): {beyond[0]:,.0f} MiB at "
            f"{small['n']:,} rows, {beyond[1]:,.0f} MiB at {large['n']:,} rows "
            f"({growth:+.0%}; goal < +20%: {verdict}).\n"
        )
    return text


def index_factories(report: Report) -> str:
    """Per-factory build/size/QPS/recall on generated vectors, and the two search goals."""
    rows = []
    for r in report["results"]:
        params = ", ".join(f"{k} {v}" for k, v in r.get("default_params", {}).items()) or "-"
        rows.append(
            [r["factory"], params, f"{r['build_s']:.1f} s", f"{r['bytes_per_vector']:,.0f}",
             f"{r['qps_single']:,.0f}", f"{r['qps_batched']:,.0f}", f"{r['recall_at_20']:.3f}",
             f"{r.get('other_processes_cpu_share', 0):.0%}"]
        )  # fmt: skip
    text = _table(
        ["factory", "search params", "build", "bytes/vector", "QPS single", "QPS batched",
         "recall@20", "others' CPU"],
        ["---", "---", "---:", "---:", "---:", "---:", "---:", "---:"],
        rows,
    )  # fmt: skip
    exact = next((r for r in report["results"] if r["factory"] == "Flat"), None)
    settings = [
        (r["factory"], s["params"], s["qps_batched"], s["recall_at_20"])
        for r in report["results"]
        if r["factory"] != "Flat"
        for s in [{"params": r.get("default_params", {}), **r}, *r.get("sweep", [])]
    ]
    good = [s for s in settings if s[3] >= 0.95]
    if exact and good:
        factory, params, qps, recall = max(good, key=lambda s: s[2])
        ratio = qps / exact["qps_batched"]
        verdict = "met" if ratio >= 20 else f"missed by {20 / ratio:.1f}x"
        text += (
            f"\nFastest setting at recall@20 >= 0.95: {factory} ({params}), {qps:,.0f} QPS "
            f"batched at recall {recall:.3f} = {ratio:.0f}x exact search (goal >= 20x: "
            f"{verdict}).\n"
        )
    share = report.get("exact_search", {}).get("share_of_sgemm")
    if share is not None:
        sgemm = report["sgemm"]
        verdict = "met" if share >= 0.70 else f"missed by {0.70 - share:.0%} points"
        text += (
            f"Exact batched search: {report['exact_search']['gflops']:.0f} GFLOP/s = "
            f"{share:.0%} of this machine's measured sgemm rate ({sgemm['gflops']:.0f} GFLOP/s, "
            f"{sgemm['library']}; goal >= 70%: {verdict}).\n"
        )
    return text


def query(report: Report) -> str:
    """Single-JD latency, batch throughput and CLI start time."""
    index, single, batch = report["index"], report["single"], report["batch"]
    rows = [
        ["single JD, encode + search + metadata (p50 / p99)",
         f"{single['p50_ms']:.1f} / {single['p99_ms']:.1f} ms"],
        ["  of which encode (p50)", f"{single['encode_p50_ms']:.1f} ms"],
        ["  of which FAISS search (p50 / p99)",
         f"{single['search_p50_ms']:.2f} / {single['search_p99_ms']:.2f} ms"],
        [f"batch of {batch['queries']:,} JDs", f"{batch['queries_per_s']:,.1f} JDs/s"],
        ["model load / index load", f"{report['model']['load_s']:.1f} s / {index['load_s']:.1f} s"],
        ["`jobmatch --help` (best / median)",
         f"{report['help']['best_s']:.2f} / {report['help']['median_s']:.2f} s"],
    ]  # fmt: skip
    head = (
        f"{index['n']:,} vectors, factory {index['factory']} ({index['index_type']}, "
        f"{index['search_params'] or 'no search params'}), k={report['parameters']['k']}\n\n"
    )
    return head + _table(["measure", "value"], ["---", "---:"], rows)


def two_stage(report: Report) -> str:
    """Held-out metrics of each system of the two-stage pipeline."""
    names = {
        "bm25": "BM25",
        "zero-shot": "zero-shot MiniLM",
        "stage1-random": "stage 1, random negatives",
        "stage1-mined": "stage 1, + one mining round (cluster)",
        "rankpo": "stage 2, plain RankPO",
        "rankpo-retention": "stage 2, RankPO + retention",
    }
    metrics = report.get("metrics_heldout") or report["metrics"]
    rows = []
    for system, values in metrics.items():
        alignment = values.get("alignment")
        rows.append(
            [names.get(system, system), f"{values['ndcg@20']:.3f}", f"{values['recall@20']:.3f}",
             f"{values['mrr@20']:.3f}", f"{values['ndcg_paper@20']:.3f}",
             "-" if alignment is None else f"{alignment:.3f}"]
        )  # fmt: skip
    return _table(
        ["system", "nDCG@20", "Recall@20", "MRR@20", "nDCG@20 (paper)", "alignment"],
        ["---", "---:", "---:", "---:", "---:", "---:"],
        rows,
    )


def adapt(report: Report) -> str:
    """Held-out metrics of the zero-shot and adapted models, with training time and goals."""
    names = {"zero-shot": "zero-shot MiniLM", "bm25": "BM25"}
    rows = []
    for system, values in report["metrics"].items():
        mode = system.removeprefix("adapted-")
        training = report["training"].get(mode) if system.startswith("adapted-") else None
        goal = report.get("goals", {}).get(mode) if training else None
        rows.append(
            [names.get(system, f"stage 1, --mode {mode}"), f"{values['ndcg@20']:.3f}",
             f"{values['recall@20']:.3f}", f"{values['mrr@20']:.3f}",
             "-" if goal is None else f"{goal['gain_ndcg@20']:+.3f}",
             "-" if training is None else f"{training['seconds']:.0f} s",
             "-" if goal is None else ("met" if goal["met"] else "missed")]
        )  # fmt: skip
    return _table(
        ["system", "nDCG@20", "Recall@20", "MRR@20", "gain vs zero-shot", "training",
         "goal (+0.10 in 10 min)"],
        ["---", "---:", "---:", "---:", "---:", "---:", "---"],
        rows,
    )  # fmt: skip


def _share(parts: dict[str, Any], name: str) -> str:
    return f"{parts[name]['alignment']:.3f}" if name in parts else "-"


def _alignment_by_attribute(report: Report) -> str:
    """Held-out alignment split by what decides each pair, for the entries that recorded it."""
    entries = [("stage 1", report["stage1"])] + [(_point_name(p), p) for p in report["points"]]
    entries = [(name, e) for name, e in entries if "alignment_by_attribute" in e]
    if not entries:
        return ""
    names = list(entries[0][1]["alignment_by_attribute"])
    counts = entries[0][1]["alignment_by_attribute"]
    rows = [[name, *(_share(e["alignment_by_attribute"], a) for a in names)] for name, e in entries]
    return (
        "\nHeld-out alignment by the attribute that decides the pair for the noise-free judge "
        "(largest weighted difference; pairs in brackets):\n\n"
        + _table(
            ["model", *(f"{a} ({counts[a]['pairs']})" for a in names)],
            ["---", *("---:" for _ in names)],
            rows,
        )
    )


def _fit(entry: dict) -> str:
    """Alignment on a sample of the pairs the model trained on ("-" where not recorded)."""
    return f"{entry['train_alignment']:.3f}" if "train_alignment" in entry else "-"


def _point_name(point: dict) -> str:
    """A sweep point in a few words: variant, lr, beta, pairs (and jobs when extra)."""
    name = (
        f"retention {point['retention_weight']:g} ({point.get('retention_from', 'random')})"
        if point["retention_weight"]
        else "plain"
    ) + f", lr {point['lr']:.0e}, beta {point['beta']:g}, {point['train_pairs']:,} pairs"
    if point.get("more_jobs"):
        name += f" over {point['train_jobs']:,} jobs"
    return name + _loss_options(point)


def _loss_options(point: dict) -> str:
    """The loss settings a point changed from the sweep's defaults, as ", ..." suffixes."""
    text = ""
    if point.get("loss", "sigmoid") != "sigmoid":
        text += f", {point['loss']} loss"
    if point.get("margin_weight"):
        text += f", margin weight {point['margin_weight']:g}"
    if point.get("label_smoothing"):
        text += f", label smoothing {point['label_smoothing']:g}"
    if point.get("retention_loss") == "preference":
        text += ", retention as rule preferences"
    if point.get("train_seed"):
        text += f", training seed {point['train_seed']}"
    if point.get("linear_head"):
        text += ", linear head on frozen stage 1"
    if point.get("train_layers"):
        text += f", top {point['train_layers']} layer(s) trained"
    return text


def _judge_term_fit(report: Report) -> str:
    """Held-out score margins regressed on the judge's terms, for the entries that recorded it."""
    entries = [("stage 1", report["stage1"])] + [(_point_name(p), p) for p in report["points"]]
    entries = [(name, e["judge_term_fit"]) for name, e in entries if "judge_term_fit" in e]
    if not entries:
        return ""
    rows = [
        [name, *(f"{fit['coefficients'][t]:.4f}" for t in fit["coefficients"]), f"{fit['r2']:.3f}"]
        for name, fit in entries
    ]
    terms = list(entries[0][1]["coefficients"])
    return (
        "\nHow much of the judge the scores carry: held-out pair margins s(job, A) - s(job, B) "
        "regressed on the judge's term differences (cosine per judge point; a model that had "
        "learnt the judge has equal coefficients) and the share of the margins they explain:\n\n"
        + _table(["model", *terms, "R²"], ["---", *["---:"] * (len(terms) + 1)], rows)
    )


def _label_ceilings(report: Report) -> str:
    """Held-out alignment of the noise-free judge restricted to subsets of its terms."""
    ceilings = report.get("label_ceilings")
    if not ceilings:
        return ""
    rows = [[terms.replace("+", " + "), f"{value:.3f}"] for terms, value in ceilings.items()]
    rows.sort(key=lambda row: (row[0].count("+"), -float(row[1])))
    return (
        "\nWhat each part of the judge is worth: held-out alignment of the noise-free judge "
        "scoring with only these terms (a model that had learnt exactly them):\n\n"
        + _table(["judge terms", "alignment"], ["---", "---:"], rows)
    )


def _jobs(point: dict) -> str:
    """How many jobs a point's training pairs came from, marking synthesised extra jobs."""
    if "train_jobs" not in point:
        return "-"
    extra = point.get("more_jobs", 0)
    return f"{point['train_jobs']:,}" + (f" (+{extra:,} new)" if extra else "")


def rankpo_sweep(report: Report) -> str:
    """The stage-2 trade-off: every sweep point against stage 1, the goal, reference timing."""
    stage1 = report["stage1"]
    rows = [["stage 1 (start and reference)", "-", "-", "-", "-", "-", "-", "-", "-",
             f"{stage1['ndcg@20']:.3f}", "100%", f"{stage1['alignment']:.3f}", "-",
             _fit(stage1)]]  # fmt: skip
    order = ("train_pairs", "retention_weight", "beta", "lr")
    for p in sorted(report["points"], key=lambda p: tuple(p[key] for key in order)):
        variant = (
            "RankPO"
            if p["retention_weight"] == 0
            else f"RankPO + retention ({p.get('retention_from', 'random')} negatives)"
        )
        variant += _loss_options(p)
        confidence = p.get("min_confidence", 0.0)
        rows.append(
            [variant, f"{p['retention_weight']:g}", f"{p['train_pairs']:,}", _jobs(p),
             f"{confidence:g}" if confidence else "all", f"{p.get('epochs', 1.0):g}", p["steps"],
             f"{p['lr']:.0e}", f"{p['beta']:g}", f"{p['ndcg@20']:.3f}", f"{p['ndcg_retained']:.0%}",
             f"{p['alignment']:.3f}", f"{p['alignment_gain']:+.3f}", _fit(p)]
        )  # fmt: skip
    text = _table(
        ["variant", "retention weight", "pairs", "jobs", "min confidence", "epochs", "steps", "lr",
         "beta", "nDCG@20", "of stage 1", "alignment", "gain", "train alignment"],
        ["---", *["---:"] * 13],
        rows,
    )  # fmt: skip
    if any("train_alignment" in p for p in [stage1, *report["points"]]):
        text += (
            "\nTrain alignment: on up to 500 of the pairs the point trained on (stage 1 trained on "
            "none of them; its value is on the sample of the run that last evaluated it). "
            "Close to the held-out alignment means the model does not fit the "
            "judge even on its own training pairs (underfitting), far above it means it does "
            "not generalise to new jobs.\n"
        )
    if any(p.get("more_jobs") for p in report["points"]):
        text += (
            '\nJobs: how many jobs the training pairs came from; "+N new" marks points whose '
            "pool also held N jobs synthesised after the run's own and judged the same way "
            "(`--more-jobs`), so the same number of pairs covers more jobs.\n"
        )
    met = report.get("goal_met_by", [])
    if met:
        best = max(met, key=lambda p: p["alignment"])
        text += (
            f"\nGoal (>= 90% of stage-1 nDCG@20 and >= +0.10 alignment) met by {len(met)} "
            f"setting(s); best alignment: lr {best['lr']:.0e}, retention weight "
            f"{best['retention_weight']:g} ({best['ndcg_retained']:.0%} nDCG, "
            f"{best['alignment_gain']:+.3f} alignment).\n"
        )
    elif report["points"]:
        best = max(report["points"], key=lambda p: p["alignment_gain"])
        text += (
            f"\nGoal (>= 90% of stage-1 nDCG@20 and >= +0.10 alignment) not met; largest "
            f"alignment gain {best['alignment_gain']:+.3f} (lr {best['lr']:.0e}, retention "
            f"weight {best['retention_weight']:g}) at {best['ndcg_retained']:.0%} of stage-1 "
            "nDCG@20.\n"
        )
    text += _alignment_by_attribute(report)
    text += _judge_term_fit(report)
    ceiling = report.get("label_ceiling")
    if ceiling is not None:
        text += (
            f"\nThe noise-free judge agrees with the held-out labels on {ceiling:.3f} of the pairs "
            "(ties count half): the best alignment a model can reach here.\n"
        )
    text += _label_ceilings(report)
    timing = report.get("reference_timing")
    if timing:
        text += (
            f"\nTraining steps/s with precomputed reference scores: "
            f"{timing['precomputed']['steps_per_s']:.3f} vs {timing['online']['steps_per_s']:.3f} "
            f"with an online reference forward ({timing['speedup_steps_per_s']:.2f}x; "
            f"{timing['speedup_including_precompute']:.2f}x counting the one-off precompute; "
            f"batch {timing['batch_size']}, {timing['steps']} steps).\n"
        )
    return text


def serve_load(report: Report) -> str:
    """Latency and throughput of POST /match under concurrent clients."""
    latency = report["latency_ms"]
    params = report["parameters"]
    index = report["index"]
    rows = [
        [f"{report['requests']:,}", params["concurrency"], report["errors"],
         f"{report['requests_per_second']:.1f}", f"{latency['p50']:.0f}", f"{latency['p90']:.0f}",
         f"{latency['p99']:.0f}", f"{latency['max']:.0f}"]
    ]  # fmt: skip
    head = f"{index['rows']:,} candidates, {index['factory']}, model {index['model']}\n\n"
    return head + _table(
        ["requests", "concurrent", "errors", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms"],
        ["---:"] * 8,
        rows,
    )


def ray_build(report: Report) -> str:
    """Local vs Ray index builds of the same corpus."""
    rows = [
        [r["engine"], r["workers"] or "-", f"{r['rows']:,}", f"{r['seconds']:.1f} s",
         f"{r['docs_per_s']:.1f}", f"{r['cluster_startup_s']:.1f} s" if "cluster_startup_s" in r
         else "-"]
        for r in report["runs"]
    ]  # fmt: skip
    return _table(
        ["engine", "workers", "rows", "build", "docs/s", "cluster start"],
        ["---", "---:", "---:", "---:", "---:", "---:"],
        rows,
    )


def encode(report: Report) -> str:
    """Encoding speed and quality per backend/quantisation against torch fp32."""
    rows = []
    for r in report["results"]:
        best = min(r["passes"], key=lambda p: p["seconds"])
        rows.append(
            [r["variant"], f"{r['docs_per_s']:.1f}", f"{r['tokens_per_s']:,.0f}",
             f"{r['speedup_vs_torch']:.2f}x",
             f"{r['cosine_vs_torch_mean']:.4f} / {r['cosine_vs_torch_min']:.4f}",
             f"{r['ndcg@20']:.4f}", f"{r['ndcg_retention']:.2%}", f"{best['others_cpu_share']:.0%}"]
        )  # fmt: skip
    return _table(
        ["variant", "docs/s", "tokens/s", "speed-up", "cosine vs torch (mean / min)", "nDCG@20",
         "retention", "others' CPU share"],
        ["---", *["---:"] * 7],
        rows,
    )  # fmt: skip


def _paired(stats: dict[str, Any]) -> str:
    """A paired nDCG difference as "+0.012 (-0.003, +0.027)", "-" for the baseline itself."""
    if stats["better"] == stats["worse"] == 0:
        return "-"
    low, high = stats["ci95"]
    return f"{stats['mean']:+.3f} ({low:+.3f}, {high:+.3f})"


def _busy(share: float | None) -> str:
    """A mark on timings taken while other processes used over 10% of the CPU."""
    return " *" if share is not None and share > 0.1 else ""


def long_documents(report: Report) -> str:
    """Truncation against passages with each aggregate, on long and short synthetic resumes."""
    rows = []
    for r in report["rows"]:
        chunking = (
            "none (truncated)"
            if r["chunking"] == "none"
            else (f"passages {r['chunk_tokens']}/{r['chunk_overlap']}")
        )
        rows.append(
            [r["corpus"], chunking, r["aggregate"] or "-", f"{r['ndcg@20']:.3f}",
             f"{r['recall@20']:.3f}", _paired(r["vs_none"]), f"{r['vectors']:,}",
             f"{r['index_bytes'] / 2**20:.1f} MiB",
             f"{r['build_docs_per_s']:.1f}{_busy(r['build_others_cpu_share'])}",
             f"{r['query_p50_ms']:.1f} ms{_busy(r['query_others_cpu_share'])}",
             f"{r['search_p50_ms']:.2f} ms"]
        )  # fmt: skip
    text = _table(
        ["corpus", "chunking", "aggregate", "nDCG@20", "Recall@20", "vs none (95% CI)",
         "vectors", "index", "build docs/s", "query p50", "search p50"],
        ["---", "---", "---", *["---:"] * 8],
        rows,
    )  # fmt: skip
    corpora = report["corpora"]
    text += (
        "\n"
        + " ".join(
            f"{name}: {c['tokens_mean']:,.0f} tokens per resume on average "
            f"({c['tokens_min']:,}-{c['tokens_max']:,}), city beyond the first "
            f"{report['model_max_seq_length']} tokens for {c['city_beyond_truncation_share']:.0%}."
            for name, c in corpora.items()
        )
        + (
            " \\* other processes used over 10% of the CPU meanwhile."
            if any(
                _busy(r[key])
                for r in report["rows"]
                for key in ("build_others_cpu_share", "query_others_cpu_share")
            )
            else ""
        )
        + "\n"
    )
    return text


RENDERERS: dict[str, Callable[[Report], str]] = {
    "index_build": index_build,
    "index_factories": index_factories,
    "query": query,
    "two_stage": two_stage,
    "adapt": adapt,
    "rankpo_sweep": rankpo_sweep,
    "encode": encode,
    "serve_load": serve_load,
    "ray_build": ray_build,
    "long_documents": long_documents,
}


def has_block(text: str, name: str) -> bool:
    return f"<!-- {name}-table:start -->\n" in text


def replace_block(text: str, name: str, body: str) -> str:
    """`text` with the lines between the NAME-table start and end markers set to `body`."""
    start, end = f"<!-- {name}-table:start -->\n", f"<!-- {name}-table:end -->"
    head, found, rest = text.partition(start)
    _, closed, tail = rest.partition(end)
    if not found or not closed:
        raise ValueError(f"no {start.strip()} ... {end} block")
    return head + start + body + end + tail


def render_readme(text: str, results: Path = RESULTS) -> str:
    """README text with every known table block regenerated from its JSON."""
    for name, render in RENDERERS.items():
        path = results / f"{name}.json"
        if path.exists() and has_block(text, name):
            text = replace_block(text, name, render(json.loads(path.read_text())))
    return text


@click.command(help=script_help(__doc__))
@click.option("--check", is_flag=True, help="Only report whether the documents are up to date.")
@click.option(
    "--readme",
    "documents",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    multiple=True,
    default=DOCUMENTS,
    show_default=True,
    help="Document to render (repeatable).",
)
def main(check: bool, documents: tuple[Path, ...]) -> None:
    stale = []
    for path in documents:
        text = path.read_text("utf-8")
        try:
            updated = render_readme(text)
        except ValueError as exc:
            raise click.ClickException(f"{path}: {exc}") from exc
        if check:
            if updated != text:
                stale.append(path)
            else:
                click.echo(f"{path} is up to date")
        elif updated != text:
            path.write_text(updated, "utf-8")
            click.echo(f"updated {path}")
    if stale:
        names = ", ".join(map(str, stale))
        raise click.ClickException(f"{names} out of date: run python benchmarks/report.py")


if __name__ == "__main__":
    main()
