"""The take's footnote, measured: are RL's and poor man's RL's weight updates alike, and does
few-shot prompting move the model's behaviour the way SFT does?

From one set of weights and one batch of sampled episodes per repetition:
- weights: the cosine between the LoRA update of one SFT-on-best-samples step and of one RL
  step (the clipped policy gradient), against controls: two SFT updates on disjoint halves of
  the data (how alike "the same method" is), SFT vs the same states with shuffled moves, and
  random directions of the same dimension (|cos| below 1.96/sqrt(D) in 95% of draws, exact);
- behaviour: on held-out states, the KL divergence between the move distributions of the
  few-shot-prompted base model and the SFT model, against base vs SFT and base vs few-shot.
Each iteration then takes the SFT update (one poor-man's-RL iteration) and repeats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from pydantic import BaseModel, Field

from quicktakes.llm.precision import Precision
from quicktakes.maze.grid import MazeConfig, maze_seeds
from quicktakes.maze.spec import DEFAULT_MAZE, LabSpec

CONTROLS = ("sft vs rl", "sft half vs half", "sft vs shuffled moves")
DISTANCES = ("base vs sft", "few-shot vs sft", "base vs few-shot")


class AlikeConfig(BaseModel):
    iterations: int = Field(2, ge=1, le=20, description="poor-man's-RL iterations")
    reps: int = Field(3, ge=2, le=50, description="independent batches per iteration")
    samples: int = Field(4, ge=2, le=64, description="episodes per training maze")
    train_mazes: int = Field(8, ge=1, le=1000)
    test_mazes: int = Field(8, ge=1, le=1000, description="held-out mazes for the KL states")
    shots: int = Field(8, ge=1, le=64)
    max_pairs: int = Field(32, ge=2, description="pairs per update")
    obs: str = "coins"
    maze: MazeConfig = Field(default_factory=lambda: DEFAULT_MAZE.model_copy())
    precision: Precision = Field("auto", description="torch forward passes (see LabSpec)")
    seed: int = 0


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0


def kl_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p || q) per row, from log-probabilities over the same four moves."""
    return np.asarray((np.exp(p) * (p - q)).sum(axis=1))


def random_band(dim: int) -> float:
    """95% of |cos| between independent random directions in `dim` dimensions lie below this."""
    return 1.96 / np.sqrt(dim)


@dataclass
class AlikeIteration:
    iteration: int
    cosines: dict[str, list[float]] = field(default_factory=dict)
    """Per control, one cosine per repetition."""
    kl: dict[str, list[float]] = field(default_factory=dict)
    """Per pair of policies, the KL on each held-out state (all repetitions)."""


@dataclass
class AlikeResult:
    config: AlikeConfig
    dim: int
    iterations: list[AlikeIteration] = field(default_factory=list)


def _delta(backend: object, anchor: dict[str, torch.Tensor]) -> np.ndarray:
    """The update since `anchor`, flattened over the trainable weights in a fixed order."""
    snap = backend.snapshot()  # type: ignore[attr-defined]
    parts = [(snap[k] - anchor[k]).flatten().float().cpu() for k in sorted(anchor)]
    return torch.cat(parts).numpy()


def measure_alike(
    cfg: AlikeConfig, note: Callable[[str], None] | None = None, trainer: object | None = None
) -> AlikeResult:
    from quicktakes.llm import SampleCache
    from quicktakes.llm.hf import HFBackend
    from quicktakes.maze.env import observation
    from quicktakes.maze.methods import best_examples, episodes
    from quicktakes.maze.oracle import MazeBank, optimal_rollout
    from quicktakes.maze.policy import LLMPolicy, best_per_maze
    from quicktakes.maze.train import (
        Update,
        batched_log_probs,
        rl_data,
        sft_data,
        train_steps,
    )

    say = note or (lambda s: None)
    backend = (
        trainer
        if isinstance(trainer, HFBackend)
        else HFBackend(seed=cfg.seed, precision=cfg.precision)
    )
    backend.reset()
    spec = LabSpec(method="sft-iter", obs=cfg.obs, maze=cfg.maze, seed=cfg.seed, epochs=1,
                   max_pairs=cfg.max_pairs, precision=backend.precision)
    obs = observation(cfg.obs)
    policy = LLMPolicy(backend, SampleCache(), "step", spec.temperature, obs=obs)
    mazes = MazeBank(cfg.maze)
    train = maze_seeds("train", cfg.train_mazes)
    held = [
        obs.render(sol.maze, s, "step")
        for sol in (mazes(m) for m in maze_seeds("test", cfg.test_mazes))
        for s, _ in optimal_rollout(sol)
    ]
    rng = np.random.default_rng(cfg.seed)
    result = AlikeResult(cfg, 0)

    def logp(examples: list[tuple[str, str]]) -> np.ndarray:
        policy.examples = examples
        convs = [policy.messages(t) for t in held]
        policy.examples = []
        return batched_log_probs(backend, convs, spec.temperature, 16).cpu().numpy()

    def update(data: Update, anchor: dict[str, torch.Tensor]) -> np.ndarray:
        backend.restore(anchor)
        train_steps(backend, data.capped(cfg.max_pairs, rng), spec, rng)
        return _delta(backend, anchor)

    for it in range(cfg.iterations):
        anchor = backend.snapshot()
        out = AlikeIteration(it, {k: [] for k in CONTROLS}, {k: [] for k in DISTANCES})
        next_update = None
        for r in range(cfg.reps):
            say(f"updates-alike: iteration {it}, batch {r + 1}/{cfg.reps}")
            backend.restore(anchor)
            groups = episodes(policy, mazes, train, cfg.samples, cfg.seed, f"alike{it}-{r}")
            best = best_per_maze(groups)
            sft, rl = sft_data(policy, best), rl_data(policy, groups)
            if len(sft) < 4 or len(rl) < 2:
                continue
            perm = rng.permutation(len(sft))
            half = len(sft) // 2
            shuffled = Update(sft.convs, sft.targets[rng.permutation(len(sft))])
            base_lp = logp([])
            few_lp = logp(best_examples(best, cfg.shots))
            d_sft = update(sft, anchor)
            sft_lp = logp([])
            if next_update is None:
                next_update = backend.snapshot()
            d_rl = update(rl, anchor)
            d_a = update(sft.subset(np.sort(perm[:half])), anchor)
            d_b = update(sft.subset(np.sort(perm[half:])), anchor)
            d_shuf = update(shuffled, anchor)
            result.dim = int(d_sft.size)
            out.cosines["sft vs rl"].append(cosine(d_sft, d_rl))
            out.cosines["sft half vs half"].append(cosine(d_a, d_b))
            out.cosines["sft vs shuffled moves"].append(cosine(d_sft, d_shuf))
            out.kl["base vs sft"] += kl_rows(base_lp, sft_lp).tolist()
            out.kl["few-shot vs sft"] += kl_rows(few_lp, sft_lp).tolist()
            out.kl["base vs few-shot"] += kl_rows(base_lp, few_lp).tolist()
        result.iterations.append(out)
        backend.restore(next_update if next_update is not None else anchor)
    backend.reset()
    return result
