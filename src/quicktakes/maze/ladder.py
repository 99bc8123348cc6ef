"""A learner-debugging ladder: tasks small enough that a learner which cannot climb them has a
bug, not too small a budget.

Rung 1, one step: a coin next to the start and one move left, on the lab's own observation,
environment, data builders (`update_data`: each method's, as `maze run` builds it) and trainer
(`train_steps`). Any working learner reaches near-perfect greedy play within a
few updates; the embedded model starts at chance (it does not read "Coins: 1 up" as "move
up"). Greedy success is scored on held-out one-step mazes from their start, no sampling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from quicktakes.maze.env import OBSERVATIONS
from quicktakes.maze.grid import Maze, MazeConfig
from quicktakes.maze.oracle import MazeBank
from quicktakes.maze.policy import Job, LLMPolicy, rollouts
from quicktakes.maze.spec import LabSpec
from quicktakes.rng import derive_seed

if TYPE_CHECKING:
    from quicktakes.llm.hf import HFBackend

SIZE = 5
NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def one_step_maze(seed: int) -> Maze:
    """A 5x5 board, walls at 30% elsewhere, the start in the middle and one coin next to it
    (the side drawn from the seed), one move to take."""
    rng = np.random.default_rng(derive_seed(seed, "ladder", "one-step") % 2**32)
    walls = rng.random((SIZE, SIZE)) < 0.3
    start = (SIZE // 2, SIZE // 2)
    dr, dc = NEIGHBOURS[int(rng.integers(4))]
    coin = (start[0] + dr, start[1] + dc)
    walls[start] = walls[coin] = False
    return Maze(walls, (coin,), start, max_steps=1)


def one_step_bank() -> MazeBank:
    """Rung 1's mazes, by seed, with their solutions."""
    return MazeBank(MazeConfig(size=SIZE, coins=1, max_steps=1), make=one_step_maze)


TWO_COINS = MazeConfig(size=5, coins=2, max_steps=8, wall_density=0.2)
"""Rung 2: a 5x5 maze with two coins and eight moves, between the one-step task and the
claims' 7x7 maze with four coins and fourteen moves."""


@dataclass
class Rung:
    """One learner's climb: greedy play on the held-out mazes at the start and after each
    update (each maze's share of its optimum, in the same maze order, so checkpoints pair),
    with each update's diagnostics (entropy, KL moved, loss, collapse)."""

    method: str
    scores: list[list[float]] = field(default_factory=list)
    updates: list[dict[str, float]] = field(default_factory=list)
    spent: list[int] = field(default_factory=lambda: [0])
    """Training episodes sampled before each checkpoint (step selection's rollouts included)."""
    masses: list[list[float]] = field(default_factory=list)
    """Each checkpoint's per-maze probability on the optimal moves along the optimal path
    (`maze.train.optimal_mass`): it moves before greedy play flips."""
    top_move: list[float] = field(default_factory=list)
    """Each checkpoint's commonest greedy move's share of its moves (1.0: one move played
    whatever the state, as the embedded model plays the 7x7 maze: always D)."""

    @property
    def greedy(self) -> list[float]:
        return [float(np.mean(s)) for s in self.scores]

    @property
    def mass(self) -> list[float]:
        return [float(np.mean(m)) for m in self.masses]

    def gain(self, of: str = "scores") -> tuple[float, float, float]:
        """The last checkpoint minus the start, paired over mazes: (mean, lo, hi), 95% t;
        of the greedy scores, or (`of="masses"`) of the optimal moves' probability."""
        from scipy import stats

        at = self.scores if of == "scores" else self.masses
        d = np.array(at[-1]) - np.array(at[0])
        sd = float(d.std(ddof=1)) if d.size > 1 else 0.0
        half = float(stats.t.ppf(0.975, max(d.size - 1, 1))) * sd / np.sqrt(d.size)
        return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def greedy_play(policy: LLMPolicy, bank: MazeBank, seeds: list[int]) -> tuple[list[float], float]:
    """Each held-out maze's share of its optimum, played greedily (the most probable move at
    every state) from its start: the lab's own greedy evaluation; and the commonest move's
    share of the moves played."""
    from quicktakes.maze.methods import checkpoint, evaluate

    played = evaluate(policy, bank, seeds, GREEDY, "ladder-greedy")
    point = checkpoint(0, 0, played)
    return point.scores, point.top_move_share or 0.0


