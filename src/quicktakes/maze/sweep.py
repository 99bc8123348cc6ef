"""Each learner's rate, chosen on training mazes only: one update at each rate of a small
grid, scored on validation mazes (the training split's next mazes, never the test ones) as
the paired gain over the base model on the same mazes. The comparison then runs each
learner at its own best rate, and results.json records the sweep."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from quicktakes.errors import ConfigError
from quicktakes.maze.spec import LabSpec
from quicktakes.progress import Note

if TYPE_CHECKING:
    from quicktakes.llm.cache import SampleCache
    from quicktakes.llm.hf import HFBackend

RATES = {"lora": (1e-3, 3e-3, 1e-2), "full": (3e-6, 1e-5, 3e-5)}
"""The grid per fine-tuning kind: the default rate and a factor of about 3 either side."""
SWEEP_MAZES = 16
"""Validation mazes per trial: enough to rank three rates whose gains differ by a tenth, at
a sixth of the comparison's cost for the sweep of all three learners."""


@dataclass(frozen=True)
class RateSweep:
    method: str
    rates: tuple[float, ...]
    gains: tuple[float, ...]
    """Mean paired gain (after one update minus before) over the validation mazes."""

    @property
    def chosen(self) -> float:
        """The rate with the largest gain; among equals, the smallest rate."""
        best = max(self.gains)
        return min(r for r, g in zip(self.rates, self.gains, strict=True) if g == best)

    def to_dict(self) -> dict[str, object]:
        return {
            "rates": list(self.rates),
            "validation_gain": [round(g, 4) for g in self.gains],
            "chosen": self.chosen,
        }


def sweep_rate(
    spec: LabSpec,
    root: Path,
    rates: tuple[float, ...] | None = None,
    cache: SampleCache | None = None,
    trainer: HFBackend | None = None,
    note: Note | None = None,
) -> RateSweep:
    """One update of `spec.method` at each rate, scored on validation mazes."""
    from quicktakes.maze.lab import run

    if not spec.trains:
        raise ConfigError(f"{spec.method} does not train: it has no rate to sweep")
    grid = rates if rates is not None else RATES[spec.finetune]
    if not grid or any(not 0 < r <= 1 for r in grid):
        raise ConfigError(f"a rate sweep needs rates in (0, 1], got {list(grid)}")
    say = note or (lambda s: None)
    gains = []
    for rate in grid:
        say(f"rate sweep: {spec.method} at lr {rate:g}")
        trial = spec.model_copy(
            update={"lr": rate, "iterations": 2, "held_out": "validation",
                    "test_mazes": min(spec.test_mazes, SWEEP_MAZES)}
        )
        result = run(trial, say, root / f"{spec.method}-lr{rate:g}", cache, trainer)
        before, after = result.iterations[0].scores, result.iterations[-1].scores
        gains.append(float(np.mean(np.subtract(after, before))))
    return RateSweep(spec.method, tuple(grid), tuple(gains))
