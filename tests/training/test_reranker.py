"""The cross-encoder reranker: every parameter trains, the evaluator's maths, the commands."""

from __future__ import annotations

import copy
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
import torch
from click.testing import CliRunner

from jobmatch import io, rules
from jobmatch.cli import main
from jobmatch.errors import ModelError
from jobmatch.testing import build_tiny_cross_encoder
from jobmatch.training.config import RerankerConfig
from jobmatch.training.data import judged_by_job, split_jobs
from jobmatch.training.evaluators import RerankingEvaluator, primary_metric
from jobmatch.training.reranker import load_cross_encoder, prepare_reranker

TINY_ARGS = ["--max-length", "64", "--batch-size", "8", "--no-progress"]


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-cross-encoder"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    from jobmatch.synth import write_corpus

    folder = tmp_path_factory.mktemp("reranker-corpus")
    paths = write_corpus(folder, n_candidates=200, n_jobs=16, seed=3)
    jobs = io.read_table(paths["jobs"], "jobs")
    candidates = io.read_table(paths["candidates"], "candidates")
    qrels = pl.concat(list(rules.iter_labels(jobs, candidates, rules.load_rules())))
    paths["qrels"] = folder / "qrels.parquet"
    io.write_table(qrels, paths["qrels"])
    return paths, jobs, candidates, qrels


@pytest.mark.parametrize("loss_name", ["bce", "lambda"])
def test_one_step_changes_every_parameter(cross_encoder_dir: Path, loss_name: str) -> None:
    from sentence_transformers.cross_encoder import losses

    model = load_cross_encoder(str(cross_encoder_dir))
    before = copy.deepcopy(model.state_dict())
    jobs = ["senior nlp engineer berlin", "frontend developer paris"]
    texts = [
        ["nlp researcher in berlin", "security lead london", "data scientist munich"],
        ["react frontend in paris", "java backend london", "remote devops"],
    ]
    if loss_name == "bce":
        loss = losses.BinaryCrossEntropyLoss(model)
        pairs = [(j, doc) for j, docs in zip(jobs, texts, strict=True) for doc in docs]
        inputs = [[j for j, _ in pairs], [doc for _, doc in pairs]]
        labels = torch.tensor([1.0, 0.0, 1 / 3, 2 / 3, 0.0, 0.0])
    else:
        loss = losses.LambdaLoss(model)
        inputs = [jobs, texts]
        labels = [torch.tensor([3.0, 0.0, 1.0]), torch.tensor([2.0, 0.0, 1.0])]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    loss(inputs, labels).backward()
    optimizer.step()
    after = model.state_dict()
    floats = [name for name, tensor in before.items() if tensor.dtype.is_floating_point]
    unchanged = [name for name in floats if torch.equal(before[name], after[name])]
    assert not unchanged, unchanged  # the score head reads the pooler: nothing is idle
    assert any("classifier" in name for name in floats) and len(floats) > 20


def test_config_names_the_valid_values() -> None:
    with pytest.raises(ValueError, match=r"one of \('bce', 'lambda'\), got 'listnet'"):
        RerankerConfig(out=Path("m"), loss="listnet")
    with pytest.raises(ValueError, match="at most the 20 ranks"):
        RerankerConfig(out=Path("m"), negatives=30, mining_range=(0, 20))
    with pytest.raises(ValueError, match="0 <= start < end"):
        RerankerConfig(out=Path("m"), mining_range=(20, 10))


class FixedScores:
    """A stand-in cross-encoder whose score of (job text, candidate text) is looked up."""

    def __init__(self, scores: dict[tuple[str, str], float]) -> None:
        self.scores = scores
        self.model_card_data = SimpleNamespace(set_evaluation_metrics=lambda *args: None)

    def predict(self, pairs, batch_size: int = 32, show_progress_bar: bool = False):
        return np.array([self.scores[pair] for pair in pairs])


def brute_force(ranked: list[str], grades: dict[str, int], k: int) -> dict[str, float]:
    relevant = [c for c, g in grades.items() if g > 0]
    top = ranked[:k]
    dcg = sum(grades.get(c, 0) / math.log2(i + 2) for i, c in enumerate(top))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    hits = [i for i, c in enumerate(top) if grades.get(c, 0) > 0]
    precisions = [sum(1 for j in hits if j <= i) / (i + 1) for i in hits]
    return {
        f"ndcg@{k}": dcg / idcg,
        f"recall@{k}": len(hits) / len(relevant),
        f"mrr@{k}": 1 / (hits[0] + 1) if hits else 0.0,
        f"map@{k}": sum(precisions) / len(relevant),
    }


