"""Batched Q-learning updates per second vs a per-transition Python loop, on the same MDPs.

The baseline follows gymnasium's Q-learning tutorial: one transition at a time, the next state
drawn with the generator's choice(), the update on one table entry. Target (issue 4): at least
100x, and at least 1e7 updates/s.
"""

from __future__ import annotations

import time

import numpy as np

from quicktakes.reward.mdp import random_mdps
from quicktakes.reward.qlearning import QLearningConfig, q_learning

BATCH, STATES, ACTIONS = 1000, 10, 4


def loop_baseline(mdp, steps: int, cfg: QLearningConfig, rng: np.random.Generator) -> float:
    """Updates/s of a plain per-transition loop over every MDP of the batch."""
    B, S, A = mdp.shape
    Q = np.zeros((B, S + 1, A))
    counts = np.zeros((B, S, A))
    start = time.perf_counter()
    for b in range(B):
        T, R = mdp.T[b], mdp.R[b]
        for _ in range(steps):
            s = rng.integers(S)
            a = rng.integers(A)
            s2 = rng.choice(S + 1, p=T[s, a])
            counts[b, s, a] += 1
            alpha = (counts[b, s, a]) ** -cfg.lr_exponent
            td = R[s, a] + cfg.gamma * np.max(Q[b, s2]) - Q[b, s, a]
            Q[b, s, a] += alpha * td
    return B * steps / (time.perf_counter() - start)


def main() -> None:
    rng = np.random.default_rng(0)
    mdp = random_mdps(BATCH, STATES, ACTIONS, rng)
    cfg = QLearningConfig()
    steps = 20_000
    start = time.perf_counter()
    q_learning(mdp, mdp.R, steps, cfg, rng)
    batched = BATCH * steps / (time.perf_counter() - start)
    baseline = loop_baseline(mdp, 40, cfg, rng)
    print(f"batch {BATCH} MDPs x {STATES} states x {ACTIONS} actions")
    print(f"batched:  {batched:,.0f} updates/s (target >= 10,000,000)")
    print(f"loop:     {baseline:,.0f} updates/s")
    print(f"ratio:    {batched / baseline:,.0f}x (target >= 100x)")


if __name__ == "__main__":
    main()
