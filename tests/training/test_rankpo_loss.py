"""RankPOLoss: the formula on known scores, precomputed vs online reference, gradient direction,
validation, and a real SentenceTransformerTrainer step with reference scores in the label column."""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from jobmatch.encoder import load_encoder
from jobmatch.losses import RankPOLoss, rankpo_loss, reference_scores

BATCH = 6
DIM = 8


class TableModel(nn.Module):
    """Stands in for a SentenceTransformer: each feature dict names rows of a fixed table."""

    def __init__(self, table: np.ndarray) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.tensor(table))

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"sentence_embedding": self.table[features["index"]]}


def table_features(batch: int = BATCH) -> list[dict[str, torch.Tensor]]:
    """Rows 0..b-1 are queries, b..2b-1 chosen, 2b..3b-1 rejected: no row is shared."""
    return [{"index": torch.arange(column * batch, (column + 1) * batch)} for column in range(3)]


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def scores_of(table: np.ndarray, batch: int = BATCH) -> tuple[list[float], list[float]]:
    s_c = [cosine(table[i], table[batch + i]) for i in range(batch)]
    s_r = [cosine(table[i], table[2 * batch + i]) for i in range(batch)]
    return s_c, s_r


def neg_log_sigmoid(x: float) -> float:
    return math.log1p(math.exp(-x))


def expected_loss(
    s_c: list[float],
    s_r: list[float],
    ref: np.ndarray | None,
    *,
    temperature: float,
    beta: float,
    gamma: float,
    label_smoothing: float,
    loss_type: str,
    sft_weight: float,
) -> tuple[float, list[float]]:
    """The RankPO formula written out per example, independently of the implementation."""
    terms, sft, advantages = [], [], []
    for i, (c, r) in enumerate(zip(s_c, s_r, strict=True)):
        a = (c - r) - (0.0 if ref is None else float(ref[i, 0] - ref[i, 1]))
        z = a / temperature - gamma / beta
        if loss_type == "sigmoid":
            terms.append(
                (1 - label_smoothing) * neg_log_sigmoid(beta * z)
                + label_smoothing * neg_log_sigmoid(-beta * z)
            )
        else:
            terms.append(max(0.0, 1 - beta * z))
        e_c, e_r = math.exp(c / temperature), math.exp(r / temperature)
        sft.append(-math.log(e_c / (e_c + e_r)))
        advantages.append(a)
    return sum(terms) / len(terms) + sft_weight * sum(sft) / len(sft), advantages


@pytest.fixture(scope="module")
def fixed() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    table = rng.normal(size=(3 * BATCH, DIM))
    ref = rng.uniform(-0.5, 0.5, size=(BATCH, 2))
    return table, ref


@pytest.mark.parametrize(
    ("loss_type", "reference_free", "gamma", "label_smoothing", "sft_weight"),
    list(
        itertools.product(["sigmoid", "hinge"], [True, False], [0.0, 0.5], [0.0, 0.1], [0.0, 0.5])
    ),
)
def test_loss_matches_formula(
    fixed,
    loss_type: str,
    reference_free: bool,
    gamma: float,
    label_smoothing: float,
    sft_weight: float,
) -> None:
    table, ref = fixed
    options = {
        "temperature": 0.1,
        "beta": 2.0,
        "gamma": gamma,
        "label_smoothing": label_smoothing,
        "loss_type": loss_type,
        "sft_weight": sft_weight,
    }
    loss = RankPOLoss(TableModel(table), reference_free=reference_free, **options)
    value = loss(table_features(), torch.tensor(ref))
    s_c, s_r = scores_of(table)
    want, advantages = expected_loss(s_c, s_r, None if reference_free else ref, **options)
    assert value.item() == pytest.approx(want, rel=1e-9, abs=1e-12)
    # the data must exercise both sides of the sigmoid / hinge kink
    assert 0 < sum(a > 0 for a in advantages) < BATCH
    if loss_type == "hinge":
        active = [1 - options["beta"] * (a / 0.1 - gamma / 2.0) > 0 for a in advantages]
        assert 0 < sum(active) < BATCH
    stats = loss.last_stats
    assert stats["reward_accuracy"] == pytest.approx(sum(a > 0 for a in advantages) / BATCH)
    assert stats["margin"] == pytest.approx(sum(advantages) / BATCH, rel=1e-9)
    assert stats["chosen"] == pytest.approx(sum(s_c) / BATCH, rel=1e-9)
    assert stats["rejected"] == pytest.approx(sum(s_r) / BATCH, rel=1e-9)