def test_reranking_evaluator_equals_brute_force() -> None:
    jobs = pl.DataFrame({"job_id": ["j1", "j2", "j3"], "text": ["job one", "job two", "job 3"]})
    ids = [f"c{i}" for i in range(6)]
    candidates = pl.DataFrame({"candidate_id": ids, "text": [f"text {c}" for c in ids]})
    grades = {"j1": {"c1": 3, "c3": 1, "c5": 2}, "j2": {"c0": 2, "c4": 1}, "j3": {"c2": 0}}
    qrels = pl.DataFrame(
        [(j, c, g) for j, row in grades.items() for c, g in row.items()],
        schema={"job_id": pl.String, "candidate_id": pl.String, "relevance": pl.Int8},
        orient="row",
    )
    # the retriever's lists; c5 is relevant to j1 but was not retrieved, so stays missed
    runs = {"j1": ["c0", "c3", "c1", "c2"], "j2": ["c4", "c2", "c0"], "j3": ["c2", "c1"]}
    scores = {"j1": [0.1, 0.7, 0.9, 0.3], "j2": [0.2, 0.5, 0.8], "j3": [0.4, 0.6]}
    texts = dict(jobs.iter_rows())
    model = FixedScores(
        {
            (texts[job], f"text {c}"): s
            for job in runs
            for c, s in zip(runs[job], scores[job], strict=True)
        }
    )
    evaluator = RerankingEvaluator(jobs, candidates, qrels, runs, k=3, name="heldout")
    metrics = evaluator(model)

    reranked = {
        job: [c for _, c in sorted(zip(scores[job], runs[job], strict=True), reverse=True)]
        for job in ("j1", "j2")  # j3 has no relevant candidate: skipped
    }
    for prefix, run in (("heldout_", reranked), ("heldout_retriever_", runs)):
        per_job = [brute_force(run[job], grades[job], 3) for job in ("j1", "j2")]
        for name in per_job[0]:
            expected = np.mean([values[name] for values in per_job])
            assert metrics[prefix + name] == pytest.approx(expected), prefix + name
    assert primary_metric(evaluator) == "eval_heldout_ndcg@3"
    assert len(evaluator.pairs) == 7  # j3 is not scored at all


def test_prepare_grades_positives_and_mines_unjudged_negatives(corpus, tiny_encoder) -> None:
    _, jobs, candidates, qrels = corpus
    train, held = split_jobs(jobs, held_out=4, seed=0)
    judged = judged_by_job(qrels)
    grade = {(j, c): g for j, c, g in qrels.select("job_id", "candidate_id", "relevance").rows()}
    job_of = {t: j for j, t in train.select("job_id", "text").iter_rows()}
    candidate_of = {t: c for c, t in candidates.select("candidate_id", "text").iter_rows()}
    config = RerankerConfig(
        out=Path("unused"), negatives=3, max_positives=2, mining_range=(0, 20), eval_depth=20
    )
    data = prepare_reranker(config, train, held, candidates, qrels, tiny_encoder)
    columns = data.examples
    assert set(columns) == {"query", "passage", "label"} and data.pairs == len(columns["label"])
    for text, passage, label in zip(*columns.values(), strict=True):
        job, candidate = job_of[text], candidate_of[passage]
        if label == 0:
            assert candidate not in judged[job]  # a mined negative is never a judged positive
        else:
            assert label == pytest.approx(grade[job, candidate] / 3)
    per_job = (
        pl.DataFrame({"q": columns["query"], "l": columns["label"]})
        .group_by("q")
        .agg(positives=(pl.col("l") > 0).sum(), negatives=(pl.col("l") == 0).sum())
    )
    assert per_job["positives"].max() == 2 and (per_job["negatives"] == 3).all()
    assert data.evaluator is not None and all(len(r) == 20 for r in data.evaluator.runs.values())

    config.loss = "lambda"
    lists = prepare_reranker(config, train, held, candidates, qrels, tiny_encoder).examples
    assert [len(docs) for docs in lists["docs"]] == [len(labels) for labels in lists["labels"]]
    assert sorted(lists["labels"][0], reverse=True)[-3:] == [0.0, 0.0, 0.0]


def test_load_cross_encoder_gives_a_bi_encoder_a_score_head(tiny_model_dir: Path) -> None:
    from jobmatch.encoder import load_encoder

    model = load_cross_encoder(str(tiny_model_dir))
    assert model.num_labels == 1
    bi = load_encoder(str(tiny_model_dir)).model.state_dict()
    words = next(v for k, v in bi.items() if k.endswith("word_embeddings.weight"))
    ce = next(v for k, v in model.state_dict().items() if k.endswith("word_embeddings.weight"))
    assert torch.equal(words, ce)  # the encoder's weights, only the head is new
    with pytest.raises(ModelError, match="not found"):
        load_cross_encoder(str(tiny_model_dir / "missing"))


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from jobmatch.cli import main\n"
        "for args in (['train', 'reranker', '--help'], ['train', 'pairs', '--help']):\n"
        "    result = CliRunner().invoke(main, args)\n"
        "    assert result.exit_code == 0 and 'Examples' in result.output, result.output\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'polars') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def train_reranker_args(paths, cross_encoder_dir: Path, retriever: Path, out: Path) -> list[str]:
    return [
        "train",
        "reranker",
        "--jobs",
        str(paths["jobs"]),
        "--candidates",
        str(paths["candidates"]),
        "--qrels",
        str(paths["qrels"]),
        "--model",
        str(cross_encoder_dir),
        "--retriever-model",
        str(retriever),
        "--out",
        str(out),
        "--held-out",
        "4",
        "--negatives",
        "3",
        "--max-positives",
        "3",
        "--range",
        "0-20",
        "--eval-depth",
        "20",
        *TINY_ARGS,
    ]


