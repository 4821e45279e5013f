"""Training settings: one dataclass per trainer (stage 1, pair regression, each stage-2 mode).

Each hyperparameter is written once, here: a field's default is the library's and the CLI's,
and its `help` metadata is the option's help (as TRL's configs do). Light to import, so the
CLI builds its options from these fields without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

Mode = Literal["full", "head"]
RetentionLoss = Literal["contrastive", "preference"]


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class ContrastiveConfig:
    """Stage 1: InfoNCE with in-batch and hard negatives (`jobmatch train contrastive`)."""

    out: Path = field(metadata=_help("Folder the best model is saved to (checkpoints below it)."))
    model: str | None = field(
        default=None, metadata=_help("Starting model id or folder (default: bundled MiniLM).")
    )
    epochs: float = field(default=1.0, metadata=_help("Passes over the training examples."))
    batch_size: int = field(
        default=32, metadata=_help("Examples per step; each one's in-batch negatives.")
    )
    lr: float = field(default=2e-5, metadata=_help("Learning rate."))
    temperature: float = field(
        default=0.02, metadata=_help("InfoNCE temperature; loss scale = 1/temperature.")
    )
    negatives: int = field(
        default=5, metadata=_help("Hard negatives per example, besides in-batch negatives.")
    )
    max_positives: int = field(
        default=4, metadata=_help("Examples per training job (one per positive, at most).")
    )
    max_seq_length: int | None = field(default=128, metadata=_help("Tokens per text."))
    cached: bool = field(
        default=False,
        metadata=_help("GradCache loss: large batches in small memory (CachedMNRL)."),
    )
    mini_batch_size: int = field(default=16, metadata=_help("Mini-batch of the cached loss."))
    warmup_ratio: float = 0.1
    eval_steps: int | None = field(
        default=None, metadata=_help("Evaluate/save every N steps (default: every epoch).")
    )
    resume: bool = field(
        default=False, metadata=_help("Continue from the last checkpoint in --out.")
    )
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

    mode: ClassVar[Mode] = "full"


@dataclass
class ContrastiveHeadConfig(ContrastiveConfig):
    """Stage 1 as a linear head on the frozen starting model (`--mode head`): each text is
    encoded once and an epoch is matrix products, so a team's few hundred labelled jobs adapt
    the model in minutes on a CPU. The full fine-tune's GradCache, warm-up, step-wise
    evaluation and resume settings do not apply: the head evaluates every epoch and keeps the
    best. Defaults from a sweep on category labels (benchmarks/FINDINGS.md, adapt): many
    positives per job and many cheap epochs pay; the full fine-tune's temperature does too."""

    epochs: float = field(default=60.0, metadata=_help("Passes over the training examples."))
    batch_size: int = field(
        default=128, metadata=_help("Examples per step; each one's in-batch negatives.")
    )
    lr: float = field(default=1e-3, metadata=_help("Learning rate."))
    max_positives: int = field(
        default=64, metadata=_help("Examples per training job (one per positive, at most).")
    )
    max_seq_length: int | None = field(
        default=None,
        metadata=_help("Tokens per text (default: the model's own, as the index encodes)."),
    )

    mode: ClassVar[Mode] = "head"


CONTRASTIVE_CONFIGS: dict[Mode, type[ContrastiveConfig]] = {
    "full": ContrastiveConfig,
    "head": ContrastiveHeadConfig,
}


@dataclass
class PairsConfig:
    """Pair regression on (resume, jd, label) rows (`jobmatch train pairs`)."""

    out: Path = field(metadata=_help("Folder the best model is saved to."))
    model: str | None = field(
        default=None, metadata=_help("Starting model id or folder (default: bundled MiniLM).")
    )
    epochs: float = field(
        default=10.0, metadata=_help("Upper bound; early stopping usually ends sooner.")
    )
    batch_size: int = field(default=16, metadata=_help("Pairs per step."))
    lr: float = field(default=2e-5, metadata=_help("Learning rate."))
    validation_share: float = field(
        default=0.1, metadata=_help("Share of pairs held out for the validation loss.")
    )
    patience: int = field(
        default=2,
        metadata=_help("Evaluations without a better validation loss before stopping."),
    )
    eval_steps: int | None = None
    max_seq_length: int | None = 256
    warmup_ratio: float = 0.1
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.validation_share < 1:
            raise ValueError(f"validation_share must be in (0, 1), got {self.validation_share}")
        if self.patience < 1:
            raise ValueError(f"patience must be >= 1, got {self.patience}")


RerankerLoss = Literal["bce", "lambda"]
RERANKER_LOSSES: tuple[RerankerLoss, ...] = ("bce", "lambda")


