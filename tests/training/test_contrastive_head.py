"""Stage 1 as a linear head (`train contrastive --mode head`): the loss, best-epoch keeping,
the saved model (frozen model + Dense + Normalize) and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from jobmatch.cli import main
from jobmatch.encoder import load_encoder
from jobmatch.training import data
from jobmatch.training.config import ContrastiveHeadConfig
from jobmatch.training.contrastive import train_contrastive
from jobmatch.training.contrastive_head import infonce_loss
from jobmatch.training.evaluators import RankingEvaluator
from jobmatch.training.frozen import FrozenEmbeddings, HeadEncoder, identity_head


def test_infonce_masks_rows_of_the_same_job() -> None:
    torch.manual_seed(0)
    vectors = F.normalize(torch.randn(6, 4), dim=-1)
    head = identity_head(4)
    # rows: (anchor, positive, negative); rows 0 and 1 share anchor 0, row 2 is another job
    batch = torch.tensor([[0, 1, 4], [0, 2, 5], [3, 4, 1]])
    loss = infonce_loss(head, vectors, batch, temperature=0.5)
    scores = vectors @ vectors.T / 0.5
    documents = [1, 2, 4, 4, 5, 1]  # positives of rows 0..2, then their negatives
    # row 0: its positive 1 (twice: as row 2's negative too, masked), row 1's positive 2
    # (same job, masked); row 1 likewise masks 1; row 2 masks the duplicate of its positive 4
    kept = {0: [0, 2, 3, 4], 1: [1, 2, 3, 4], 2: [2, 0, 1, 4, 5]}
    expected = []
    for row, columns in kept.items():
        logits = scores[batch[row, 0], [documents[c] for c in columns]]
        expected.append(torch.logsumexp(logits, 0) - logits[columns.index(row)])
    assert loss.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-5)


def test_head_encoder_is_the_saved_model(tmp_path: Path, tiny_model_dir: Path) -> None:
    from jobmatch.training.frozen import save_with_head

    model = load_encoder(str(tiny_model_dir)).model
    cache = FrozenEmbeddings(model)
    head = identity_head(model.get_embedding_dimension())
    with torch.no_grad():
        head.weight.add_(0.3 * torch.randn_like(head.weight))
    texts = ["senior nlp engineer in berlin", "frontend developer, paris"]
    via_cache = HeadEncoder(cache, head).encode(texts)
    save_with_head(model, head.weight, tmp_path / "saved")
    assert len(model) == len(load_encoder(str(tiny_model_dir)).model)  # left as it was
    saved = load_encoder(str(tmp_path / "saved")).model.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(via_cache, saved, atol=1e-5)


def test_head_keeps_the_best_epoch(tmp_path: Path, labelled, tiny_model_dir: Path) -> None:
    _, jobs, candidates, qrels = labelled
    train_jobs, held = data.split_jobs(jobs, held_out=6, seed=0)
    rows = data.rows_with_texts(
        data.random_negatives(train_jobs, candidates, qrels, num=3, seed=0), jobs, candidates
    )
    examples = data.contrastive_examples(rows, negatives=3)
    evaluator = RankingEvaluator(held, candidates, qrels, pool_size=300)
    config = ContrastiveHeadConfig(
        out=tmp_path / "head", model=str(tiny_model_dir), epochs=6, progress=False
    )
    result = train_contrastive(config, examples, evaluator)
    metric = "eval_heldout_ndcg@20"
    scores = [entry[metric] for entry in result.history if metric in entry]
    assert len(scores) == 7  # the frozen model, then every epoch
    assert result.best_metric == max(scores)
    losses = [entry["loss"] for entry in result.history if "loss" in entry]
    assert losses[-1] < losses[0]
    saved = load_encoder(str(result.out)).model
    assert type(saved[-2]).__name__ == "Dense" and type(saved[-1]).__name__ == "Normalize"
    assert evaluator(saved)["heldout_ndcg@20"] == pytest.approx(result.best_metric, abs=1e-4)


def test_cli_train_contrastive_head(tmp_path: Path, labelled, tiny_model_dir: Path) -> None:
    paths, _, _, _ = labelled
    common = [
        "train",
        "contrastive",
        "--mode",
        "head",
        "--jobs",
        str(paths["jobs"]),
        "--candidates",
        str(paths["candidates"]),
        "--qrels",
        str(paths["qrels"]),
        "--held-out",
        "6",
        "--model",
        str(tiny_model_dir),
        "--no-progress",
    ]
    out = tmp_path / "head"
    result = CliRunner().invoke(main, [*common, "--epochs", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "training a linear head" in result.stderr and "held-out nDCG@20" in result.stderr
    history = json.loads((out / "training_history.json").read_text())
    assert history[0]["epoch"] == 0 and "eval_heldout_ndcg@20" in history[0]
    weight = load_encoder(str(out)).model[-2].linear.weight.detach()
    assert not torch.allclose(weight, torch.eye(weight.shape[0]))  # the head trained

    refused = CliRunner().invoke(main, [*common, "--cached", "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "--cached: only for --mode full" in refused.output
