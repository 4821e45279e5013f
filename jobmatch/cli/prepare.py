"""`jobmatch mine-negatives` and `judge`: the training data the train commands read."""

from __future__ import annotations

from pathlib import Path

import click

from jobmatch.cli.options import (
    INPUT_FILE,
    backend_options,
    encoding_option,
    model_option,
    progress_option,
    resolve_backend,
)
from jobmatch.cli.options import show_progress as _show_progress
from jobmatch.cli.options import status as _status
from jobmatch.cli.train import read_labelled


@click.command("mine-negatives")
@model_option("Model that ranks the candidates (the current stage-1 model).")
@backend_options()
@click.option("--jobs", "jobs_path", type=INPUT_FILE, required=True)
@click.option("--candidates", "candidates_path", type=INPUT_FILE, required=True)
@click.option("--qrels", "qrels_path", type=INPUT_FILE, required=True)
@click.option(
    "--strategy",
    type=click.Choice(["topk", "sample", "cluster"]),
    default="topk",
    show_default=True,
)
@click.option(
    "--range",
    "rank_range",
    default="0-100",
    show_default=True,
    help="Ranks (0-based, end exclusive) the negatives are drawn from.",
)
@click.option(
    "--num", type=click.IntRange(min=1), default=10, show_default=True, help="Negatives per job."
)
@click.option(
    "--clusters",
    type=click.IntRange(min=1),
    default=None,
    help="k-means clusters for --strategy cluster (default: --num).",
)
@click.option(
    "--decay",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.5,
    show_default=True,
    help="Weight decay per repeated cluster (RankPO's lambda).",
)
@click.option("--positive-threshold", type=click.IntRange(1, 3), default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Training JSONL (RankPO format: query, positives, negatives + ids).",
)
@encoding_option()
@progress_option()
def mine_negatives(
    model,
    backend,
    quantize,
    jobs_path,
    candidates_path,
    qrels_path,
    strategy,
    rank_range,
    num,
    clusters,
    decay,
    positive_threshold,
    seed,
    out_path,
    encoding,
    progress,
) -> None:
    """Mine hard negatives with a model: FAISS search, known positives always excluded.

    \b
    Example:
      jobmatch mine-negatives --model models/stage1 --jobs data/train_jobs.parquet \\
          --candidates data/candidates.parquet --qrels data/qrels.parquet \\
          --strategy cluster --range 0-100 --num 10 --out data/mined.jsonl
    """
    from jobmatch.encoder import load_encoder
    from jobmatch.training.data import write_training_jsonl
    from jobmatch.training.mining import MiningConfig, mine_negatives, parse_range

    try:
        start, end = parse_range(rank_range)
        config = MiningConfig(
            strategy=strategy,
            range_start=start,
            range_end=end,
            num=num,
            clusters=clusters,
            decay=decay,
            positive_threshold=positive_threshold,
            seed=seed,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    jobs, candidates, qrels = read_labelled(jobs_path, candidates_path, qrels_path, encoding)
    backend, quantize = resolve_backend(backend, quantize)
    encoder = load_encoder(model, backend=backend, quantize=quantize)
    rows = mine_negatives(
        encoder, jobs, candidates, qrels, config, progress=_show_progress(progress)
    )
    written = write_training_jsonl(rows, jobs, candidates, out_path)
    _status(
        f"mined {config.num} {strategy} negatives from ranks {rank_range} for {written} jobs "
        f"with {encoder.name} -> {out_path}"
    )


JUDGE_CHUNK = 64  # pairs per judge call: progress updates without starving LLM concurrency


@click.command("judge")
@click.option("--jobs", "jobs_path", type=INPUT_FILE, required=True, help="Jobs table.")
@click.option(
    "--candidates", "candidates_path", type=INPUT_FILE, required=True, help="Candidates table."
)
@model_option("Stage-1 model whose top candidates per job the pairs are drawn from.")
@backend_options()
@click.option(
    "--judge",
    "judge_kind",
    type=click.Choice(["synthetic", "llm"]),
    required=True,
    help="synthetic: simulated LLM judge for `jobmatch synth` corpora (offline); "
    "llm: an OpenAI-compatible chat-completions endpoint.",
)
@click.option(
    "--pairs-per-job", type=click.IntRange(min=1), required=True, help="Pairs drawn per job."
)
@click.option(
    "--top",
    type=click.IntRange(min=2),
    default=100,
    show_default=True,
    help="Pairs are drawn from each job's top-N candidates by the model.",
)
@click.option(
    "--noise",
    type=click.FloatRange(0, 0.5),
    default=0.1,
    show_default=True,
    help="synthetic: probability that an answer is flipped.",
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="synthetic: rules TOML (default: the one shipped with jobmatch).",
)
@click.option("--endpoint", default=None, help="llm: base URL, e.g. http://127.0.0.1:8000/v1.")
@click.option("--judge-model", default=None, help="llm: model name sent to the endpoint.")
@click.option(
    "--api-key-env",
    default="OPENAI_API_KEY",
    show_default=True,
    help="llm: environment variable holding the API key (read, never printed).",
)
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="llm: JSONL cache of answers; a rerun asks only what is not in it.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="llm: requests in flight.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    required=True,
    help="Preferences table (job_id, chosen, rejected, confidence): .parquet, .csv or .jsonl.",
)
@encoding_option()
@progress_option()
def judge(
    jobs_path,
    candidates_path,
    model,
    backend,
    quantize,
    judge_kind,
    pairs_per_job,
    top,
    noise,
    rules_path,
    endpoint,
    judge_model,
    api_key_env,
    cache_path,
    concurrency,
    seed,
    out_path,
    encoding,
    progress,
) -> None:
    """Draw candidate pairs from a stage-1 model's top-N per job and have a judge pick one.

    Writes the preferences stage 2 (RankPO) trains on; pairs the judge could not answer
    are dropped. The synthetic judge reads the hidden columns of `jobmatch synth` corpora;
    for real data use --judge llm with --endpoint and --judge-model.

    \b
    Examples:
      jobmatch judge --jobs data/jobs.parquet --candidates data/candidates.parquet \\
          --model models/stage1 --judge synthetic --pairs-per-job 20 \\
          --out data/preferences.parquet
      jobmatch judge --jobs jobs.parquet --candidates candidates.parquet \\
          --model models/stage1 --judge llm --endpoint http://127.0.0.1:8000/v1 \\
          --judge-model qwen2.5-7b-instruct --cache judge-cache.jsonl --pairs-per-job 20 \\
          --out preferences.parquet
    """
    if judge_kind == "llm" and not (endpoint and judge_model):
        raise click.UsageError("--judge llm needs --endpoint and --judge-model")
    from tqdm.auto import tqdm

    from jobmatch import io
    from jobmatch.encoder import load_encoder
    from jobmatch.errors import JobmatchError
    from jobmatch.training.judges import preferences_table
    from jobmatch.training.judges.sampling import draw_pairs

    jobs = io.read_table(jobs_path, "jobs", encoding=encoding)
    candidates = io.read_table(candidates_path, "candidates", encoding=encoding)
    if judge_kind == "synthetic":
        from jobmatch.rules import load_rules
        from jobmatch.training.judges.synthetic import SyntheticJudge

        judge_ = SyntheticJudge(
            jobs, candidates, noise=noise, rules=load_rules(rules_path), seed=seed
        )
    else:
        from jobmatch.training.judges.llm import LLMJudge

        try:
            judge_ = LLMJudge(
                endpoint,
                judge_model,
                api_key_env=api_key_env,
                cache=Path(cache_path) if cache_path else None,
                concurrency=concurrency,
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
    backend, quantize = resolve_backend(backend, quantize)
    encoder = load_encoder(model, backend=backend, quantize=quantize)
    show = _show_progress(progress)
    pairs = draw_pairs(
        encoder, jobs, candidates, pairs_per_job=pairs_per_job, top=top, seed=seed, progress=show
    )
    answers = []
    with tqdm(total=len(pairs), desc="judging", unit="pair", disable=not show) as bar:
        for start in range(0, len(pairs), JUDGE_CHUNK):
            chunk = pairs[start : start + JUDGE_CHUNK]
            answers.extend(judge_.judge(chunk))
            bar.update(len(chunk))
    preferences = preferences_table(pairs, answers)
    if preferences.is_empty():
        reason = getattr(judge_, "last_error", None)
        raise JobmatchError(
            f"the {judge_.name} judge answered none of {len(pairs)} pairs; nothing written"
            + (f" (last error: {reason})" if reason else "")
        )
    io.write_table(io.validate(preferences, "preferences"), out_path)
    share_a = sum(a is not None and a.preferred == "A" for a in answers) / preferences.height
    stats = getattr(judge_, "stats", None) or {}
    stats_text = "; " + " ".join(f"{k}={v}" for k, v in stats.items()) if stats else ""
    _status(
        f"judged {preferences.height} of {len(pairs)} pairs ({len(pairs) - preferences.height} "
        f"dropped) from the top-{top} of {jobs.height} jobs with the {judge_.name} judge; "
        f"A preferred {share_a:.1%}{stats_text} -> {out_path}"
    )
