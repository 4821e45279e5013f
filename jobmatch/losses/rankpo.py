"""RankPO (arXiv 2503.10723): DPO-style preference optimisation of a bi-encoder's cosine scores.

Stage 2 of jobmatch's training. The reference model's scores are precomputed once with
:func:`reference_scores` and carried in the dataset's ``label`` column, so no frozen copy of the
model sits in memory or runs during training.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

LossType = Literal["sigmoid", "hinge"]
LOSS_TYPES: tuple[str, ...] = ("sigmoid", "hinge")


def _validate(
    *,
    temperature: float,
    beta: float,
    label_smoothing: float,
    loss_type: str,
    sft_weight: float,
) -> None:
    """Reject hyperparameters that make the loss meaningless, naming the valid values."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    if not 0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {list(LOSS_TYPES)}, got {loss_type!r}")
    if not sft_weight >= 0:
        raise ValueError(f"sft_weight must be >= 0, got {sft_weight}")


def rankpo_loss(
    s_chosen: Tensor,
    s_rejected: Tensor,
    ref_chosen: Tensor | None = None,
    ref_rejected: Tensor | None = None,
    *,
    temperature: float = 0.1,
    beta: float = 2.0,
    gamma: float = 0.0,
    label_smoothing: float = 0.0,
    loss_type: LossType = "sigmoid",
    sft_weight: float = 0.0,
) -> tuple[Tensor, dict[str, float]]:
    """The RankPO loss of a batch of scores, kept free of models so it can be tested on numbers.

    Args:
        s_chosen: Policy scores s(query, chosen), shape [batch].
        s_rejected: Policy scores s(query, rejected), shape [batch].
        ref_chosen: Reference scores of the chosen texts, or None (with ``ref_rejected``) for the
            reference-free loss.
        ref_rejected: Reference scores of the rejected texts, or None.
        temperature: τ; the advantage is divided by it.
        beta: β; scales the logit inside the sigmoid or hinge.
        gamma: γ; target reward margin, enters as z = a/τ − γ/β.
        label_smoothing: ε; share of the conservative (flipped-label) term. Sigmoid only.
        loss_type: "sigmoid" (DPO) or "hinge" (SLiC-style).
        sft_weight: Weight of cross-entropy over [s_chosen, s_rejected]/τ with target 0.

    Returns:
        The mean loss (scalar, differentiable) and detached statistics: ``reward_accuracy``
        (share of a > 0), ``margin`` (mean a), ``chosen``/``rejected`` (mean policy scores),
        ``preference_loss`` and ``sft_loss`` (the two unweighted terms).
    """
    _validate(
        temperature=temperature,
        beta=beta,
        label_smoothing=label_smoothing,
        loss_type=loss_type,
        sft_weight=sft_weight,
    )
    if s_chosen.shape != s_rejected.shape or s_chosen.dim() != 1:
        raise ValueError(
            f"s_chosen and s_rejected must both have shape [batch], got "
            f"{tuple(s_chosen.shape)} and {tuple(s_rejected.shape)}"
        )
    if (ref_chosen is None) != (ref_rejected is None):
        raise ValueError("give both ref_chosen and ref_rejected, or neither (reference-free)")

    advantage = s_chosen - s_rejected
    if ref_chosen is not None and ref_rejected is not None:
        ref_chosen = ref_chosen.to(advantage)
        ref_rejected = ref_rejected.to(advantage)
        if ref_chosen.shape != advantage.shape or ref_rejected.shape != advantage.shape:
            raise ValueError(
                f"reference scores must have shape {tuple(advantage.shape)}, got "
                f"{tuple(ref_chosen.shape)} and {tuple(ref_rejected.shape)}"
            )
        advantage = advantage - (ref_chosen - ref_rejected)
    logits = beta * (advantage / temperature - gamma / beta)
    if loss_type == "sigmoid":
        eps = label_smoothing
        losses = -(1 - eps) * F.logsigmoid(logits) - eps * F.logsigmoid(-logits)
    else:
        losses = F.relu(1 - logits)
    preference = losses.mean()
    # cross_entropy([s_c, s_r]/τ, target 0) == softplus((s_r − s_c)/τ)
    sft = F.softplus((s_rejected - s_chosen) / temperature).mean()
    loss = preference + sft_weight * sft if sft_weight > 0 else preference

    with torch.no_grad():
        values = torch.stack(
            [
                (advantage > 0).to(advantage.dtype).mean(),
                advantage.mean(),
                s_chosen.mean(),
                s_rejected.mean(),
                preference,
                sft,
            ]
        ).tolist()  # one device sync for all statistics
    names = ("reward_accuracy", "margin", "chosen", "rejected", "preference_loss", "sft_loss")
    return loss, dict(zip(names, values, strict=True))


