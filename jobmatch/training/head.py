"""Stage 2 on a linear head: the stage-1 encoder frozen, its embeddings computed once.

What a judge knows beyond the rules (methods only the texts mention, a candidate's impact) is
already readable from stage-1 embeddings, but a bi-encoder learns to weigh it only from many
judged pairs: on the synthetic corpus full fine-tunes on up to 3,360 pairs levelled off,
while this head met the stage-2 goal in 2 of 5 runs on 87,635 pairs and in all 3 on 171,626
(benchmarks/results/rankpo_sweep.json), and a full fine-tune on 87,635 pairs takes about 15
hours an epoch on a 2-core CPU. A linear map W on the frozen embeddings, s(q, c) =
cos(Wq, Wc), starts as the identity (so as stage 1) and trains on cached embeddings: every
distinct text is encoded once, then an epoch over 170,000 pairs is about a minute of matrix
products. The saved model is the stage-1 model with sentence-transformers' `Dense` (W, no
bias, no activation) and `Normalize` appended, so it indexes and searches like any other
model. The losses are the full fine-tune's: RankPO on the preferences, and the retention
rows as the rules' own preferences through the same loss.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from jobmatch.losses.rankpo import rankpo_loss
from jobmatch.training.frozen import (
    FrozenEmbeddings,
    HeadEncoder,
    cosine,
    identity_head,
    run_evaluators,
    save_with_head,
)
from jobmatch.training.result import TrainResult


def train_linear_head(
    config: Any,
    preferences: dict[str, list[str]],
    *,
    retention: dict[str, list[str]] | None = None,
    evaluators: list[Any] = (),
) -> TrainResult:
    """Train W on cached stage-1 embeddings of the preference (and retention) rows; save the
    stage-1 model with the head appended to `config.out`. `evaluators` run on the head every
    epoch and at the end, as in the full fine-tune.

    `config` is a `HeadConfig`; its lr, epochs, batch size, loss and retention settings mean
    what they mean for the full fine-tune's `FullConfig`.
    """
    from tqdm.auto import tqdm

    from jobmatch.encoder import load_encoder

    model = load_encoder(config.model).model
    if config.max_seq_length:
        model.max_seq_length = config.max_seq_length
    columns = [preferences[key] for key in ("query", "chosen", "rejected")]
    use_retention = retention is not None and config.retention_weight > 0
    kept = list(retention.values()) if use_retention else []  # anchor, positive, negative_1..
    started = time.perf_counter()
    cache = FrozenEmbeddings(model, progress=config.progress)
    cache.add([text for column in [*columns, *kept] for text in column])
    embeddings = cache.vectors
    pairs = torch.stack([cache.index(column) for column in columns], dim=1)
    rules = torch.stack([cache.index(column) for column in kept], dim=1) if kept else None
    head = identity_head(embeddings.shape[1])
    encoder = HeadEncoder(cache, head)
    reference = None
    if not config.reference_free:  # exact: stage 1's scores are the identity head's
        reference = cosine(embeddings, pairs[:, 0], pairs[:, 1:])

    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.Adam(head.parameters(), lr=config.lr)
    batches = max(1, len(pairs) // config.batch_size)
    total = max(1, round(batches * config.epochs))
    history: list[dict[str, float]] = []
    progress = tqdm(range(total), desc="head", disable=not config.progress)
    for step in progress:
        if step % batches == 0:
            order = torch.randperm(len(pairs), generator=generator)
        rows = order[(step % batches) * config.batch_size :][: config.batch_size]
        loss, stats = _preference_loss(
            head, embeddings, pairs[rows], None if reference is None else reference[rows], config
        )
        if rules is not None:
            picks = torch.randint(len(rules), (config.batch_size,), generator=generator)
            loss = loss + config.retention_weight * _retention_loss(
                head, embeddings, rules[picks], config
            )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if (step + 1) % max(1, min(50, total // 10)) == 0 or step + 1 == total:
            entry = {"step": step + 1, "epoch": (step + 1) / batches, "loss": loss.item()}
            entry.update(rankpo_reward_accuracy=stats["reward_accuracy"])
            history.append(entry)
            progress.set_postfix(loss=f"{entry['loss']:.4f}")
        if evaluators and ((step + 1) % batches == 0 or step + 1 == total):
            entry = {"step": step + 1, "epoch": (step + 1) / batches}
            entry.update(run_evaluators(evaluators, encoder))  # as the Trainer: every epoch
            history.append(entry)
    seconds = time.perf_counter() - started
    save_with_head(model, head.weight.detach(), config.out)
    return TrainResult(
        out=config.out,
        examples=total * config.batch_size,
        steps=total,
        seconds=seconds,
        best_metric=None,
        history=history,
    )


def _preference_loss(
    head: torch.nn.Linear,
    embeddings: torch.Tensor,
    batch: torch.Tensor,
    ref: torch.Tensor | None,
    config: Any,
) -> tuple[torch.Tensor, dict[str, float]]:
    """RankPO on a batch of (query, chosen, rejected) rows, with stage 1's scores if referenced."""
    scores = cosine(embeddings, batch[:, 0], batch[:, 1:], head)
    return rankpo_loss(
        scores[:, 0],
        scores[:, 1],
        None if ref is None else ref[:, 0],
        None if ref is None else ref[:, 1],
        temperature=config.temperature,
        beta=config.beta,
        gamma=config.gamma,
        sft_weight=config.sft_weight,
    )


def _retention_loss(
    head: torch.nn.Linear, embeddings: torch.Tensor, rows: torch.Tensor, config: Any
) -> torch.Tensor:
    """The rules' rows (anchor, positive, negative) as preferences through RankPO."""
    scores = cosine(embeddings, rows[:, 0], rows[:, 1:], head)
    loss, _ = rankpo_loss(
        scores[:, 0], scores[:, 1], temperature=config.temperature, beta=config.beta
    )
    return loss
