"""All methods on the same mazes with the same budget: the comparison the take makes.

One `CompareConfig` fixes the mazes, iterations, samples per maze and seed for every method,
so the learning methods (few-shot, SFT on best samples, RL) spend exactly the same number of
sampled episodes; `samples_used` is reported per point and checked equal.
Prompting methods sample the GGUF through llama.cpp; fine-tuning methods train its
dequantized weights in torch (the same model; scores agree to ~0.1 nats).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import platformdirs
from pydantic import BaseModel, Field

from quicktakes.errors import ConfigError
from quicktakes.ledger import Point, Trend
from quicktakes.maze.grid import MazeConfig, max_coins, maze_for_seed, maze_seeds
from quicktakes.maze.methods import IterationResult, LabConfig, LabResult, run_lab
from quicktakes.stats import mean_ci

LEARNERS = ("few-shot", "sft-iter", "rl")


class CompareConfig(BaseModel):
    budget: Literal["fast", "full"] = "fast"
    seed: int = 0
    maze: MazeConfig = Field(default_factory=MazeConfig)

    def sizes(self) -> dict[str, int]:
        if self.budget == "fast":  # sized for the 6-minute CPU budget of both claims
            return {"iterations": 2, "samples": 4, "train_mazes": 2, "test_mazes": 6}
        return {"iterations": 4, "samples": 8, "train_mazes": 16, "test_mazes": 32}


def tabular_reference(
    cfg: CompareConfig, grid: tuple[int, ...], test_mazes: int | None = None
) -> LabResult:
    """Per-maze tabular Q-learning with E episodes on each held-out maze, E on `grid`."""
    from quicktakes.maze.tabular import tabular_score

    test = maze_seeds("test", test_mazes or cfg.sizes()["test_mazes"])
    out = LabResult(cfg, "tabular Q-learning")
    for k, episodes in enumerate(grid):
        scores = []
        for ms in test:
            maze = maze_for_seed(cfg.maze, ms)
            rng = np.random.default_rng([cfg.seed, ms, episodes])
            scores.append(tabular_score(maze, max_coins(maze), episodes, rng))
        m, lo, hi = mean_ci(np.array(scores))
        out.iterations.append(
            IterationResult(
                k, episodes * len(test), m, max(lo, 0.0), min(hi, 1.0), len(scores), 0.0
            )
        )
    return out


def run_compare(
    cfg: CompareConfig,
    run_root: Path | None = None,
    note: Callable[[str], None] | None = None,
) -> dict[str, LabResult]:
    from quicktakes.llm import SampleCache, make_backend
    from quicktakes.llm.hf import HFBackend
    from quicktakes.maze.policy import LLMPolicy
    from quicktakes.maze.train import TrainConfig, run_training

    sizes = cfg.sizes()
    cache = SampleCache()
    root = run_root or Path(platformdirs.user_data_dir("quicktakes")) / "maze-runs" / (
        f"compare-{cfg.budget}-seed{cfg.seed}"
    )
    results: dict[str, LabResult] = {}
    local = make_backend("local")
    for method in ("random", "zero-shot", "best-of-n", "few-shot"):
        lab = LabConfig(
            method=method,
            maze=cfg.maze,
            seed=cfg.seed,
            shots=6,
            **sizes,
        )
        policy = None if method == "random" else LLMPolicy(local, cache, "step")
        results[method] = run_lab(lab, policy, note)
    local.close()
    hf = HFBackend(seed=cfg.seed)
    for method in ("sft-iter", "rl"):
        hf.reset()
        tcfg = TrainConfig(
            method=method,
            maze=cfg.maze,
            seed=cfg.seed,
            **sizes,
        )
        results[method] = run_training(tcfg, hf, cache, root / method, note)
    last = max(r.iterations[-1].samples_used for r in results.values() if r.iterations)
    results["tabular"] = tabular_reference(cfg, tuple(sorted({1, 4, 16, 64, max(1, last // 8)})))
    check_equal_budgets(results)
    return results


def check_equal_budgets(results: dict[str, LabResult]) -> None:
    """The learning methods must have spent the same number of episodes at every iteration."""
    used = {m: [i.samples_used for i in results[m].iterations] for m in LEARNERS if m in results}
    if len({tuple(v) for v in used.values()}) > 1:
        raise ConfigError(f"unequal sample budgets across methods: {used}")


def comparison_trends(runs: dict[str, LabResult]) -> list[Trend]:
    """The take's figure: held-out coins vs episodes sampled, and vs iteration (two panels)."""
    x, y = "episodes sampled (train + test)", "normalized coins on held-out mazes"
    trends = []
    for name, r in runs.items():
        pts = [Point(i.samples_used, i.mean, i.lo, i.hi, i.n) for i in r.iterations]
        style = "markers" if name == "tabular" else "line"
        trends.append(Trend.of(name, x, y, pts, log_x=True, style=style))
    top = max(p.x for t in trends for p in t.points)
    trends.append(
        Trend.of(
            "exact optimum",
            x,
            y,
            [Point.exact(1, 1.0), Point.exact(top, 1.0)],
            interval="exact",
            log_x=True,
        )
    )
    for name, r in runs.items():
        if name != "tabular":  # its points are episode counts, not iterations
            pts = [Point(i.iteration, i.mean, i.lo, i.hi, i.n) for i in r.iterations]
            trends.append(Trend.of(name, "iteration", y, pts))
    return trends
