"""Tabular Q-learning, vectorized over a batch of MDPs, and exact value iteration.

Each step updates one (s, a) pair in every MDP of the batch, as asynchronous Q-learning does:
Q(s,a) += alpha_n (r(s,a) + gamma max_a' Q(s',a') - Q(s,a)), with alpha_n = (1 + n(s,a))^-w.
For w in (1/2, 1] the rates satisfy Robbins-Monro (sum alpha = inf, sum alpha^2 < inf).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from quicktakes.reward.mdp import MDPBatch

CHUNK = 512
"""Random numbers are drawn this many steps at a time: one generator call, not thousands."""


class QLearningConfig(BaseModel):
    gamma: float = Field(0.9, ge=0.0, lt=1.0, description="discount factor, in [0, 1)")
    exploration: Literal["uniform", "epsilon-greedy"] = Field(
        "uniform", description="uniform over (s, a) pairs, or epsilon-greedy episodes"
    )
    epsilon: float = Field(0.2, ge=0.0, le=1.0, description="exploration rate (epsilon-greedy)")
    lr_exponent: float = Field(0.7, gt=0.5, le=1.0, description="w in alpha_n = (1+n)^-w")
    max_episode_steps: int = Field(200, ge=1, description="episode reset (epsilon-greedy)")


def value_iteration(
    mdp: MDPBatch, R: np.ndarray, gamma: float, tol: float = 1e-12, max_iter: int = 100_000
) -> np.ndarray:
    """Exact Q* for reward R (B, S, A): iterate the Bellman optimality operator to `tol`."""
    P = mdp.P
    Q = np.zeros_like(R, dtype=float)
    for _ in range(max_iter):
        V = Q.max(axis=2)
        Q_new = R + gamma * np.einsum("bsao,bo->bsa", P, V)
        if np.max(np.abs(Q_new - Q)) < tol:
            return Q_new
        Q = Q_new
    return Q


def q_learning(
    mdp: MDPBatch,
    R: np.ndarray,
    steps: int,
    cfg: QLearningConfig,
    rng: np.random.Generator,
    checkpoints: Sequence[int] = (),
    on_checkpoint: Callable[[int, np.ndarray], None] | None = None,
) -> np.ndarray:
    """Run `steps` updates in every MDP; call `on_checkpoint(step, Q)` at the given steps."""
    B, S, A = mdp.shape
    marks = sorted({int(c) for c in checkpoints if 0 < c <= steps})
    state = _Run(mdp, R, cfg, rng)
    done = 0
    for mark in sorted({*marks, steps}):
        while done < mark:
            k = min(CHUNK, mark - done)
            if cfg.exploration == "uniform":
                state.uniform_chunk(k)
            else:
                state.epsilon_greedy_chunk(k)
            done += k
        if on_checkpoint and mark in marks:
            on_checkpoint(mark, state.values())
    return np.ascontiguousarray(state.values())


def _sparse_outcomes(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each (b, s, a) row as its K most likely outcomes and their CDF, K = the widest support.

    Sampling then reads K numbers, not S + 1: for Taxi that is 1 instead of 501.
    """
    K = max(1, int((T > 0).sum(axis=3).max()))
    targets = np.argsort(-T, axis=3, kind="stable")[..., :K]
    cum = np.cumsum(np.take_along_axis(T, targets, axis=3), axis=3)
    cum[..., -1] = 1.0
    return targets, cum


