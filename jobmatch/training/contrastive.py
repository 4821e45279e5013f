"""Stage 1: InfoNCE fine-tuning on rule-derived pairs with the sentence-transformers Trainer.

RankPO's stage 1 is InfoNCE at temperature 0.02 with in-batch negatives and one positive plus
five negatives per query; in sentence-transformers terms that is MultipleNegativesRankingLoss
with scale 1/τ over (anchor, positive, negative_1..5) columns, or its GradCache variant
(CachedMultipleNegativesRankingLoss) when a large batch must fit in small memory. Batches
never hold the same text twice (NO_DUPLICATES), so a job's other positives are not used as
its in-batch negatives. Held-out jobs are scored with graded nDCG@20 during training and the
best checkpoint is kept. Multi-GPU: run the same command under `torchrun --nproc_per_node N`
(the Trainer handles DDP); this path is not exercised on CPU-only machines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobmatch.encoder import load_encoder
from jobmatch.training.evaluator import RankingEvaluator


@dataclass
class ContrastiveConfig:
    """Stage-1 hyperparameters (CLI options of `jobmatch train contrastive`)."""

    out: Path
    """Output folder: the best model in sentence-transformers format, checkpoints below it."""
    model: str | None = None
    """Starting model id or folder (default: the bundled all-MiniLM-L6-v2)."""
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 2e-5
    temperature: float = 0.02
    """InfoNCE temperature τ; the loss scale is 1/τ."""
    negatives: int = 5
    """Explicit hard negatives per example (besides in-batch negatives)."""
    max_positives: int = 4
    """Examples per training job (one per positive)."""
    max_seq_length: int | None = 128
    cached: bool = False
    """GradCache (CachedMultipleNegativesRankingLoss): big batches in bounded memory."""
    mini_batch_size: int = 16
    """Mini-batch of the cached loss."""
    warmup_ratio: float = 0.1
    eval_steps: int | None = None
    """Evaluate and save every N steps (default: once per epoch)."""
    resume: bool = False
    """Continue from the last checkpoint in `out`."""
    seed: int = 0
    progress: bool = True
    logging_steps: int = 10
    extra_args: dict[str, Any] = field(default_factory=dict)
    """Further SentenceTransformerTrainingArguments fields."""

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.negatives < 0:
            raise ValueError(f"negatives must be >= 0, got {self.negatives}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2 for in-batch negatives")


@dataclass
class TrainResult:
    out: Path
    examples: int
    steps: int
    seconds: float
    best_metric: float | None
    history: list[dict[str, float]]

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds else 0.0


def train_contrastive(
    config: ContrastiveConfig,
    examples: dict[str, list[str]],
    evaluator: RankingEvaluator | None = None,
) -> TrainResult:
    """Fine-tune on (anchor, positive, negative_i...) columns; save the best model to `out`."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer import losses
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    if not examples.get("anchor"):
        raise ValueError("no training examples")
    encoder = load_encoder(config.model)
    model = encoder.model
    if config.max_seq_length:
        model.max_seq_length = config.max_seq_length
    scale = 1.0 / config.temperature
    if config.cached:
        loss = losses.CachedMultipleNegativesRankingLoss(
            model, scale=scale, mini_batch_size=config.mini_batch_size
        )
    else:
        loss = losses.MultipleNegativesRankingLoss(model, scale=scale)
    dataset = Dataset.from_dict(examples)
    strategy = "steps" if config.eval_steps else "epoch"
    metric = f"eval_{evaluator.name}_{evaluator.primary_metric}" if evaluator else None
    args = SentenceTransformerTrainingArguments(
        output_dir=str(config.out / "checkpoints"),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.lr,
        warmup_steps=config.warmup_ratio,  # a float is a share of steps in transformers 5
        dataloader_pin_memory=has_accelerator(),
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        eval_strategy=strategy if evaluator else "no",
        eval_steps=config.eval_steps,
        save_strategy=strategy,
        save_steps=config.eval_steps,
        save_total_limit=2,
        load_best_model_at_end=evaluator is not None,
        metric_for_best_model=metric,
        greater_is_better=True,
        logging_steps=config.logging_steps,
        report_to="none",
        seed=config.seed,
        disable_tqdm=not config.progress,
        dataloader_drop_last=False,
        **config.extra_args,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=dataset, loss=loss, evaluator=evaluator
    )
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=config.resume or None)
    seconds = time.perf_counter() - started
    model.save(str(config.out))
    history = [entry for entry in trainer.state.log_history if metric is None or metric in entry]
    return TrainResult(
        out=config.out,
        examples=round(len(dataset) * config.epochs),
        steps=trainer.state.global_step,
        seconds=seconds,
        best_metric=trainer.state.best_metric,
        history=history,
    )


def has_accelerator() -> bool:
    """Pinned memory only helps when batches go to a GPU."""
    import torch

    return torch.cuda.is_available()
