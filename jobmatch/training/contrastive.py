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
from typing import Any

from jobmatch.encoder import load_encoder
from jobmatch.training.config import ContrastiveConfig
from jobmatch.training.evaluators import RankingEvaluator, primary_metric
from jobmatch.training.result import TrainResult


def train_contrastive(
    config: ContrastiveConfig,
    examples: dict[str, list[str]],
    evaluator: RankingEvaluator | None = None,
) -> TrainResult:
    """Fine-tune on (anchor, positive, negative_i...) columns; save the best model to `out`.

    A `ContrastiveHeadConfig` trains a linear head on the frozen model instead
    (`jobmatch.training.contrastive_head`).
    """
    if config.mode == "head":
        from jobmatch.training.contrastive_head import train_contrastive_head

        return train_contrastive_head(config, examples, evaluator)
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
    args = SentenceTransformerTrainingArguments(
        **best_checkpoint_arguments(config, evaluator, batch_size=config.batch_size),
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        **config.extra_args,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=dataset, loss=loss, evaluator=evaluator
    )
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=config.resume or None)
    seconds = time.perf_counter() - started
    model.save(str(config.out))
    metric = primary_metric(evaluator) if evaluator else None
    history = [entry for entry in trainer.state.log_history if metric is None or metric in entry]
    return TrainResult(
        out=config.out,
        examples=round(len(dataset) * config.epochs),
        steps=trainer.state.global_step,
        seconds=seconds,
        best_metric=trainer.state.best_metric,
        history=history,
    )


def best_checkpoint_arguments(config: Any, evaluator: Any, *, batch_size: int) -> dict[str, Any]:
    """Trainer arguments stage 1 and the reranker share: evaluate and save together (every
    `eval_steps`, else every epoch), keep two checkpoints and load the best by the
    evaluator's primary metric at the end."""
    strategy = "steps" if config.eval_steps else "epoch"
    return {
        "output_dir": str(config.out / "checkpoints"),
        "num_train_epochs": config.epochs,
        "per_device_train_batch_size": batch_size,
        "learning_rate": config.lr,
        "warmup_steps": config.warmup_ratio,  # a float is a share of steps in transformers 5
        "dataloader_pin_memory": has_accelerator(),
        "eval_strategy": strategy if evaluator else "no",
        "eval_steps": config.eval_steps,
        "save_strategy": strategy,
        "save_steps": config.eval_steps,
        "save_total_limit": 2,
        "load_best_model_at_end": evaluator is not None,
        "metric_for_best_model": primary_metric(evaluator) if evaluator else None,
        "greater_is_better": True,
        "logging_steps": config.logging_steps,
        "report_to": "none",
        "seed": config.seed,
        "disable_tqdm": not config.progress,
        "dataloader_drop_last": False,
    }


def has_accelerator() -> bool:
    """Pinned memory only helps when batches go to a GPU."""
    import torch

    return torch.cuda.is_available()
