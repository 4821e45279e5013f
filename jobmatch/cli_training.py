"""Training commands of the `jobmatch` CLI: mine-negatives, train contrastive, train pairs.

Registered on the main group by `jobmatch.cli`; like it, imports heavy libraries lazily.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from jobmatch.cli_options import (
    INPUT_FILE,
    backend_options,
    model_option,
    progress_option,
    resolve_backend,
)
from jobmatch.cli_options import show_progress as _show_progress
from jobmatch.cli_options import status as _status


def _read_labelled(jobs_path: str, candidates_path: str, qrels_path: str):
    from jobmatch import io

    return (
        io.read_table(jobs_path, "jobs"),
        io.read_table(candidates_path, "candidates"),
        io.read_table(qrels_path, "qrels"),
    )


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
    jobs, candidates, qrels = _read_labelled(jobs_path, candidates_path, qrels_path)
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


@click.group()
def train() -> None:
    """Fine-tune the bi-encoder (stage 1 contrastive, pair regression)."""


@train.command("contrastive")
@click.option("--jobs", "jobs_path", type=INPUT_FILE, default=None)
@click.option("--candidates", "candidates_path", type=INPUT_FILE, default=None)
@click.option("--qrels", "qrels_path", type=INPUT_FILE, default=None)
@click.option(
    "--train",
    "train_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Training JSONL (RankPO format) instead of random negatives from --qrels.",
)
@click.option(
    "--held-out",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Jobs kept out of training for the nDCG@20 evaluator (needs --jobs/--qrels).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@model_option("Starting model.")
@click.option(
    "--epochs", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True
)
@click.option("--batch-size", type=click.IntRange(min=2), default=32, show_default=True)
@click.option("--lr", type=float, default=2e-5, show_default=True)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0, min_open=True),
    default=0.02,
    show_default=True,
    help="InfoNCE temperature; loss scale = 1/temperature.",
)
@click.option(
    "--negatives",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Hard negatives per example, besides in-batch negatives.",
)
@click.option("--max-seq-length", type=click.IntRange(min=8), default=128, show_default=True)
@click.option(
    "--cached", is_flag=True, help="GradCache loss: large batches in small memory (CachedMNRL)."
)
@click.option("--mini-batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option(
    "--eval-steps",
    type=click.IntRange(min=1),
    default=None,
    help="Evaluate/save every N steps (default: every epoch).",
)
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in --out.")
@click.option("--seed", type=int, default=0, show_default=True)
@progress_option()
def train_contrastive_command(
    jobs_path,
    candidates_path,
    qrels_path,
    train_path,
    held_out,
    out_dir,
    model,
    epochs,
    batch_size,
    lr,
    temperature,
    negatives,
    max_seq_length,
    cached,
    mini_batch_size,
    eval_steps,
    resume,
    seed,
    progress,
) -> None:
    """Stage 1: InfoNCE with in-batch and hard negatives on rule-derived pairs.

    From --jobs/--candidates/--qrels it holds out --held-out jobs for evaluation and draws
    random negatives for the rest; with --train it reads RankPO JSONL (e.g. from
    mine-negatives) and, if --jobs/--candidates/--qrels are also given, evaluates on the
    held-out jobs. The best checkpoint by held-out nDCG@20 is saved to --out, which loads
    with SentenceTransformer(OUT) and --model OUT everywhere. Multi-GPU: prefix the command
    with `torchrun --nproc_per_node N -m jobmatch.cli`.

    \b
    Examples:
      jobmatch train contrastive --jobs data/jobs.parquet --candidates data/candidates.parquet \\
          --qrels data/qrels.parquet --out models/stage1-random
      jobmatch train contrastive --train data/mined.jsonl --jobs data/jobs.parquet \\
          --candidates data/candidates.parquet --qrels data/qrels.parquet \\
          --model models/stage1-random --out models/stage1-mined
    """
    from jobmatch.training import data
    from jobmatch.training.contrastive import ContrastiveConfig, train_contrastive
    from jobmatch.training.evaluator import RankingEvaluator

    labelled = all((jobs_path, candidates_path, qrels_path))
    if not train_path and not labelled:
        raise click.UsageError("give --jobs, --candidates and --qrels, or --train")
    evaluator = None
    if labelled:
        jobs, candidates, qrels = _read_labelled(jobs_path, candidates_path, qrels_path)
        train_jobs, held = _split_jobs(jobs, held_out, seed)
        if held.height:
            evaluator = RankingEvaluator(held, candidates, qrels, seed=seed)
    if train_path:
        rows = data.read_training_jsonl(train_path)
        if evaluator is not None:
            held_texts = set(held["text"].to_list())
            rows = [row for row in rows if row["query"] not in held_texts]
    else:
        id_rows = data.random_negatives(
            train_jobs, candidates, qrels, num=max(negatives, 1), seed=seed
        )
        rows = data.rows_with_texts(id_rows, jobs, candidates)
    examples = data.contrastive_examples(rows, negatives=negatives, seed=seed)
    config = ContrastiveConfig(
        out=Path(out_dir),
        model=model,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        temperature=temperature,
        negatives=negatives,
        max_seq_length=max_seq_length,
        cached=cached,
        mini_batch_size=mini_batch_size,
        eval_steps=eval_steps,
        resume=resume,
        seed=seed,
        progress=_show_progress(progress),
    )
    _status(
        f"training on {len(examples['anchor'])} examples from {len(rows)} jobs"
        + (f", evaluating on {held.height} held-out jobs" if evaluator else "")
    )
    result = train_contrastive(config, examples, evaluator)
    _report(result, "held-out nDCG@20")


@train.command("pairs")
@click.option(
    "--pairs",
    "pairs_path",
    type=INPUT_FILE,
    required=True,
    help="Table of resume, jd, label in [0, 1] (CSV, Parquet or JSONL).",
)
@click.option("--resume-col", default="resume", show_default=True)
@click.option("--jd-col", default="jd", show_default=True)
@click.option("--label-col", default="label", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@model_option("Starting model.")
@click.option(
    "--epochs",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Upper bound; early stopping usually ends sooner.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--lr", type=float, default=2e-5, show_default=True)
@click.option(
    "--validation-share",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.1,
    show_default=True,
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Evaluations without a better validation loss before stopping.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@progress_option()
def train_pairs_command(
    pairs_path,
    resume_col,
    jd_col,
    label_col,
    out_dir,
    model,
    epochs,
    batch_size,
    lr,
    validation_share,
    patience,
    seed,
    progress,
) -> None:
    """Pair regression (the Korean matcher's recipe): MSE of (cos+1)/2 against the label.

    \b
    Example:
      jobmatch train pairs --pairs pairs.csv --out models/pairs
    """
    import polars as pl

    from jobmatch.io.importers import import_pairs
    from jobmatch.training.pairs import JD, LABEL, RESUME, PairsConfig, train_pairs

    tables = import_pairs(pairs_path, resume_col=resume_col, jd_col=jd_col, label_col=label_col)
    resume_text = dict(tables.candidates.select("candidate_id", "text").iter_rows())
    jd_text = dict(tables.jobs.select("job_id", "text").iter_rows())
    pairs = pl.DataFrame(
        {
            RESUME: [resume_text[c] for c in tables.pairs["candidate_id"]],
            JD: [jd_text[j] for j in tables.pairs["job_id"]],
            LABEL: tables.pairs["label"].cast(pl.Float32),
        }
    )
    config = PairsConfig(
        out=Path(out_dir),
        model=model,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        validation_share=validation_share,
        patience=patience,
        seed=seed,
        progress=_show_progress(progress),
    )
    result = train_pairs(config, pairs)
    _report(result, "best validation loss")


def _report(result, metric_name: str) -> None:
    best = "" if result.best_metric is None else f" {result.best_metric:.4f}"
    _status(
        f"saved {result.out} after {result.steps} steps in {result.seconds:.0f}s "
        f"({result.examples_per_second:.1f} examples/s); {metric_name}{best}"
    )
    (Path(result.out) / "training_history.json").write_text(
        json.dumps(result.history, indent=2) + "\n", "utf-8"
    )


@train.command("rankpo")
@click.option(
    "--preferences",
    "preferences_path",
    type=INPUT_FILE,
    required=True,
    help="Preferences table (job_id, chosen, rejected[, confidence]).",
)
@click.option("--jobs", "jobs_path", type=INPUT_FILE, required=True)
@click.option("--candidates", "candidates_path", type=INPUT_FILE, required=True)
@click.option(
    "--qrels",
    "qrels_path",
    type=INPUT_FILE,
    default=None,
    help="Rule labels: enable retention batches and held-out nDCG@20.",
)
@click.option(
    "--retention-train",
    "retention_train_path",
    type=INPUT_FILE,
    default=None,
    help="Stage 1's training JSONL (`jobmatch mine-negatives` output): retention batches use "
    "its positives and mined hard negatives instead of random negatives.",
)
@click.option(
    "--model",
    "model",
    required=True,
    metavar="STAGE1",
    help="The stage-1 model (start and reference).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--beta", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True)
@click.option(
    "--temperature", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True
)
@click.option("--gamma", type=float, default=0.0, show_default=True)
@click.option(
    "--label-smoothing",
    type=click.FloatRange(0, 0.5, max_open=True),
    default=0.0,
    show_default=True,
)
@click.option(
    "--loss",
    "loss_type",
    type=click.Choice(["sigmoid", "hinge"]),
    default="sigmoid",
    show_default=True,
)
@click.option(
    "--reference-free/--reference",
    default=True,
    show_default=True,
    help="Drop the frozen stage-1 reference term from the advantage.",
)
@click.option("--sft-weight", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option(
    "--retention-weight",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Weight of interleaved stage-1 retention batches (needs --qrels or "
    "--retention-train); 0 = plain. 2 with --linear-head.",
)
@click.option(
    "--linear-head",
    is_flag=True,
    help="Train only a linear head on the frozen stage-1 embeddings, encoded once: fast "
    "enough for tens of thousands of pairs on a CPU. Options not given then take the head's "
    "defaults: --lr 1e-3 --epochs 5 --batch-size 64 --retention-loss preference "
    "--retention-weight 2.",
)
@click.option(
    "--retention-loss",
    type=click.Choice(["contrastive", "preference"]),
    default="contrastive",
    show_default=True,
    help="Score retention rows with stage 1's InfoNCE (contrastive) or as the rules' own "
    "preferences, positive over negative, with the RankPO loss (preference; the default "
    "with --linear-head).",
)
@click.option(
    "--margin-weight",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Weight of interleaved margin batches: MarginMSE of the chosen-rejected score gap "
    "against --margin-scale x logit(judge confidence); needs a confidence column. 0 = off.",
)
@click.option(
    "--margin-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=0.02,
    show_default=True,
    help="Cosine gap asked per logit of judge confidence.",
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Train only on pairs the judge was at least this sure of (0.55 drops the "
    "synthetic judge's coin-flip ties); held-out pairs are all kept.",
)
@click.option(
    "--train-layers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Train only the top N transformer layers; the embeddings and lower layers stay as "
    "stage 1 left them. 0 = all.",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=5e-5,
    show_default=True,
    help="Learning rate; 1e-3 with --linear-head.",
)
@click.option(
    "--epochs",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="5 with --linear-head.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=2),
    default=16,
    show_default=True,
    help="Preference rows per step (as many retention rows follow); 64 with --linear-head.",
)
@click.option(
    "--held-out",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Jobs whose preferences (and labels) are kept out for evaluation.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@progress_option()
def train_rankpo_command(
    preferences_path,
    jobs_path,
    candidates_path,
    qrels_path,
    retention_train_path,
    model,
    out_dir,
    beta,
    temperature,
    gamma,
    label_smoothing,
    loss_type,
    reference_free,
    sft_weight,
    retention_weight,
    retention_loss,
    linear_head,
    margin_weight,
    margin_scale,
    min_confidence,
    train_layers,
    lr,
    epochs,
    batch_size,
    held_out,
    seed,
    progress,
) -> None:
    """Stage 2: RankPO on judge preferences, keeping stage 1's ranking via retention.

    \b
    Example:
      jobmatch train rankpo --preferences data/preferences.parquet --jobs data/jobs.parquet \\
          --candidates data/candidates.parquet --qrels data/qrels.parquet \\
          --model models/stage1 --out models/stage2

    \b
    A linear head on the frozen stage-1 encoder, for many judged pairs on a CPU
    (preference retention weight 2, lr 1e-3, 5 epochs of batches of 64 unless given):
      jobmatch train rankpo ... --linear-head
    """

    from jobmatch import io
    from jobmatch.training.evaluator import RankingEvaluator
    from jobmatch.training.head import HEAD_DEFAULTS
    from jobmatch.training.rankpo import (
        AlignmentEvaluator,
        RankPOConfig,
        preference_texts,
        retention_examples,
        retention_from_training_rows,
        split_preferences,
        train_rankpo,
    )

    if linear_head and (train_layers or margin_weight):
        raise click.UsageError("--linear-head trains alone: drop --train-layers/--margin-weight")
    jobs = io.read_table(jobs_path, "jobs")
    candidates = io.read_table(candidates_path, "candidates")
    preferences = io.read_table(preferences_path, "preferences")
    train_jobs, held = _split_jobs(jobs, held_out, seed)
    train_prefs, held_prefs = split_preferences(preferences, held, min_confidence=min_confidence)
    if train_prefs.height == 0:
        raise click.UsageError(
            "no preference pairs left for training after the held-out split"
            + (f" and --min-confidence {min_confidence:g}" if min_confidence else "")
        )
    if margin_weight > 0 and (
        "confidence" not in train_prefs.columns or train_prefs["confidence"].is_null().all()
    ):
        raise click.UsageError(
            f"--margin-weight needs judge confidences; {preferences_path} has none"
        )
    evaluators = []
    if held_prefs.height:
        texts = preference_texts(held_prefs, jobs, candidates)
        evaluators.append(AlignmentEvaluator(texts["query"], texts["chosen"], texts["rejected"]))
    retention = None
    if qrels_path:
        qrels = io.read_table(qrels_path, "qrels")
        if held.height:
            evaluators.append(RankingEvaluator(held, candidates, qrels, seed=seed))
        retention = retention_examples(train_jobs, jobs, candidates, qrels, seed=seed)
    if retention_train_path:
        from jobmatch.errors import InputError
        from jobmatch.training import data

        retention = retention_from_training_rows(
            data.read_training_jsonl(retention_train_path), seed=seed
        )
        if not retention["anchor"]:
            raise InputError("no row has a negative to retain", path=retention_train_path)
    settings = {
        "lr": lr,
        "epochs": epochs,
        "batch_size": batch_size,
        "retention_loss": retention_loss,
        "retention_weight": retention_weight,
    }
    if linear_head:  # the head's own defaults for whatever was not given
        context = click.get_current_context()
        for name, value in HEAD_DEFAULTS.items():
            if context.get_parameter_source(name) is click.core.ParameterSource.DEFAULT:
                settings[name] = value
    if not retention:
        settings["retention_weight"] = 0.0
    config = RankPOConfig(
        out=Path(out_dir),
        model=model,
        beta=beta,
        temperature=temperature,
        gamma=gamma,
        label_smoothing=label_smoothing,
        loss_type=loss_type,
        reference_free=reference_free,
        sft_weight=sft_weight,
        **settings,
        linear_head=linear_head,
        margin_weight=margin_weight,
        margin_scale=margin_scale,
        train_layers=train_layers,
        seed=seed,
        progress=_show_progress(progress),
    )
    _status(
        f"RankPO on {train_prefs.height} pairs, "
        + ("a linear head" if linear_head else "the full model")
        + f": lr {config.lr:g}, {config.epochs:g} epochs, batch {config.batch_size}, "
        + (
            f"{config.retention_loss} retention weight {config.retention_weight:g}"
            if config.retention_weight
            else "no retention"
        )
    )
    result = train_rankpo(
        config,
        preference_texts(train_prefs, jobs, candidates),
        retention=retention,
        evaluators=evaluators,
    )
    last = result.history[-1] if result.history else {}
    summary = ", ".join(
        f"{k.removeprefix('eval_')} {v:.4f}"
        for k, v in last.items()
        if k.startswith("eval_heldout")
    )
    _report(result, "final " + (summary or "(no held-out data)"))


def _split_jobs(jobs, held_out: int, seed: int):
    """`data.split_jobs`, with too many held-out jobs reported as a bad --held-out."""
    from jobmatch.training import data

    try:
        return data.split_jobs(jobs, held_out=held_out, seed=seed)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--held-out") from exc


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

    jobs = io.read_table(jobs_path, "jobs")
    candidates = io.read_table(candidates_path, "candidates")
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