def test_defaults_are_paper_stage_two_and_config_round_trips(fixed) -> None:
    table, _ = fixed
    loss = RankPOLoss(TableModel(table))
    assert loss.get_config_dict() == {
        "temperature": 0.1,
        "beta": 2.0,
        "gamma": 0.0,
        "label_smoothing": 0.0,
        "loss_type": "sigmoid",
        "reference_free": True,
        "sft_weight": 0.0,
    }
    assert "2503.10723" in loss.citation and "2305.18290" in loss.citation
    # reference-free ignores any labels; -logσ(20a) on the fixed scores
    s_c, s_r = scores_of(table)
    want = sum(neg_log_sigmoid(20 * (c - r)) for c, r in zip(s_c, s_r, strict=True)) / BATCH
    assert loss(table_features(), None).item() == pytest.approx(want, rel=1e-9)
    assert loss(table_features(), torch.zeros(BATCH, 2)).item() == pytest.approx(want, rel=1e-9)


def test_pure_function_matches_module_and_equal_scores_give_log_two() -> None:
    s = torch.tensor([0.3, -0.2, 0.9], dtype=torch.float64)
    loss, stats = rankpo_loss(s, s)
    assert loss.item() == pytest.approx(math.log(2))
    assert stats["reward_accuracy"] == 0.0 and stats["margin"] == 0.0
    assert stats["sft_loss"] == pytest.approx(math.log(2))
    # the reference advantage cancels the policy advantage exactly
    c = torch.tensor([0.8, 0.1], dtype=torch.float64)
    r = torch.tensor([0.2, 0.4], dtype=torch.float64)
    loss, stats = rankpo_loss(c, r, c - 1.0, r - 1.0, loss_type="hinge")
    assert loss.item() == pytest.approx(1.0) and stats["margin"] == pytest.approx(0.0)


def test_precomputed_reference_equals_online_reference(tiny_encoder) -> None:
    # lengths vary too, so the scores differ even where a tokenizer knows few of the words
    queries = ["senior nlp engineer berlin", "frontend developer paris", "security lead in london"]
    chosen = ["nlp researcher", "frontend team in paris with react", "security engineer london"]
    rejected = ["java backend in munich for a bank", "data", "spark sql developer remote"]
    reference = copy.deepcopy(tiny_encoder.model).eval()
    labels = reference_scores(reference, queries, chosen, rejected, batch_size=2)
    assert labels.shape == (3, 2) and labels.dtype == np.float32

    torch.manual_seed(0)
    policy = copy.deepcopy(reference).eval()
    with torch.no_grad():
        for parameter in policy.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))

    def features(model) -> list[dict[str, torch.Tensor]]:
        return [model.preprocess(column) for column in (queries, chosen, rejected)]

    precomputed = RankPOLoss(policy, reference_free=False)(features(policy), torch.tensor(labels))

    with torch.no_grad():  # what a trainer holding a frozen reference copy would compute
        q, c, r = (
            nn.functional.normalize(reference(f)["sentence_embedding"], dim=-1)
            for f in features(reference)
        )
        online_ref = torch.stack([(q * c).sum(-1), (q * r).sum(-1)], dim=1)
        q, c, r = (
            nn.functional.normalize(policy(f)["sentence_embedding"], dim=-1)
            for f in features(policy)
        )
    np.testing.assert_allclose(labels, online_ref.numpy(), atol=1e-6)
    online, _ = rankpo_loss((q * c).sum(-1), (q * r).sum(-1), *online_ref.unbind(dim=1))
    assert precomputed.item() == pytest.approx(online.item(), abs=1e-6)
    reference_free, _ = rankpo_loss((q * c).sum(-1), (q * r).sum(-1))
    assert abs(reference_free.item() - online.item()) > 1e-3  # the reference term mattered


@pytest.mark.parametrize("reference_free", [True, False])
@pytest.mark.parametrize(
    "options",
    [
        {"loss_type": "sigmoid"},
        {"loss_type": "sigmoid", "gamma": 0.5, "sft_weight": 0.5},
        # τ=1, β=0.4: 1 − βz > 0 for every cosine advantage, so every hinge term is active
        {"loss_type": "hinge", "temperature": 1.0, "beta": 0.4},
    ],
)
def test_one_step_raises_every_chosen_minus_rejected(
    fixed, options: dict, reference_free: bool
) -> None:
    table, ref = fixed
    model = TableModel(table)
    loss = RankPOLoss(model, reference_free=reference_free, **options)
    before = np.subtract(*scores_of(table))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss(table_features(), torch.tensor(ref)).backward()
    optimizer.step()
    after = np.subtract(*scores_of(model.table.detach().numpy()))
    assert (after > before).all(), after - before
    assert (after - before).min() > 1e-6


