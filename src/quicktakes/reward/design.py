"""Reward design: rewards that make Q-learning converge to a chosen policy or chosen values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from quicktakes.errors import ConfigError
from quicktakes.reward.mdp import MDPBatch


def reward_for_policy(policy: np.ndarray, actions: int) -> np.ndarray:
    """The seed's construction: r(s, a) = 1 if a = pi*(s), else 0.

    In a continuing MDP every state's value is then 1/(1 - gamma), so pi*(s) wins by exactly 1.
    Where actions can end the episode that no longer holds: see `policy_margin`.
    """
    policy = np.asarray(policy)
    if policy.ndim != 2:
        raise ConfigError(f"target policy must have shape (batch, states), got {policy.shape}")
    if policy.min() < 0 or policy.max() >= actions:
        raise ConfigError(f"target policy actions must be in [0, {actions})")
    return np.eye(actions)[policy]


def shifted_reward_for_policy(policy: np.ndarray, actions: int) -> np.ndarray:
    """The seed's reward minus one: r(s, a) = 0 if a = pi*(s), else -1.

    No reward is positive, so V(s) <= 0 for every policy, and pi* earns exactly 0 from every
    state: Q(s, pi*(s)) = 0 > -1 >= Q(s, a) for any other a. pi* is strictly optimal in every
    MDP, episodic or continuing; where episodes end, the constant shift is what matters.
    """
    return reward_for_policy(policy, actions) - 1.0


def reward_for_values(mdp: MDPBatch, Q_target: np.ndarray, gamma: float) -> np.ndarray:
    """Inverse Bellman: r(s,a) = Q*(s,a) - gamma sum_s' P(s'|s,a) max_a' Q*(s',a').

    Terminal outcomes carry no continuation, so their gamma term is simply absent from P.
    """
    if Q_target.shape != mdp.shape:
        raise ConfigError(f"target values must have shape {mdp.shape}, got {Q_target.shape}")
    if not (0.0 <= gamma < 1.0):
        raise ConfigError(f"gamma must be in [0, 1), got {gamma}")
    V = Q_target.max(axis=2)
    return Q_target - gamma * np.einsum("bsao,bo->bsa", mdp.P, V)


def values_for_policy(policy: np.ndarray, actions: int, margin: float = 1.0) -> np.ndarray:
    """A target Q* whose greedy policy is pi* with the given margin in every state."""
    return margin * np.eye(actions)[np.asarray(policy)]


def policy_margin(Q: np.ndarray, policy: np.ndarray, active: np.ndarray) -> np.ndarray:
    """min over active states of Q(s, pi*(s)) - max_{a != pi*(s)} Q(s, a), per MDP."""
    chosen = np.take_along_axis(Q, policy[..., None], axis=2)[..., 0]
    others = np.where(np.eye(Q.shape[2], dtype=bool)[policy], -np.inf, Q).max(axis=2)
    gap = np.where(active, chosen - others, np.inf)
    return np.asarray(gap.min(axis=1))


def matches(Q: np.ndarray, policy: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Fraction of active states whose greedy action is pi*(s), per MDP (ties count as misses)."""
    margin = np.take_along_axis(Q, policy[..., None], axis=2)[..., 0] - np.where(
        np.eye(Q.shape[2], dtype=bool)[policy], -np.inf, Q
    ).max(axis=2)
    hit = (margin > 0) & active
    return np.asarray(hit.sum(axis=1) / active.sum(axis=1))


def relative_error(Q: np.ndarray, Q_star: np.ndarray, active: np.ndarray) -> np.ndarray:
    """max |Q - Q*| / max |Q*| over the active states, per MDP."""
    act = active[..., None]
    scale = np.abs(np.where(act, Q_star, 0)).max(axis=(1, 2))
    return np.asarray(np.abs(np.where(act, Q - Q_star, 0)).max(axis=(1, 2)) / scale)


@dataclass(frozen=True)
class Construction:
    """A reward meant to make a target policy optimal: what the claims report it as, and how
    it is built from the MDPs, the target policy and the discount."""

    label: str
    build: Callable[[MDPBatch, np.ndarray, float], np.ndarray]


CONSTRUCTIONS: dict[str, Construction] = {
    "seed": Construction("seed 1/0", lambda mdp, pi, gamma: reward_for_policy(pi, mdp.shape[2])),
    "shifted": Construction(
        "shifted 0/-1", lambda mdp, pi, gamma: shifted_reward_for_policy(pi, mdp.shape[2])
    ),
    "inverse-bellman": Construction(
        "inverse Bellman",
        lambda mdp, pi, gamma: reward_for_values(mdp, values_for_policy(pi, mdp.shape[2]), gamma),
    ),
}
"""The one table of constructions, read by the claims and by `quicktakes qlearn`: the seed's
1{a = pi*(s)}, the same minus one, and the inverse-Bellman reward of a Q* with margin 1."""