def steps_of(stderr: str) -> int:
    return int(re.search(r"after (\d+) steps", stderr).group(1))


@pytest.mark.parametrize("loss_name", ["bce", "lambda"])
def test_cli_train_reranker_saves_a_cross_encoder(
    tmp_path: Path, corpus, cross_encoder_dir: Path, tiny_model_dir: Path, loss_name: str
) -> None:
    from sentence_transformers.cross_encoder import CrossEncoder

    paths = corpus[0]
    out = tmp_path / "reranker"
    args = train_reranker_args(paths, cross_encoder_dir, tiny_model_dir, out)
    result = CliRunner().invoke(main, [*args, "--loss", loss_name])
    assert result.exit_code == 0, result.output
    assert re.search(r"retriever .* on \d+ held-out jobs, top 20: ndcg@20 ", result.stderr)
    assert f"training a cross-encoder ({loss_name})" in result.stderr
    history = json.loads((out / "training_history.json").read_text())
    best = max(entry["eval_heldout_ndcg@20"] for entry in history)
    assert f"held-out nDCG@20 reranking the top 20 {best:.4f}" in result.stderr
    assert all("eval_heldout_retriever_ndcg@20" in entry for entry in history)

    model = CrossEncoder(str(out))
    scores = model.predict([("nlp engineer berlin", "nlp researcher"), ("a job", "a resume")])
    assert scores.shape == (2,) and np.all((scores > 0) & (scores < 1))
    start = load_cross_encoder(str(cross_encoder_dir)).state_dict()
    trained = model.state_dict()
    assert any(not torch.equal(start[name], trained[name]) for name in start)


def test_cli_train_reranker_resume_continues(
    tmp_path: Path, corpus, cross_encoder_dir: Path, tiny_model_dir: Path
) -> None:
    paths = corpus[0]
    out = tmp_path / "reranker"
    args = train_reranker_args(paths, cross_encoder_dir, tiny_model_dir, out)
    first = CliRunner().invoke(main, [*args, "--epochs", "1"])
    assert first.exit_code == 0, first.output
    per_epoch = steps_of(first.stderr)
    state = out / "checkpoints" / f"checkpoint-{per_epoch}" / "trainer_state.json"
    written = state.stat().st_mtime_ns
    second = CliRunner().invoke(main, [*args, "--epochs", "2", "--resume"])
    assert second.exit_code == 0, second.output
    assert steps_of(second.stderr) == 2 * per_epoch
    assert state.stat().st_mtime_ns == written  # the first epoch was not trained again


def test_cli_train_pairs_cross_encoder_reports_mse(tmp_path: Path, tiny_model_dir: Path) -> None:
    from sentence_transformers.cross_encoder import CrossEncoder

    rng = np.random.default_rng(0)
    words = ["nlp", "berlin", "frontend", "paris", "security", "data", "java", "cloud"]
    rows = []
    for i in range(30):
        a, b = rng.choice(words, 2, replace=False)
        rows.append({"resume": f"{a} engineer {i}", "jd": f"{b} role {i}", "label": 0.25})
        rows.append({"resume": f"{a} developer {i}", "jd": f"{a} job {i}", "label": 1.0})
    pairs = tmp_path / "pairs.csv"
    pl.DataFrame(rows).write_csv(pairs)
    out = tmp_path / "pairs-cross-encoder"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "pairs",
            "--pairs",
            str(pairs),
            "--cross-encoder",
            "--model",
            str(tiny_model_dir),  # a bi-encoder: gets a fresh score head
            "--out",
            str(out),
            "--epochs",
            "2",
            "--batch-size",
            "8",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    history = json.loads((out / "training_history.json").read_text())
    assert history and all({"eval_loss", "eval_validation_mse"} <= set(e) for e in history)
    best = min(history, key=lambda entry: entry["eval_loss"])  # the checkpoint kept
    reported = float(re.search(r"validation MSE of the best checkpoint ([\d.]+)", result.stderr)[1])
    assert reported == pytest.approx(best["eval_validation_mse"], abs=1e-4)
    assert CrossEncoder(str(out)).predict([("nlp engineer", "nlp job")]).shape == (1,)
