"""The prompting methods, each a loop with a trend over iterations on held-out test mazes.

Budgets are counted in sampled trajectories (episodes), the unit every method spends:
- zero-shot: the test episodes only;
- best-of-N: N episodes per test maze, keeping each maze's best (what selection alone buys,
  using the reward on the test mazes themselves);
- few-shot ("very poor man's RL"): each iteration samples N episodes per training maze with
  the current prompt, keeps each maze's best, and puts the top-K (state, move) pairs of those
  best episodes into the prompt for the next iteration; evaluated on the test mazes each time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from quicktakes.maze.grid import MOVES, MazeConfig, max_coins, maze_for_seed, maze_seeds
from quicktakes.maze.policy import Actor, Job, LLMPolicy, RandomPolicy, Trajectory, rollouts
from quicktakes.rng import derive_seed
from quicktakes.stats import mean_ci


class LabConfig(BaseModel):
    method: Literal["random", "zero-shot", "best-of-n", "few-shot"] = "few-shot"
    mode: Literal["step", "plan"] = "step"
    iterations: int = Field(2, ge=1, le=100)
    samples: int = Field(4, ge=1, le=256, description="N: episodes per maze per iteration")
    shots: int = Field(6, ge=1, le=64, description="K: (state, move) examples in the prompt")
    train_mazes: int = Field(4, ge=1, le=10_000)
    test_mazes: int = Field(6, ge=1, le=10_000)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    maze: MazeConfig = Field(default_factory=MazeConfig)
    seed: int = 0


@dataclass
class IterationResult:
    iteration: int
    samples_used: int
    """Cumulative trajectories sampled by this method so far (train and test)."""
    mean: float
    lo: float
    hi: float
    n: int
    invalid_rate: float
    examples: int = 0


@dataclass
class LabResult:
    config: BaseModel
    """The run's config: a LabConfig, or a TrainConfig for the fine-tuning methods."""
    model: str
    iterations: list[IterationResult] = field(default_factory=list)
    served_by: str | None = None
    """The server episodes were sampled from, when not from `model` in-process."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.model_dump(),
            "model": self.model,
            "served_by": self.served_by,
            "iterations": [vars(i) for i in self.iterations],
        }


class _Mazes:
    """Mazes by seed, with their exact optimum, computed once."""

    def __init__(self, cfg: MazeConfig) -> None:
        self.cfg = cfg
        self._memo: dict[int, tuple[Any, int]] = {}

    def __call__(self, seed: int) -> tuple[Any, int]:
        if seed not in self._memo:
            m = maze_for_seed(self.cfg, seed)
            self._memo[seed] = (m, max_coins(m))
        return self._memo[seed]


def _episodes(
    actor: Actor, mazes: _Mazes, seeds: list[int], per_maze: int, run_seed: int, tag: str
) -> list[list[Trajectory]]:
    """`per_maze` episodes on each maze, each with its own derived seed, played in lockstep."""
    jobs = []
    for ms in seeds:
        maze, opt = mazes(ms)
        for e in range(per_maze):
            jobs.append(Job(maze, ms, opt, derive_seed(run_seed, tag, str(ms), str(e)) % 2**31))
    flat = rollouts(jobs, actor)
    return [flat[i * per_maze : (i + 1) * per_maze] for i in range(len(seeds))]


def _summary(
    it: int, used: int, groups: list[list[float]], invalid: float, shots: int = 0
) -> IterationResult:
    scores = np.array([x for g in groups for x in g])
    m, lo, hi = mean_ci(scores)
    return IterationResult(
        it, used, m, max(0.0, lo), min(1.0, hi), int(scores.size), invalid, shots
    )


def _invalid_rate(trajs: list[list[Trajectory]]) -> float:
    flat = [t for g in trajs for t in g]
    steps = sum(max(1, len(t.moves)) for t in flat)
    return sum(t.invalid for t in flat) / steps if steps else 0.0


def best_examples(best: list[Trajectory], shots: int, mode: str = "step") -> list[tuple[str, str]]:
    """Top-K examples from the best episodes, coin-collecting episodes first: (state, move)
    pairs in step mode, (start state, whole move string) in plan mode."""
    ranked = sorted(best, key=lambda t: -t.normalized)
    pairs: list[tuple[str, str]] = []
    for t in ranked:
        if t.coins == 0:
            continue
        if mode == "plan":
            pairs.append((t.states[0], "".join(MOVES[m] for m in t.moves if m >= 0)))
            continue
        for state, move in zip(t.states, t.moves, strict=False):
            if move >= 0:
                pairs.append((state, MOVES[move]))
    return pairs[:shots]


def run_lab(
    cfg: LabConfig, policy: LLMPolicy | None, on_progress: Callable[[str], None] | None = None
) -> LabResult:
    mazes = _Mazes(cfg.maze)
    test = maze_seeds("test", cfg.test_mazes)
    train = maze_seeds("train", cfg.train_mazes)
    model = policy.backend.model_id if policy else "none"
    result = LabResult(cfg, model)
    note = on_progress or (lambda s: None)
    used = 0
    if cfg.method == "random" or policy is None:
        for it in range(cfg.iterations):
            trajs = _episodes(RandomPolicy(), mazes, test, cfg.samples, cfg.seed, f"random{it}")
            used += sum(len(g) for g in trajs)
            result.iterations.append(
                _summary(it, used, [[t.normalized for t in g] for g in trajs], 0.0)
            )
        return result
    if cfg.method == "zero-shot":
        for it in range(cfg.iterations):
            note(f"zero-shot, iteration {it}")
            trajs = _episodes(policy, mazes, test, 1, cfg.seed, f"zero{it}")
            used += len(test)
            result.iterations.append(
                _summary(it, used, [[t.normalized for t in g] for g in trajs], _invalid_rate(trajs))
            )
        return result
    if cfg.method == "best-of-n":
        for it in range(cfg.iterations):
            note(f"best-of-{cfg.samples}, iteration {it}")
            trajs = _episodes(policy, mazes, test, cfg.samples, cfg.seed, f"bon{it}")
            used += cfg.samples * len(test)
            best_scores = [[max(t.normalized for t in g)] for g in trajs]
            result.iterations.append(_summary(it, used, best_scores, _invalid_rate(trajs)))
        return result
    # few-shot: very poor man's RL
    for it in range(cfg.iterations):
        note(f"few-shot, iteration {it}: evaluating on {len(test)} test mazes")
        trajs = _episodes(policy, mazes, test, 1, cfg.seed, f"fewtest{it}")
        used += len(test)
        result.iterations.append(
            _summary(
                it,
                used,
                [[t.normalized for t in g] for g in trajs],
                _invalid_rate(trajs),
                len(policy.examples),
            )
        )
        if it == cfg.iterations - 1:
            break
        note(f"few-shot, iteration {it}: sampling {cfg.samples} x {len(train)} training mazes")
        train_trajs = _episodes(policy, mazes, train, cfg.samples, cfg.seed, f"fewtrain{it}")
        used += cfg.samples * len(train)
        best = [max(g, key=lambda t: t.normalized) for g in train_trajs]
        policy.examples = best_examples(best, cfg.shots, cfg.mode)
    return result
