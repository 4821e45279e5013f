"""Stage-1 training: parameters move, loss falls, mining excludes positives, models reload."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from click.testing import CliRunner

from jobmatch import io
from jobmatch.cli import main
from jobmatch.encoder import load_encoder
from jobmatch.index import BuildConfig, build_index, load_index
from jobmatch.training import data
from jobmatch.training.mining import STRATEGIES, MiningConfig, cluster_weights, mine_negatives


def test_split_and_random_negatives_never_use_judged_candidates(labelled) -> None:
    _, jobs, candidates, qrels = labelled
    train, held = data.split_jobs(jobs, held_out=4, seed=1)
    assert held.height == 4 and train.height == 20
    assert not set(train["job_id"]) & set(held["job_id"])
    rows = data.random_negatives(train, candidates, qrels, num=5, seed=0)
    judged = data.judged_by_job(qrels)
    positives = data.positives_by_job(qrels)
    assert rows.height == sum(job in positives for job in train["job_id"])
    for job_id, positive_ids, negative_ids in rows.iter_rows():
        assert positive_ids == positives[job_id]
        assert len(negative_ids) == 5 and len(set(negative_ids)) == 5
        assert not set(negative_ids) & judged[job_id]


def test_contrastive_examples_shape() -> None:
    rows = [{"query": "q", "positives": ["p1", "p2"], "negatives": ["n1", "n2", "n3"]}]
    columns = data.contrastive_examples(rows, negatives=2, max_positives=4)
    assert list(columns) == ["anchor", "positive", "negative_1", "negative_2"]
    assert columns["anchor"] == ["q", "q"] and columns["positive"] == ["p1", "p2"]
    for i in range(2):
        assert columns["negative_1"][i] != columns["negative_2"][i]
        assert {columns["negative_1"][i], columns["negative_2"][i]} <= {"n1", "n2", "n3"}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_mining_never_returns_a_positive(labelled, tiny_encoder, strategy: str) -> None:
    _, jobs, candidates, qrels = labelled
    config = MiningConfig(strategy=strategy, range_start=0, range_end=40, num=8, seed=3)
    rows = mine_negatives(tiny_encoder, jobs, candidates, qrels, config)
    judged = data.judged_by_job(qrels)
    assert rows.height == len(data.positives_by_job(qrels))
    corpus = tiny_encoder.encode(candidates["text"].to_list())
    ids = candidates["candidate_id"].to_list()
    for job_id, _, negative_ids in rows.iter_rows():
        assert len(negative_ids) == 8 and len(set(negative_ids)) == 8
        assert not set(negative_ids) & judged[job_id]
        if strategy == "topk":  # scores of the 8 best candidates that are not judged relevant
            query = tiny_encoder.encode(jobs.filter(pl.col("job_id") == job_id)["text"].to_list())
            scores = dict(zip(ids, corpus @ query[0], strict=True))
            allowed = sorted(
                (s for c, s in scores.items() if c not in judged[job_id]), reverse=True
            )
            chosen = sorted((scores[c] for c in negative_ids), reverse=True)
            np.testing.assert_allclose(chosen, allowed[:8], atol=1e-5)


def test_cluster_weights_decay_geometrically_within_clusters() -> None:
    # two tight, far-apart clusters; pool order a a b a b -> weights 1, .5, 1, .25, .5
    vectors = np.array([[1, 0], [1, 0.01], [0, 1], [1, 0.02], [0.01, 1]], dtype=np.float32)
    weights = cluster_weights(vectors, clusters=2, decay=0.5, seed=0)
    np.testing.assert_allclose(weights, np.array([1, 0.5, 1, 0.25, 0.5]) / 3.25)


def test_training_jsonl_round_trip_and_errors(tmp_path: Path, labelled) -> None:
    _, jobs, candidates, qrels = labelled
    rows = data.random_negatives(jobs.head(3), candidates, qrels, num=2)
    path = tmp_path / "train.jsonl"
    assert data.write_training_jsonl(rows, jobs, candidates, path) == rows.height
    read = data.read_training_jsonl(path)
    assert read == data.rows_with_texts(rows, jobs, candidates)
    path.write_text('{"query": "q", "positives": ["p"]}\n{"query": "q", "positives": []}\n')
    with pytest.raises(Exception, match=r"line 2, column 'positives': no positives"):
        data.read_training_jsonl(path)


def _mnrl_batch(model, texts: list[list[str]]):
    return [model.tokenize(column) for column in texts]


def test_one_step_changes_every_trained_parameter(tiny_model_dir: Path) -> None:
    from sentence_transformers.sentence_transformer import losses

    model = load_encoder(str(tiny_model_dir)).model
    before = copy.deepcopy(model.state_dict())
    loss = losses.MultipleNegativesRankingLoss(model, scale=50.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    features = _mnrl_batch(
        model,
        [
            ["senior nlp engineer berlin", "frontend developer paris", "security lead"],
            ["nlp researcher in berlin", "react frontend in paris", "security engineer"],
            ["java backend london", "data scientist munich", "remote devops"],
        ],
    )
    loss(features, None).backward()
    optimizer.step()
    after = model.state_dict()
    unchanged = [
        name
        for name, tensor in before.items()
        if torch.equal(tensor, after[name]) and tensor.dtype.is_floating_point
    ]
    # BERT's pooler is not part of a mean-pooled sentence embedding, so it gets no gradient.
    assert unchanged and all("pooler" in name for name in unchanged), unchanged
    trained = [n for n, p in model.named_parameters() if p.requires_grad and "pooler" not in n]
    assert len(trained) > 20


def test_loss_falls_over_a_few_steps(tiny_model_dir: Path) -> None:
    from sentence_transformers.sentence_transformer import losses

    torch.manual_seed(0)
    model = load_encoder(str(tiny_model_dir)).model
    loss = losses.MultipleNegativesRankingLoss(model, scale=20.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    features = _mnrl_batch(
        model,
        [
            ["nlp engineer berlin", "frontend developer paris", "security lead london", "data job"],
            ["nlp berlin team", "frontend paris role", "security london city", "data team"],
            ["java rust go", "kubernetes docker", "spark sql", "pytorch vision"],
        ],
    )
    values = []
    for _ in range(6):
        optimizer.zero_grad()
        value = loss(features, None)
        value.backward()
        optimizer.step()
        values.append(value.item())
    assert all(b < a for a, b in itertools.pairwise(values)), values
    assert values[-1] < values[0] * 0.8, values


def test_cli_train_mine_retrain_and_reload(tmp_path: Path, labelled, tiny_model_dir) -> None:
    paths, _, _, _ = labelled
    runner = CliRunner()
    common = [
        "--jobs",
        str(paths["jobs"]),
        "--candidates",
        str(paths["candidates"]),
        "--qrels",
        str(paths["qrels"]),
    ]
    stage1 = tmp_path / "stage1"
    result = runner.invoke(
        main,
        [
            "train",
            "contrastive",
            *common,
            "--held-out",
            "4",
            "--out",
            str(stage1),
            "--model",
            str(tiny_model_dir),
            "--batch-size",
            "8",
            "--negatives",
            "3",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "held-out nDCG@20" in result.stderr
    history = json.loads((stage1 / "training_history.json").read_text())
    assert history and "eval_heldout_ndcg@20" in history[-1]

    mined = tmp_path / "mined.jsonl"
    result = runner.invoke(
        main,
        [
            "mine-negatives",
            "--model",
            str(stage1),
            *common,
            "--strategy",
            "cluster",
            "--range",
            "0-30",
            "--num",
            "5",
            "--out",
            str(mined),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(data.read_training_jsonl(mined)) > 0

    stage1b = tmp_path / "stage1b"
    result = runner.invoke(
        main,
        [
            "train",
            "contrastive",
            "--train",
            str(mined),
            *common,
            "--held-out",
            "4",
            "--model",
            str(stage1),
            "--out",
            str(stage1b),
            "--batch-size",
            "8",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output

    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(stage1b)).encode(["x"]).shape == (1, 32)
    encoder = load_encoder(str(stage1b))
    assert encoder.fingerprint != load_encoder(str(tiny_model_dir)).fingerprint
    index = tmp_path / "index"
    build_index(io.read_table(paths["candidates"], "candidates"), index, encoder, BuildConfig())
    assert load_index(index, fingerprint=encoder.fingerprint).rows == 600


def test_cli_train_pairs_with_early_stopping(tmp_path: Path, tiny_model_dir) -> None:
    rng = np.random.default_rng(0)
    words = ["nlp", "berlin", "frontend", "paris", "security", "data", "java", "cloud"]
    rows = []
    for i in range(40):
        a, b = rng.choice(words, 2, replace=False)
        rows.append({"resume": f"{a} engineer {i}", "jd": f"{b} role {i}", "label": float(a == b)})
        rows.append({"resume": f"{a} developer {i}", "jd": f"{a} job {i}", "label": 1.0})
    pairs = tmp_path / "pairs.csv"
    pl.DataFrame(rows).write_csv(pairs)
    out = tmp_path / "pairs-model"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "pairs",
            "--pairs",
            str(pairs),
            "--out",
            str(out),
            "--model",
            str(tiny_model_dir),
            "--epochs",
            "3",
            "--batch-size",
            "8",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    history = json.loads((out / "training_history.json").read_text())
    assert len(history) >= 1 and all("eval_loss" in entry for entry in history)
    assert "best validation loss" in result.stderr
    assert load_encoder(str(out)).dimension == 32


def test_cached_loss_trains_and_resume_continues(tmp_path: Path, labelled, tiny_model_dir) -> None:
    from jobmatch.training.config import ContrastiveConfig
    from jobmatch.training.contrastive import train_contrastive

    _, jobs, candidates, qrels = labelled
    rows = data.rows_with_texts(
        data.random_negatives(jobs, candidates, qrels, num=2), jobs, candidates
    )
    examples = data.contrastive_examples(rows, negatives=2, max_positives=2)
    config = ContrastiveConfig(
        out=tmp_path / "model",
        model=str(tiny_model_dir),
        epochs=1,
        batch_size=8,
        negatives=2,
        cached=True,
        mini_batch_size=4,
        progress=False,
    )
    first = train_contrastive(config, examples)
    steps_per_epoch = -(-len(examples["anchor"]) // 8)
    assert first.steps == steps_per_epoch
    assert (tmp_path / "model" / "checkpoints" / f"checkpoint-{steps_per_epoch}").is_dir()
    config.epochs, config.resume = 2, True
    second = train_contrastive(config, examples)
    assert second.steps == 2 * steps_per_epoch  # continued from the checkpoint, not restarted
