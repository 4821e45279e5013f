"""Pair regression, the Korean resume–JD matcher's recipe that jobmatch grows from.

Pairs (resume, jd, label in [0, 1]) train the bi-encoder so that (cos + 1) / 2 of the two
mean-pooled embeddings regresses the label under an MSE loss (CosineSimilarityLoss with a
rescaling of the cosine). A seeded share of pairs is held out; the validation loss is
evaluated every epoch (or every `eval_steps`), training stops early when it stops improving,
and the best checkpoint is kept.

`train_pairs_cross_encoder` fits the same pairs with a cross-encoder (`jobmatch train pairs
--cross-encoder`): BCE of the pair's logit against the label, early stopping on the
validation BCE, and the validation MSE of sigmoid(score) against the label reported at every
evaluation and as the result, the figure the bi-encoder's validation loss is.
"""

from __future__ import annotations

import time
from typing import Any

import polars as pl
import torch

from jobmatch.encoder import load_encoder
from jobmatch.training.config import PairsConfig
from jobmatch.training.contrastive import has_accelerator
from jobmatch.training.evaluators import PairMSEEvaluator
from jobmatch.training.reranker import load_cross_encoder
from jobmatch.training.result import TrainResult

RESUME, JD, LABEL = "resume", "jd", "label"


class UnitInterval(torch.nn.Module):
    """Maps cosine similarity from [-1, 1] to [0, 1], the scale of the labels."""

    def forward(self, cosine: torch.Tensor) -> torch.Tensor:
        return (cosine + 1.0) / 2.0


def split_pairs(pairs: pl.DataFrame, share: float, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, validation) with at least one validation pair."""
    shuffled = pairs.sample(fraction=1.0, shuffle=True, seed=seed)
    size = max(1, round(pairs.height * share))
    if size >= pairs.height:
        raise ValueError(f"need more than {size} pairs to hold out {size} for validation")
    return shuffled.slice(size), shuffled.head(size)


def train_pairs(config: PairsConfig, pairs: pl.DataFrame) -> TrainResult:
    """Fit (cos + 1) / 2 to the labels with MSE; early stopping on validation loss."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer import losses
    from transformers import EarlyStoppingCallback

    encoder = load_encoder(config.model)
    model = encoder.model
    if config.max_seq_length:
        model.max_seq_length = config.max_seq_length
    train, validation = split_pairs(
        pairs.select(RESUME, JD, LABEL), config.validation_share, config.seed
    )
    loss = losses.CosineSimilarityLoss(model, cos_score_transformation=UnitInterval())
    args = SentenceTransformerTrainingArguments(**early_stopping_arguments(config))
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict(train.to_dict(as_series=False)),
        eval_dataset=Dataset.from_dict(validation.to_dict(as_series=False)),
        loss=loss,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience)],
    )
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    model.save(str(config.out))
    return pairs_result(config, trainer, train.height, seconds, trainer.state.best_metric)


def train_pairs_cross_encoder(config: PairsConfig, pairs: pl.DataFrame) -> TrainResult:
    """Fit a cross-encoder's sigmoid(score) to the labels with BCE; early stopping on the
    validation BCE. `best_metric` is the validation MSE of the saved (best) model."""
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
        losses,
    )
    from transformers import EarlyStoppingCallback

    model = load_cross_encoder(config.model, max_length=config.max_seq_length, seed=config.seed)
    train, validation = split_pairs(
        pairs.select(RESUME, JD, LABEL), config.validation_share, config.seed
    )
    evaluator = PairMSEEvaluator(
        validation[RESUME].to_list(),
        validation[JD].to_list(),
        validation[LABEL].to_list(),
        batch_size=config.batch_size,
    )
    trainer = CrossEncoderTrainer(
        model=model,
        args=CrossEncoderTrainingArguments(**early_stopping_arguments(config)),
        train_dataset=Dataset.from_dict(train.to_dict(as_series=False)),
        eval_dataset=Dataset.from_dict(validation.to_dict(as_series=False)),
        loss=losses.BinaryCrossEntropyLoss(model),
        evaluator=evaluator,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience)],
    )
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    model.save(str(config.out))
    return pairs_result(config, trainer, train.height, seconds, evaluator.mse(model))


def early_stopping_arguments(config: PairsConfig) -> dict[str, Any]:
    """Trainer arguments both pair trainers share: evaluate and save together, keep the best
    checkpoint by validation loss and enough others for the patience window."""
    strategy = "steps" if config.eval_steps else "epoch"
    return {
        "output_dir": str(config.out / "checkpoints"),
        "num_train_epochs": config.epochs,
        "per_device_train_batch_size": config.batch_size,
        "per_device_eval_batch_size": config.batch_size,
        "learning_rate": config.lr,
        "warmup_steps": config.warmup_ratio,  # a float is a share of steps in transformers 5
        "dataloader_pin_memory": has_accelerator(),
        "eval_strategy": strategy,
        "eval_steps": config.eval_steps,
        "save_strategy": strategy,
        "save_steps": config.eval_steps,
        "save_total_limit": config.patience + 1,
        "load_best_model_at_end": True,
        "metric_for_best_model": "eval_loss",
        "greater_is_better": False,
        "report_to": "none",
        "seed": config.seed,
        "disable_tqdm": not config.progress,
    }


def pairs_result(
    config: PairsConfig, trainer: Any, train_pairs: int, seconds: float, best: float | None
) -> TrainResult:
    history = [entry for entry in trainer.state.log_history if "eval_loss" in entry]
    return TrainResult(
        out=config.out,
        examples=round(train_pairs * trainer.state.epoch) if trainer.state.epoch else 0,
        steps=trainer.state.global_step,
        seconds=seconds,
        best_metric=best,
        history=history,
    )
