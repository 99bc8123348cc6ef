"""Plain functions behind `quicktakes qlearn`: one MDP source, one target, a trend over steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from quicktakes.errors import ConfigError
from quicktakes.progress import Progress
from quicktakes.reward import design
from quicktakes.reward.mdp import GYM_ENVS, MDPBatch, from_gymnasium, random_mdps
from quicktakes.reward.qlearning import QLearningConfig, q_learning, value_iteration


class QLearnSpec(BaseModel):
    """Drive Q-learning to a random target policy or target value table."""

    mdp: str = Field("random", description="random, or a gymnasium toy-text environment id")
    target: Literal["policy", "values"] = "policy"
    construction: str = Field(
        "seed",
        description="for --target policy: "
        + "; ".join(f"{k} ({c.label})" for k, c in design.CONSTRUCTIONS.items()),
    )
    @field_validator("construction")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in design.CONSTRUCTIONS:
            raise ValueError(
                f"unknown construction {name!r}; valid: {', '.join(design.CONSTRUCTIONS)}"
            )
        return name

    steps: int = Field(200_000, ge=1, le=10**10, description="updates per MDP")
    batch: int = Field(100, ge=1, le=100_000, description="MDPs (or env copies) in the batch")
    states: int = Field(10, ge=1, le=10_000)
    actions: int = Field(4, ge=1, le=1_000)
    p_terminate: float = Field(0.0, ge=0.0, lt=0.5)
    q: QLearningConfig = Field(default_factory=QLearningConfig)
    seed: int = 0


@dataclass
class QLearnResult:
    config: QLearnSpec
    steps: list[int] = field(default_factory=list)
    metric: list[float] = field(default_factory=list)
    """policy: worst fraction of states with greedy = pi*; values: worst relative error."""
    mean_metric: list[float] = field(default_factory=list)
    value_iteration: float = 0.0
    """The same metric for exact value iteration on the designed reward."""


def build_mdp(run: QLearnSpec, rng: np.random.Generator) -> MDPBatch:
    if run.mdp == "random":
        return random_mdps(run.batch, run.states, run.actions, rng, p_terminate=run.p_terminate)
    if run.mdp not in GYM_ENVS:
        raise ConfigError(f"unknown environment {run.mdp!r}; valid: random, {', '.join(GYM_ENVS)}")
    return from_gymnasium(run.mdp).repeat(run.batch)


def qlearn(run: QLearnSpec, on_progress: Progress | None = None) -> QLearnResult:
    rng = np.random.default_rng(run.seed)
    mdp = build_mdp(run, rng)
    B, S, A = mdp.shape
    gamma = run.q.gamma
    if run.target == "policy":
        policy = rng.integers(A, size=(B, S))
        R = design.CONSTRUCTIONS[run.construction].build(mdp, policy, gamma)

        def metric(Q: np.ndarray) -> np.ndarray:
            return design.matches(Q, policy, mdp.active)
    else:
        Q_star = rng.uniform(-1, 1, size=(B, S, A))
        R = design.reward_for_values(mdp, Q_star, gamma)

        def metric(Q: np.ndarray) -> np.ndarray:
            return design.relative_error(Q, Q_star, mdp.active)

    worst = np.min if run.target == "policy" else np.max
    result = QLearnResult(run, value_iteration=float(worst(metric(value_iteration(mdp, R, gamma)))))
    marks = sorted({int(c) for c in np.geomspace(max(1, run.steps // 1000), run.steps, 20)})

    def record(step: int, Q: np.ndarray) -> None:
        m = metric(Q)
        result.steps.append(step)
        result.metric.append(float(worst(m)))
        result.mean_metric.append(float(m.mean()))
        if on_progress:
            on_progress(step, run.steps)

    q_learning(mdp, R, run.steps, run.q, rng, marks, record)
    return result