def test_label_smoothing_stops_pushing_past_its_optimum(fixed) -> None:
    # −(1−ε)·logσ(x) − ε·logσ(−x) is smallest at x* = log((1−ε)/ε): conservative DPO pulls
    # pairs that are already further apart than x* back instead of pushing them further
    table, _ = fixed
    model = TableModel(table)
    loss = RankPOLoss(model, label_smoothing=0.1)
    before = np.subtract(*scores_of(table))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss(table_features(), None).backward()
    optimizer.step()
    after = np.subtract(*scores_of(model.table.detach().numpy()))
    optimum = math.log(0.9 / 0.1)
    beyond = 2.0 * before / 0.1 > optimum
    assert 0 < beyond.sum() < BATCH
    np.testing.assert_array_equal(after < before, beyond)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"temperature": 0.0}, r"temperature must be > 0, got 0.0"),
        ({"temperature": -1.0}, r"temperature must be > 0, got -1.0"),
        ({"beta": 0.0}, r"beta must be > 0, got 0.0"),
        ({"label_smoothing": 0.5}, r"label_smoothing must be in \[0, 0.5\), got 0.5"),
        ({"label_smoothing": -0.1}, r"label_smoothing must be in \[0, 0.5\), got -0.1"),
        ({"loss_type": "ipo"}, r"loss_type must be one of \['sigmoid', 'hinge'\], got 'ipo'"),
        ({"sft_weight": -0.5}, r"sft_weight must be >= 0, got -0.5"),
    ],
)
def test_bad_hyperparameters_are_rejected(fixed, bad: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RankPOLoss(TableModel(fixed[0]), **bad)
    with pytest.raises(ValueError, match=message):
        rankpo_loss(torch.zeros(2), torch.zeros(2), **bad)


def test_bad_inputs_are_rejected(fixed) -> None:
    table, _ = fixed
    loss = RankPOLoss(TableModel(table), reference_free=False)
    with pytest.raises(ValueError, match=r"needs reference scores: add a 'label' column"):
        loss(table_features(), None)
    with pytest.raises(ValueError, match=r"labels of shape \(6, 2\).*got \(6,\)"):
        loss(table_features(), torch.zeros(BATCH))
    with pytest.raises(ValueError, match=r"expects 3 input columns .* got 2"):
        loss(table_features()[:2], torch.zeros(BATCH, 2))
    with pytest.raises(ValueError, match=r"both ref_chosen and ref_rejected, or neither"):
        rankpo_loss(torch.zeros(2), torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match=r"equal lengths, got 2, 1 and 2"):
        reference_scores(None, ["a", "b"], ["c"], ["d", "e"])  # type: ignore[arg-type]


class RecordingLoss(RankPOLoss):
    """Keeps the labels each batch brought, to check what the data collator made of the column."""

    def forward(self, sentence_features, labels):
        self.seen = labels
        return super().forward(sentence_features, labels)


TRIPLETS = {
    "query": [
        "senior nlp engineer berlin",
        "frontend developer paris",
        "security lead london",
        "data scientist munich",
        "remote cloud backend",
        "junior python developer",
    ],
    "chosen": [
        "nlp researcher in berlin",
        "frontend team in paris",
        "security engineer london",
        "machine learning data munich",
        "cloud kubernetes docker remote",
        "python intern",
    ],
    "rejected": [
        "java backend munich",
        "security lead london",
        "frontend developer paris",
        "rust systems new york",
        "vision researcher paris",
        "principal staff scientist",
    ],
}


@pytest.mark.parametrize("reference_free", [False, True])
def test_trainer_step_changes_parameters(
    tmp_path: Path, tiny_model_dir: Path, reference_free: bool
) -> None:
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )

    model = load_encoder(str(tiny_model_dir)).model
    columns: dict[str, list] = dict(TRIPLETS)
    if not reference_free:
        ref = reference_scores(model, TRIPLETS["query"], TRIPLETS["chosen"], TRIPLETS["rejected"])
        columns["label"] = ref.tolist()
    before = copy.deepcopy(model.state_dict())
    loss = RecordingLoss(model, reference_free=reference_free, sft_weight=0.5)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=1,
        per_device_train_batch_size=BATCH,
        learning_rate=1e-3,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=False,
        logging_steps=1,
        seed=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=Dataset.from_dict(columns), loss=loss
    )
    trainer.train()

    assert trainer.state.global_step == 1
    if reference_free:
        assert loss.seen is None
    else:  # the collator turned the "label" column of [ref_c, ref_r] lists into labels [6, 2]
        assert loss.seen.shape == (BATCH, 2) and loss.seen.dtype == torch.float32
        seen = loss.seen.numpy()  # rows arrive shuffled: compare them as sorted rows
        np.testing.assert_allclose(seen[np.lexsort(seen.T)], ref[np.lexsort(ref.T)], atol=1e-7)
    stats = loss.last_stats
    assert stats["reward_accuracy"] * BATCH == pytest.approx(round(stats["reward_accuracy"] * 6))
    logged = trainer.state.log_history[0]["loss"]
    want = stats["preference_loss"] + 0.5 * stats["sft_loss"]
    assert math.isfinite(logged) and logged == pytest.approx(want, abs=1e-4)

    after = model.state_dict()
    unchanged = [
        name
        for name, tensor in before.items()
        if tensor.dtype.is_floating_point and torch.equal(tensor, after[name])
    ]
    # BERT's pooler is not part of a mean-pooled sentence embedding, so it gets no gradient.
    assert unchanged and all("pooler" in name for name in unchanged), unchanged
