"""A linear head on a frozen encoder: every text encoded once, the head trained on the cache.

Both linear-head trainers (stage 1 `train contrastive --mode head`, stage 2 `train rankpo
--mode head`) share this: the frozen model's normalised embeddings of each distinct text,
held-out evaluators run on those cached embeddings through the head (so an evaluation is a
matrix product, not a pass of the encoder over the pool), and the saved model is the frozen
model with sentence-transformers' `Dense` (W, no bias, no activation) and `Normalize`
appended, which indexes and searches like any other model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

ENCODE_BATCH = 64


class FrozenEmbeddings:
    """Normalised embeddings of the frozen model, each distinct text encoded once."""

    def __init__(self, model: Any, *, progress: bool = False) -> None:
        self.model = model
        self.progress = progress
        self.rows: dict[str, int] = {}
        self.vectors = torch.zeros((0, model.get_embedding_dimension()))

    def add(self, texts: Sequence[str]) -> None:
        """Encode the texts not seen yet."""
        new = [t for t in dict.fromkeys(texts) if t not in self.rows]
        if not new:
            return
        encoded = self.model.encode(
            new,
            batch_size=ENCODE_BATCH,
            convert_to_tensor=True,
            normalize_embeddings=True,
            show_progress_bar=self.progress and len(new) > ENCODE_BATCH,
        ).cpu()
        start = len(self.rows)
        self.rows.update((text, start + i) for i, text in enumerate(new))
        self.vectors = torch.cat([self.vectors, encoded.float()])

    def index(self, column: Sequence[str]) -> torch.Tensor:
        """Row numbers of a column of (already added) texts."""
        return torch.tensor([self.rows[t] for t in column], dtype=torch.long)


class HeadEncoder:
    """What the held-out evaluators call as `model.encode`: cached embeddings through the head.

    Texts not in the cache are encoded by the frozen model once, on first use.
    """

    def __init__(self, cache: FrozenEmbeddings, head: torch.nn.Linear) -> None:
        self.cache = cache
        self.head = head
        self.model_card_data = cache.model.model_card_data

    def encode(
        self,
        texts: str | Sequence[str],
        *,
        normalize_embeddings: bool = True,
        convert_to_tensor: bool = False,
        **_: Any,
    ) -> np.ndarray | torch.Tensor:
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        self.cache.add(texts)
        with torch.no_grad():
            vectors = self.head(self.cache.vectors[self.cache.index(texts)])
            if normalize_embeddings:
                vectors = F.normalize(vectors, dim=-1)
        vectors = vectors[0] if single else vectors
        return vectors if convert_to_tensor else vectors.numpy()


def identity_head(dim: int) -> torch.nn.Linear:
    """W = I: the head starts as the frozen model."""
    head = torch.nn.Linear(dim, dim, bias=False)
    torch.nn.init.eye_(head.weight)
    return head


def cosine(
    vectors: torch.Tensor,
    queries: torch.Tensor,
    documents: torch.Tensor,
    head: torch.nn.Module | None = None,
) -> torch.Tensor:
    """cos(W q, W d) for each query row against each of its documents: [rows, documents]."""
    project = head if head is not None else torch.nn.Identity()
    q = F.normalize(project(vectors[queries]), dim=-1)
    d = F.normalize(project(vectors[documents]), dim=-1)
    return torch.einsum("rh,rdh->rd", q, d)


def run_evaluators(evaluators: Sequence[Any], encoder: HeadEncoder) -> dict[str, float]:
    """Every evaluator on the head, metric names prefixed `eval_` as the Trainer logs them."""
    metrics: dict[str, float] = {}
    for evaluator in evaluators:
        for name, value in evaluator(encoder).items():
            metrics[f"eval_{name}"] = float(np.asarray(value))
    return metrics


def append_linear_head(model: Any, weight: torch.Tensor) -> torch.nn.Linear:
    """Append Dense(weight: x -> Wx, no bias, no activation) and Normalize to `model`; return
    the Dense module's linear layer, whose weight is the head."""
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize

    dim = weight.shape[1]
    dense = Dense(
        dim,
        weight.shape[0],
        bias=False,
        activation_function=torch.nn.Identity(),
        init_weight=weight.detach().clone(),
    )
    device = next(model.parameters()).device
    model.append(dense.to(device))
    model.append(Normalize())
    return dense.linear


def save_with_head(model: Any, weight: torch.Tensor, out: Path) -> None:
    """Save the frozen model with the head appended (the in-memory model is left as it was)."""
    append_linear_head(model, weight)
    try:
        model.save(str(out))
    finally:
        del model[-1]  # Normalize
        del model[-1]  # Dense
