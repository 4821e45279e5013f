"""What every trainer returns: where the model went, how long it took, what it reached."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