class RankPOLoss(nn.Module):
    def __init__(
        self,
        model: SentenceTransformer,
        *,
        temperature: float = 0.1,
        beta: float = 2.0,
        gamma: float = 0.0,
        label_smoothing: float = 0.0,
        loss_type: LossType = "sigmoid",
        reference_free: bool = True,
        sft_weight: float = 0.0,
    ) -> None:
        """Rank Preference Optimisation: DPO applied to a bi-encoder's query–passage scores.

        For each (query, chosen, rejected) triplet the scores s_c = cos(q, c) and s_r = cos(q, r)
        give the advantage ``a = (s_c − s_r) − (s_c_ref − s_r_ref)`` (the reference term is
        dropped when ``reference_free``) and ``z = a/τ − γ/β``. The "sigmoid" loss is
        ``−(1−ε)·logσ(βz) − ε·logσ(−βz)``, the "hinge" loss ``relu(1 − βz)``; an optional SFT
        term ``sft_weight · CE([s_c, s_r]/τ, 0)`` is added to the batch mean. The defaults are the
        paper's stage 2. Statistics of the last batch (reward accuracy, mean margin, ...) are kept
        in ``last_stats`` so a trainer callback can log them.

        Args:
            model: SentenceTransformer model being trained.
            temperature: τ > 0. The advantage is divided by it, as cosine differences are small.
            beta: β > 0. Sharpness of the preference loss.
            gamma: γ. Target margin; z = a/τ − γ/β, so the loss wants a/τ ≥ γ/β.
            label_smoothing: ε in [0, 0.5). Assumed share of flipped preference labels
                (conservative DPO); ignored by the hinge loss.
            loss_type: "sigmoid" or "hinge".
            reference_free: If True, ignore reference scores (paper default). If False, every
                batch needs labels [batch, 2] = (s_chosen_ref, s_rejected_ref).
            sft_weight: ≥ 0. Weight of the contrastive cross-entropy that keeps chosen above
                rejected in absolute terms, which limits forgetting of stage 1.

        References:
            - RankPO: Preference Optimization for Job-Talent Matching, https://arxiv.org/abs/2503.10723
            - Direct Preference Optimization, https://arxiv.org/abs/2305.18290

        Requirements:
            1. (query, chosen, rejected) triplets, in this column order.
            2. Unless ``reference_free``: a ``label`` column of [s_chosen_ref, s_rejected_ref]
               lists, computed once with :func:`reference_scores` from the frozen start model.

        Inputs:
            +-----------------------------------+-------------------------------------------+
            | Inputs                            | Labels                                    |
            +===================================+===========================================+
            | (query, chosen, rejected) triplets| none (reference-free)                     |
            +-----------------------------------+-------------------------------------------+
            | (query, chosen, rejected) triplets| [s_chosen_ref, s_rejected_ref] per row    |
            +-----------------------------------+-------------------------------------------+

        Example:
            ::

                from datasets import Dataset
                from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer

                from jobmatch.losses import RankPOLoss, reference_scores

                model = SentenceTransformer("stage1-model")
                columns = {
                    "query": ["nlp engineer, berlin", "frontend lead, paris"],
                    "chosen": ["nlp researcher in berlin", "react developer in paris"],
                    "rejected": ["java backend in london", "nlp researcher in berlin"],
                }
                # precomputed once; the sentence-transformers collator turns "label" into labels
                columns["label"] = reference_scores(model, *columns.values()).tolist()
                loss = RankPOLoss(model, reference_free=False)
                trainer = SentenceTransformerTrainer(
                    model=model, train_dataset=Dataset.from_dict(columns), loss=loss
                )
                trainer.train()
        """
        super().__init__()
        _validate(
            temperature=temperature,
            beta=beta,
            label_smoothing=label_smoothing,
            loss_type=loss_type,
            sft_weight=sft_weight,
        )
        self.model = model
        self.temperature = temperature
        self.beta = beta
        self.gamma = gamma
        self.label_smoothing = label_smoothing
        self.loss_type = loss_type
        self.reference_free = reference_free
        self.sft_weight = sft_weight
        self.last_stats: dict[str, float] = {}

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None
    ) -> Tensor:
        features = list(sentence_features)
        if len(features) != 3:
            raise ValueError(
                f"RankPOLoss expects 3 input columns (query, chosen, rejected), got {len(features)}"
            )
        embeddings = _embed(self.model, features)
        query, chosen, rejected = (F.normalize(e, p=2, dim=-1) for e in embeddings)
        s_chosen = (query * chosen).sum(dim=-1)
        s_rejected = (query * rejected).sum(dim=-1)
        ref_chosen = ref_rejected = None
        if not self.reference_free:
            if labels is None:
                raise ValueError(
                    "RankPOLoss(reference_free=False) needs reference scores: add a 'label' column "
                    "of [s_chosen_ref, s_rejected_ref] lists (see jobmatch.losses.reference_scores)"
                )
            if labels.dim() != 2 or labels.shape != (s_chosen.shape[0], 2):
                raise ValueError(
                    f"RankPOLoss expects labels of shape ({s_chosen.shape[0]}, 2) = "
                    f"(s_chosen_ref, s_rejected_ref), got {tuple(labels.shape)}"
                )
            ref_chosen, ref_rejected = labels.unbind(dim=1)
        loss, self.last_stats = rankpo_loss(
            s_chosen,
            s_rejected,
            ref_chosen,
            ref_rejected,
            temperature=self.temperature,
            beta=self.beta,
            gamma=self.gamma,
            label_smoothing=self.label_smoothing,
            loss_type=self.loss_type,
            sft_weight=self.sft_weight,
        )
        return loss

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "beta": self.beta,
            "gamma": self.gamma,
            "label_smoothing": self.label_smoothing,
            "loss_type": self.loss_type,
            "reference_free": self.reference_free,
            "sft_weight": self.sft_weight,
        }

    @property
    def citation(self) -> str:
        return """
@misc{zhang2025rankpo,
    title={RankPO: Preference Optimization for Job-Talent Matching},
    author={Yafei Zhang and Murray Wang and Yu Wang and Xiaohui Wang},
    year={2025},
    eprint={2503.10723},
    archivePrefix={arXiv},
    primaryClass={cs.CL},
    url={https://arxiv.org/abs/2503.10723},
}

@inproceedings{rafailov2023direct,
    title={Direct Preference Optimization: Your Language Model is Secretly a Reward Model},
    author={Rafael Rafailov and Archit Sharma and Eric Mitchell and Christopher D. Manning
            and Stefano Ermon and Chelsea Finn},
    booktitle={Advances in Neural Information Processing Systems},
    year={2023},
    eprint={2305.18290},
    archivePrefix={arXiv},
    url={https://arxiv.org/abs/2305.18290},
}
"""


