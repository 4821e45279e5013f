"""Stage 1 on a linear head: InfoNCE over in-batch and mined negatives, the encoder frozen.

A team with a few hundred labelled jobs cannot afford a full fine-tune on a CPU, and does not
need one: on a real corpus a linear map trained on frozen embeddings with the category labels
of 150 jobs took held-out nDCG@20 from 0.298 to 0.486 (issue 20). The loss is the full
fine-tune's (MultipleNegativesRankingLoss: each anchor against its positive, the batch's other
positives and every row's hard negatives, scale 1/temperature), on cached embeddings. Rows of
the same job are not each other's negatives (the full fine-tune's NO_DUPLICATES sampler keeps
them apart; here they are masked). Held-out jobs are scored every epoch and the best head is
saved (see `jobmatch.training.frozen`).
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F

from jobmatch.encoder import load_encoder
from jobmatch.training.config import ContrastiveHeadConfig
from jobmatch.training.evaluators import primary_metric
from jobmatch.training.frozen import (
    FrozenEmbeddings,
    HeadEncoder,
    identity_head,
    run_evaluators,
    save_with_head,
)
from jobmatch.training.result import TrainResult


def train_contrastive_head(
    config: ContrastiveHeadConfig,
    examples: dict[str, list[str]],
    evaluator: Any | None = None,
) -> TrainResult:
    """Train W on (anchor, positive, negative_i...) columns; save the best model to `out`."""
    from tqdm.auto import tqdm

    if not examples.get("anchor"):
        raise ValueError("no training examples")
    model = load_encoder(config.model).model
    if config.max_seq_length:
        model.max_seq_length = config.max_seq_length
    negative_columns = sorted(
        (c for c in examples if c.startswith("negative_")), key=lambda c: int(c.split("_")[1])
    )
    columns = ["anchor", "positive", *negative_columns]
    started = time.perf_counter()
    cache = FrozenEmbeddings(model, progress=config.progress)
    cache.add([text for column in columns for text in examples[column]])
    rows = torch.stack([cache.index(examples[column]) for column in columns], dim=1)
    head = identity_head(cache.vectors.shape[1])
    encoder = HeadEncoder(cache, head)

    history: list[dict[str, float]] = []
    best_metric, best_weight = None, head.weight.detach().clone()
    if evaluator is not None:  # epoch 0: the frozen model itself, the zero-shot baseline
        entry = {"step": 0, "epoch": 0.0, **run_evaluators([evaluator], encoder)}
        history.append(entry)
        best_metric = entry[primary_metric(evaluator)]

    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.Adam(head.parameters(), lr=config.lr)
    batch_size = min(config.batch_size, len(rows))
    batches = max(1, len(rows) // batch_size)
    total = max(1, round(batches * config.epochs))
    progress = tqdm(range(total), desc="head", disable=not config.progress)
    for step in progress:
        if step % batches == 0:
            order = torch.randperm(len(rows), generator=generator)
        batch = rows[order[(step % batches) * batch_size :][:batch_size]]
        loss = infonce_loss(head, cache.vectors, batch, temperature=config.temperature)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if (step + 1) % max(1, min(50, total // 10)) == 0 or step + 1 == total:
            history.append({"step": step + 1, "epoch": (step + 1) / batches, "loss": loss.item()})
            progress.set_postfix(loss=f"{loss.item():.4f}")
        if evaluator is not None and ((step + 1) % batches == 0 or step + 1 == total):
            entry = {"step": step + 1, "epoch": (step + 1) / batches}
            entry.update(run_evaluators([evaluator], encoder))
            history.append(entry)
            if entry[primary_metric(evaluator)] > best_metric:
                best_metric = entry[primary_metric(evaluator)]
                best_weight = head.weight.detach().clone()
    if evaluator is None:
        best_weight = head.weight.detach().clone()
    seconds = time.perf_counter() - started
    save_with_head(model, best_weight, config.out)
    return TrainResult(
        out=config.out,
        examples=total * batch_size,
        steps=total,
        seconds=seconds,
        best_metric=best_metric,
        history=history,
    )


def infonce_loss(
    head: torch.nn.Module, vectors: torch.Tensor, batch: torch.Tensor, *, temperature: float
) -> torch.Tensor:
    """MultipleNegativesRankingLoss on rows of text indices (anchor, positive, negative_i...).

    Each anchor scores against every row's positive and negatives; a document that is the
    anchor's own text, or the positive of any row with the same anchor (its own included,
    wherever else it appears in the batch), is masked: it is relevant, not a negative.
    """
    anchors, documents = batch[:, 0], batch[:, 1:].T.reshape(-1)  # positives first, then negs
    q = F.normalize(head(vectors[anchors]), dim=-1)
    d = F.normalize(head(vectors[documents]), dim=-1)
    logits = q @ d.T / temperature
    rows = len(batch)
    same_anchor = (anchors[:, None] == anchors[None, :]).float()
    is_positive = (documents[None, :] == documents[:rows, None]).float()  # [row, document]
    relevant = (same_anchor @ is_positive > 0) | (documents[None, :] == anchors[:, None])
    targets = torch.arange(rows)
    relevant[targets, targets] = False
    logits = logits.masked_fill(relevant, float("-inf"))
    return F.cross_entropy(logits, targets)
