"""Verified training with rollback, the take's insight: after each update, play mazes set
aside for the purpose and keep the update only if they did not get worse; otherwise put the
weights (and the optimizer's state) back as they were before it.

The verification mazes are their own split (`maze_seeds("verify", n)`): never trained on and
never scored, so the held-out curve stays an honest read of what the kept updates did. They
are played greedily (the most probable move at every state, no sampling noise), and their
episodes count as spent: the learner reads their scores to decide.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from quicktakes.llm.hf import HFBackend
from quicktakes.maze.oracle import MazeBank
from quicktakes.maze.policy import LLMPolicy


def verdict(check: Mapping[str, float], digits: int = 3) -> str:
    """One verification as read: "0.050 -> 0.090: kept" (or "rolled back")."""
    return (f"{check['verify_before']:.{digits}f} -> {check['verify_after']:.{digits}f}: "
            + ("kept" if check["kept"] else "rolled back"))


@dataclass
class Verifier:
    """Keeps an update only if the verification mazes' mean greedy score (each maze's share
    of its optimum) did not fall below the score of the weights kept so far (ties keep: an
    update can move the probabilities before greedy play changes)."""

    policy: LLMPolicy
    bank: MazeBank
    seeds: list[int]
    seed: int
    kept: float = field(init=False)

    def __post_init__(self) -> None:
        self.kept = self.score()

    def score(self) -> float:
        from quicktakes.maze.methods import episodes

        greedy = replace(self.policy, temperature=0.0)
        played = episodes(greedy, self.bank, self.seeds, 1, self.seed, "verify")
        return float(np.mean([g[0].normalized for g in played]))

    @property
    def spent(self) -> int:
        """Episodes one verification plays."""
        return len(self.seeds)

    def update(
        self, backend: HFBackend, opt: torch.optim.Optimizer | None,
        train: Callable[[], dict[str, float]],
    ) -> dict[str, float]:
        """Run `train` (one update), verify it, and roll it back if the mazes got worse.
        Returns `train`'s diagnostics with the verification's: the score before and after,
        and whether the update was kept (1.0) or rolled back (0.0)."""
        weights = backend.snapshot()
        state = copy.deepcopy(opt.state_dict()) if opt is not None else None
        stats = train()
        check = self.check()
        if not check["kept"]:
            backend.restore(weights)
            if opt is not None and state is not None:
                opt.load_state_dict(state)
        return stats | check

    def check(self) -> dict[str, float]:
        """Score the policy as it is now against the kept one's score: the score before and
        after, and whether it is kept (1.0; its score becomes the bar) or not (0.0: the
        caller puts back what it changed, weights or a prompt's examples)."""
        before, after = self.kept, self.score()
        kept = after >= before
        if kept:
            self.kept = after
        return {"verify_before": before, "verify_after": after, "kept": float(kept)}