def _embed(model: nn.Module, features: list[dict[str, Tensor]]) -> list[Tensor]:
    """One embedding tensor per column; sentence-transformers merges chosen and rejected into
    one forward pass where its version supports it."""
    try:
        from sentence_transformers.base.losses.merged_forward import embed_columns
    except ImportError:  # older sentence-transformers 6.x
        return [model(f)["sentence_embedding"] for f in features]
    return embed_columns(model, features)


def reference_scores(
    model: SentenceTransformer,
    queries: Sequence[str],
    chosen: Sequence[str],
    rejected: Sequence[str],
    batch_size: int = 64,
) -> np.ndarray:
    """Frozen-model cosine scores [n, 2] = (s(q, chosen), s(q, rejected)), computed once.

    Run on the start model before training and store the rows as the dataset's ``label`` column,
    so RankPO with a reference needs no second model during training. Each distinct text is
    encoded once (queries and candidates repeat across preference pairs). Texts are encoded as
    ``model.encode`` does, so train with the same prompts (none by default).
    """
    n = len(queries)
    if len(chosen) != n or len(rejected) != n:
        raise ValueError(
            f"queries, chosen and rejected must have equal lengths, got "
            f"{n}, {len(chosen)} and {len(rejected)}"
        )
    if n == 0:
        return np.zeros((0, 2), dtype=np.float32)
    texts = list(dict.fromkeys([*queries, *chosen, *rejected]))
    row = {text: i for i, text in enumerate(texts)}
    embeddings = model.encode(
        texts,
        batch_size=batch_size,
        show_progress_bar=False,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    embeddings = np.asarray(embeddings, dtype=np.float32)

    def take(column: Sequence[str]) -> np.ndarray:
        return embeddings[[row[text] for text in column]]

    q = take(queries)
    return np.stack(
        [np.einsum("ij,ij->i", q, take(chosen)), np.einsum("ij,ij->i", q, take(rejected))],
        axis=1,
    ).astype(np.float32)
