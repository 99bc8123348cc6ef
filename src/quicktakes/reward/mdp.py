"""Finite MDPs as numpy arrays, batched: random ones, and gymnasium's toy-text ones, exactly.

Transitions are `T[b, s, a, o]` over S + 1 outcomes: the S next states (episode goes on) and
one extra outcome, index S, for "the episode terminated" (no bootstrap past it).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from quicktakes.errors import ConfigError, UnknownNameError

GYM_ENVS: dict[str, tuple[str, dict[str, Any]]] = {
    "FrozenLake-v1": ("FrozenLake-v1", {"is_slippery": True}),
    "FrozenLake8x8-v1": ("FrozenLake8x8-v1", {"is_slippery": True}),
    # gymnasium >= 1.1 renamed these; P is the same. Taxi's rainy and fickle-passenger options
    # are not in P, so they stay off: the conversion refuses nothing because it asks for neither.
    "Taxi-v3": ("Taxi-v4", {}),
    "Taxi-v4": ("Taxi-v4", {}),
    "CliffWalking-v0": ("CliffWalking-v1", {}),
    "CliffWalking-v1": ("CliffWalking-v1", {}),
}


@dataclass(frozen=True)
class MDPBatch:
    """B MDPs sharing S states and A actions."""

    T: np.ndarray
    """(B, S, A, S+1) outcome probabilities; the last outcome is termination."""
    R: np.ndarray
    """(B, S, A) expected reward of the environment itself."""
    active: np.ndarray
    """(B, S) states where a decision is ever taken (reachable without terminating)."""
    start: np.ndarray
    """(B, S) start-state distribution for episodes."""
    name: str = "random"

    def __post_init__(self) -> None:
        if self.T.ndim != 4 or self.T.shape[3] != self.T.shape[1] + 1:
            raise ConfigError(f"T must have shape (B, S, A, S+1), got {self.T.shape}")
        if not np.allclose(self.T.sum(axis=3), 1.0):
            raise ConfigError("each T[b, s, a] must sum to 1")

    @property
    def shape(self) -> tuple[int, int, int]:
        b, s, a, _ = self.T.shape
        return b, s, a

    @property
    def P(self) -> np.ndarray:
        """(B, S, A, S) continuing transition probabilities (termination dropped)."""
        return self.T[..., :-1]

    def repeat(self, batch: int) -> MDPBatch:
        """`batch` copies of a single MDP (to pair one environment with many targets)."""
        if self.shape[0] != 1:
            raise ConfigError("repeat() needs a batch of one MDP")
        T, R, active, start = (
            np.repeat(x, batch, axis=0) for x in (self.T, self.R, self.active, self.start)
        )
        return MDPBatch(T, R, active, start, self.name)


def random_mdps(
    batch: int,
    states: int,
    actions: int,
    rng: np.random.Generator,
    branching: int = 3,
    p_terminate: float = 0.0,
) -> MDPBatch:
    """Seeded random MDPs: each (s, a) moves to `branching` random states with Dirichlet
    probabilities, and ends the episode with a probability drawn uniformly from
    [0, 2 p_terminate] per (s, a) (so actions differ in how likely they end it)."""
    if not (1 <= branching <= states):
        raise ConfigError(f"branching must be in [1, {states}], got {branching}")
    if not (0.0 <= p_terminate < 0.5):
        raise ConfigError(f"p_terminate must be in [0, 0.5), got {p_terminate}")
    if batch < 1 or states < 1 or actions < 1:
        raise ConfigError("batch, states and actions must be positive")
    T = np.zeros((batch, states, actions, states + 1))
    keys = rng.random((batch, states, actions, states))
    targets = np.argsort(keys, axis=3)[..., :branching]
    weights = rng.dirichlet(np.ones(branching), size=(batch, states, actions))
    end = rng.uniform(0, 2 * p_terminate, size=(batch, states, actions))
    np.put_along_axis(T[..., :states], targets, weights * (1 - end[..., None]), axis=3)
    T[..., states] = end
    R = rng.standard_normal((batch, states, actions))
    active = np.ones((batch, states), dtype=bool)
    start = np.full((batch, states), 1.0 / states)
    return MDPBatch(T, R, active, start, "random")


def _reachable(P: np.ndarray, start: np.ndarray) -> np.ndarray:
    """States reachable from the start distribution through continuing transitions."""
    edges = P.sum(axis=1) > 0  # (S, S)
    seen = start > 0
    frontier = seen.copy()
    while frontier.any():
        nxt = edges[frontier].any(axis=0) & ~seen
        seen |= nxt
        frontier = nxt
    return seen


def from_gymnasium(name: str) -> MDPBatch:
    """Convert a toy-text environment exactly from `env.unwrapped.P`."""
    try:
        env_id, kwargs = GYM_ENVS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown environment {name!r}; valid: random, {', '.join(GYM_ENVS)}"
        ) from None
    import gymnasium as gym

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env: Any = gym.make(env_id, **kwargs).unwrapped
    S, A = env.observation_space.n, env.action_space.n
    T = np.zeros((S, A, S + 1))
    R = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            for prob, s2, reward, terminated in env.P[s][a]:
                T[s, a, S if terminated else int(s2)] += prob
                R[s, a] += prob * reward
    start = np.asarray(env.initial_state_distrib, dtype=np.float64)
    active = _reachable(T[..., :S], start)
    env.close()
    return MDPBatch(T[None], R[None], active[None], start[None], name)