class _Run:
    """The mutable state of one batched Q-learning run, on flat arrays for speed.

    Q is stored action-major, (A, B*(S+1)), so max over actions is A contiguous `take`s rather
    than a reduction over a short axis (numpy is slow at those). Each MDP has one extra terminal
    row (index S) that stays 0, so max_a' Q(terminal, a') = 0 needs no special case.
    """

    def __init__(
        self, mdp: MDPBatch, R: np.ndarray, cfg: QLearningConfig, rng: np.random.Generator
    ):
        B, S, A = mdp.shape
        self.B, self.S, self.A, self.cfg, self.rng = B, S, A, cfg, rng
        self.b = np.arange(B)
        self.rows = B * (S + 1)
        targets, cum = _sparse_outcomes(mdp.T)
        self.K = targets.shape[3]
        self.targets_flat = targets.reshape(-1)
        self.cum_cols = [np.ascontiguousarray(cum[..., i].reshape(-1)) for i in range(self.K)]
        self.Q = np.zeros((A, self.rows))
        self.Qf = self.Q.reshape(-1)
        R_ext = np.concatenate([R, np.zeros((B, 1, A))], axis=1)
        self.Rf = np.ascontiguousarray(R_ext.transpose(2, 0, 1)).reshape(-1)
        self.counts = np.zeros(A * self.rows, dtype=np.int64)
        self.n_active = mdp.active.sum(axis=1)
        self.active_idx = np.argsort(~mdp.active, axis=1, kind="stable").reshape(-1)
        self.start_cum = np.cumsum(mdp.start, axis=1)
        self.start_cum[:, -1] = 1.0
        self.cur = (rng.random((B, 1)) < self.start_cum).argmax(axis=1)
        self.ep_len = np.zeros(B, dtype=np.int64)
        self._alpha = np.ones(0)

    def values(self) -> np.ndarray:
        """Q as (B, S, A)."""
        return self.Q.reshape(self.A, self.B, self.S + 1)[:, :, : self.S].transpose(1, 2, 0)

    def _alpha_table(self, size: int) -> np.ndarray:
        """alpha_n = n^-w looked up, not recomputed: a power per update is the slow part."""
        if self._alpha.size < size:
            n = np.arange(max(size, 2 * self._alpha.size), dtype=float)
            n[0] = 1.0
            self._alpha = n**-self.cfg.lr_exponent
        return self._alpha

    def _max_over_actions(self, rows: np.ndarray) -> np.ndarray:
        best = self.Q[0].take(rows)
        for col in self.Q[1:]:
            np.maximum(best, col.take(rows), out=best)
        return best

    def _sample_next(self, s: np.ndarray, a: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Next outcome index (S = terminated) by inverse CDF; s, a, u share any shape (..., B).

        np.take on flat arrays, not fancy indexing: several times faster per element.
        """
        row = (self.b * self.S + s) * self.A + a
        i = np.zeros(row.shape, dtype=np.int64)
        for col in self.cum_cols[:-1]:
            i += u >= col.take(row)
        return np.asarray(self.targets_flat.take(row * self.K + i))

    def _update(self, key: np.ndarray, next_rows: np.ndarray, reward: np.ndarray) -> None:
        """One Q-learning update in every MDP: key = a*rows + row of (b, s)."""
        n = self.counts.take(key) + 1
        self.counts.put(key, n)
        q = self.Qf.take(key)
        target = reward + self.cfg.gamma * self._max_over_actions(next_rows)
        self.Qf.put(key, q + self._alpha.take(n) * (target - q))

    def uniform_chunk(self, k: int) -> None:
        """k steps of uniform (s, a) sampling: everything but the update itself is vectorized,
        since neither the pairs nor the next states depend on Q."""
        B, S, A = self.B, self.S, self.A
        s = self.active_idx.take(
            self.b * S + (self.rng.random((k, B)) * self.n_active).astype(np.int64)
        )
        a = self.rng.integers(A, size=(k, B))
        o = self._sample_next(s, a, self.rng.random((k, B)))
        key = a * self.rows + self.b * (S + 1) + s
        reward = self.Rf.take(key)
        next_rows = self.b * (S + 1) + o
        self._alpha_table(int(self.counts.max()) + k + 1)
        for j in range(k):
            self._update(key[j], next_rows[j], reward[j])

    def epsilon_greedy_chunk(self, k: int) -> None:
        """k steps along epsilon-greedy episodes, reset on termination or the step limit."""
        B, S, A, b = self.B, self.S, self.A, self.b
        u_action = self.rng.integers(A, size=(k, B))
        u_eps, u_next, u_start = (self.rng.random((k, B)) for _ in range(3))
        self._alpha_table(int(self.counts.max()) + k + 1)
        for j in range(k):
            s = self.cur
            row = b * (S + 1) + s
            greedy = self.Q[:, row].argmax(axis=0)
            a = np.where(u_eps[j] < self.cfg.epsilon, u_action[j], greedy)
            o = self._sample_next(s, a, u_next[j])
            key = a * self.rows + row
            self._update(key, b * (S + 1) + o, self.Rf.take(key))
            self.ep_len += 1
            reset = (o == S) | (self.ep_len >= self.cfg.max_episode_steps)
            if reset.any():
                o[reset] = (u_start[j][reset, None] < self.start_cum[reset]).argmax(axis=1)
                self.ep_len[reset] = 0
            self.cur = o