GREEDY = LabSpec(evaluation="greedy")
"""What `evaluate` reads for greedy play: one episode per maze, no sampling."""


def climb(
    spec: LabSpec, updates: int, cache_path: Path, train: int = 32, test: int = 48,
    note: Callable[[str], None] | None = None, bank: MazeBank | None = None,
    backend: HFBackend | None = None, every: bool = True,
) -> Rung:
    """Train `spec.method` (oracle-bc, sft-iter, rl) on the rung's mazes (one-step mazes
    unless `bank` gives others): each update samples `spec.samples` episodes per training
    maze with the current policy, builds the method's data as the lab does, and takes
    `train_steps` (with `spec.verify`, kept only if the verification mazes did not get worse:
    `maze.verify`); every checkpoint plays the held-out mazes greedily: after every update, or
    (`every=False`) only after the last. `backend`: loaded weights to re-use (reset to the
    base first), else the spec's own."""
    from quicktakes.llm.cache import SampleCache
    from quicktakes.maze.lab import make_trainer
    from quicktakes.maze.train import make_optimizer, optimal_mass, update_data, verified_steps
    from quicktakes.maze.verify import Verifier

    bank = bank or one_step_bank()
    if backend is None:
        backend = make_trainer(spec)
    else:
        backend.reset()
    policy = LLMPolicy(backend, SampleCache(cache_path), temperature=spec.temperature,
                       obs=OBSERVATIONS[spec.obs])
    train_seeds = list(range(train))
    test_seeds = list(range(10_000, 10_000 + test))
    rng = np.random.default_rng(spec.seed)
    scores, top = greedy_play(policy, bank, test_seeds)
    rung = Rung(spec.method, [scores], top_move=[top],
                masses=[optimal_mass(backend, policy, bank, test_seeds, spec)])
    opt = make_optimizer(backend, spec) if spec.optimizer == "keep" else None
    spent = 0
    verifier = None
    if spec.verify:  # the rung's verification mazes: their own seeds, after the test's
        verifier = Verifier(policy, bank, list(range(20_000, 20_000 + spec.verify)), spec.seed)
        spent += verifier.spent
    for u in range(updates):
        jobs = [Job(bank(s), s, derive_seed(spec.seed, "ladder", str(u), str(s), str(k)) % 2**31)
                for s in train_seeds for k in range(spec.samples)]
        played = rollouts(jobs, policy, policy.obs)
        groups = [played[i : i + spec.samples] for i in range(0, len(played), spec.samples)]
        data = update_data(spec, policy, bank, groups, rng, f"ladder-{u}")
        stats = (verified_steps(verifier, backend, data, spec, rng, opt) if len(data)
                 else {"pairs": 0.0})
        rung.updates.append(stats)
        spent += len(jobs) + data.sampled + (verifier.spent if "kept" in stats and verifier else 0)
        if not every and u < updates - 1:
            continue
        rung.spent.append(spent)
        scores, top = greedy_play(policy, bank, test_seeds)
        rung.scores.append(scores)
        rung.top_move.append(top)
        rung.masses.append(optimal_mass(backend, policy, bank, test_seeds, spec))
        if note:
            note(f"{spec.method} update {u + 1}: greedy {rung.greedy[-1]:.2f} (commonest move "
                 f"{top:.0%}), optimal moves' probability {rung.mass[-1]:.3f}, "
                 f"{int(stats['pairs'])} pairs"
                 + (f", verified {stats['verify_after']:.2f} against {stats['verify_before']:.2f}:"
                    f" {'kept' if stats['kept'] else 'rolled back'}" if "kept" in stats else ""))
    return rung
