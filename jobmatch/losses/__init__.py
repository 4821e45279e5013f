"""Training losses in the sentence-transformers loss interface, one loss per file."""

from __future__ import annotations

from jobmatch.losses.rankpo import RankPOLoss, rankpo_loss, reference_scores

__all__ = ["RankPOLoss", "rankpo_loss", "reference_scores"]