@dataclass
class RerankerConfig:
    """A cross-encoder reranker on graded rule labels, with hard negatives mined by the
    current retriever (`jobmatch train reranker`). Negatives are sampled from the retriever
    ranks the reranker will see at query time, so the mining range defaults to the evaluator's
    rerank depth. Of the library's listwise losses LambdaLoss is the one it documents as the
    strongest (ListNet takes the same input and does worse), so it is the one to compare."""

    out: Path = field(metadata=_help("Folder the best model is saved to (checkpoints below it)."))
    model: str | None = field(
        default=None,
        metadata=_help(
            "Starting cross-encoder id or folder; a bi-encoder gets a fresh score head "
            "(default: the bundled MiniLM weights with a fresh head, offline)."
        ),
    )
    loss: RerankerLoss = field(
        default="bce",
        metadata=_help(
            "bce: each (job, candidate) pair against relevance/3, mined negatives 0. lambda: "
            "LambdaLoss (NDCG-Loss2++) over each job's list of graded candidates."
        ),
    )
    epochs: float = field(default=1.0, metadata=_help("Passes over the training jobs."))
    batch_size: int = field(
        default=16,
        metadata=_help("(job, candidate) pairs per step; a lambda step takes as many whole jobs."),
    )
    lr: float = field(default=2e-5, metadata=_help("Learning rate."))
    negatives: int = field(
        default=8, metadata=_help("Hard negatives per training job, mined by the retriever.")
    )
    max_positives: int = field(
        default=8, metadata=_help("Judged positives per training job (a seeded sample).")
    )
    mining_range: tuple[int, int] = field(
        default=(0, 50),
        metadata=_help("Retriever ranks (0-based, end exclusive) negatives are sampled from."),
    )
    max_length: int | None = field(
        default=256, metadata=_help("Tokens per (job, candidate) pair, both texts together.")
    )
    warmup_ratio: float = 0.1
    eval_depth: int = field(
        default=50, metadata=_help("Retriever candidates per held-out job the evaluator reranks.")
    )
    eval_steps: int | None = field(
        default=None, metadata=_help("Evaluate/save every N steps (default: every epoch).")
    )
    resume: bool = field(
        default=False, metadata=_help("Continue from the last checkpoint in --out.")
    )
    seed: int = 0
    progress: bool = True
    logging_steps: int = 10

    def __post_init__(self) -> None:
        if self.loss not in RERANKER_LOSSES:
            raise ValueError(f"loss must be one of {RERANKER_LOSSES}, got {self.loss!r}")
        for name in ("epochs", "lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("batch_size", "negatives", "max_positives", "eval_depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        start, end = self.mining_range
        if not 0 <= start < end:
            raise ValueError(f"mining_range needs 0 <= start < end, got {start}-{end}")
        if self.negatives > end - start:
            raise ValueError(
                f"negatives must be at most the {end - start} ranks of mining_range, "
                f"got {self.negatives}"
            )


@dataclass
class Stage2Config:
    """What both stage-2 modes share: where to write, the stage-1 model, the RankPO loss
    (paper stage-2 defaults) and the retention weight. Each field's help is the CLI's."""

    out: Path = field(metadata=_help("Folder the trained model is saved to."))
    model: str = field(metadata=_help("The stage-1 model: starting point and reference."))
    beta: float = field(default=2.0, metadata=_help("RankPO beta (paper: 2)."))
    temperature: float = field(default=0.1, metadata=_help("RankPO score temperature tau."))
    gamma: float = field(default=0.0, metadata=_help("RankPO margin gamma."))
    reference_free: bool = field(
        default=True,
        metadata=_help("Drop the frozen stage-1 reference term from the advantage."),
    )
    sft_weight: float = field(
        default=0.0, metadata=_help("Weight of the SFT term (chosen over rejected, CE).")
    )
    max_seq_length: int | None = 128
    eval_steps: int | None = None
    seed: int = 0
    progress: bool = True

    mode: ClassVar[Mode]
    retention_loss: ClassVar[RetentionLoss]
    """How retention rows are scored: stage 1's InfoNCE over the batch (`contrastive`) or as
    the rules' own preferences, positive over negative, through the RankPO loss
    (`preference`). Fixed per mode: in the benchmark the two were within noise of each other
    on full fine-tunes, and the head met the goal with `preference`."""

    def __post_init__(self) -> None:
        for name in ("epochs", "lr", "beta", "temperature"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be at least 2, got {self.batch_size}")
        if self.retention_weight < 0 or self.sft_weight < 0:
            raise ValueError("retention_weight and sft_weight must be >= 0")


@dataclass
class FullConfig(Stage2Config):
    """Stage 2 as a full fine-tune of the stage-1 model (sentence-transformers Trainer)."""

    epochs: float = field(default=1.0, metadata=_help("Passes over the preference pairs."))
    batch_size: int = field(
        default=16, metadata=_help("Preference rows per step (as many retention rows follow).")
    )
    lr: float = field(
        default=5e-5,
        metadata=_help("Learning rate (a head wants a larger one than a full fine-tune)."),
    )
    """With retention, 5e-5 kept 104% of stage-1 nDCG@20 where plain RankPO kept 82%
    (benchmarks/results/rankpo_sweep.json)."""
    retention_weight: float = field(
        default=1.0,
        metadata=_help("Weight of interleaved stage-1 retention batches; 0 = plain RankPO."),
    )

    mode: ClassVar[Mode] = "full"
    retention_loss: ClassVar[RetentionLoss] = "contrastive"


@dataclass
class HeadConfig(Stage2Config):
    """Stage 2 as a linear head on the frozen stage-1 embeddings, encoded once: cheap enough
    for tens of thousands of judged pairs on a CPU. The defaults are the sweep's goal points;
    a head wants a larger learning rate than a full fine-tune (3e-4 to 3e-3 did about equally
    well)."""

    epochs: float = field(default=5.0, metadata=_help("Passes over the preference pairs."))
    batch_size: int = field(
        default=64, metadata=_help("Preference rows per step (as many retention rows follow).")
    )
    lr: float = field(
        default=1e-3,
        metadata=_help("Learning rate (a head wants a larger one than a full fine-tune)."),
    )
    retention_weight: float = field(
        default=2.0,
        metadata=_help("Weight of the rules' preferences beside the judge's; 0 = plain RankPO."),
    )

    mode: ClassVar[Mode] = "head"
    retention_loss: ClassVar[RetentionLoss] = "preference"


CONFIGS: dict[Mode, type[FullConfig] | type[HeadConfig]] = {"full": FullConfig, "head": HeadConfig}
