"""Randomization tests that redraw assignments the way the trial's schedule was drawn.

- Simple randomization: every relabeling of the analysed days with the observed arm sizes is
  equally likely (free relabeling; `randomization.contrast` / `omnibus`, exact when small).
- Blocks: each block is a shuffled multiset of arms, so the labels of a block's analysed days
  are permuted within that block only. Exact (every within-block permutation, enumerated)
  while there are at most `EXACT_LIMIT` of them, else Monte Carlo.
- A run limit (or any other rule): whole schedules redrawn by `draw_schedule` from fresh seeds.

A pairwise test of arms x and y uses the same rule on the days of x and y: within blocks it
permutes the x/y labels among the x/y days of each block (the sharp null of x = y, whatever
the other arms do); under a run limit it redraws whole schedules (the sharp null of no arm
effect at all). So a two-arm trial gets the same test from its contrast and its pair.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from quicktakes.nof1 import randomization as rt
from quicktakes.nof1.protocol import Protocol, draw_schedule

EXACT_LIMIT = 200_000
"""Enumerate within-block permutations when there are at most this many."""
DRAWS = 10_000
"""Monte Carlo draws otherwise."""

Stat = Callable[[np.ndarray], np.ndarray]
"""Maps label rows (m, days) to one statistic per row."""


def scheme(p: Protocol) -> str:
    """'simple', 'blocks' or 'schedule' (redraw whole schedules)."""
    if p.max_run:
        return "schedule"
    if p.scheme == "blocks":
        return "blocks" if p.given_schedule is None else "schedule"
    return "simple"


def block_of(p: Protocol, index: np.ndarray) -> np.ndarray:
    return np.asarray(index) // (p.block_size or len(p.arms))


def _distinct_perms(labels: Sequence[int]) -> list[tuple[int, ...]]:
    return sorted(set(itertools.permutations(labels)))


def n_within_block(blocks: np.ndarray, labels: np.ndarray) -> int:
    """How many distinct label arrangements permuting within blocks gives."""
    total = 1
    for b in np.unique(blocks):
        counts = Counter(labels[blocks == b].tolist())
        n = sum(counts.values())
        ways = math.factorial(n)
        for c in counts.values():
            ways //= math.factorial(c)
        total *= ways
    return total


def within_block_rows(blocks: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Every distinct arrangement of `labels` permuted within `blocks`, one row each."""
    order = np.argsort(blocks, kind="stable")
    per_block = [_distinct_perms(labels[blocks == b].tolist()) for b in np.unique(blocks)]
    rows = np.array([sum(combo, ()) for combo in itertools.product(*per_block)], dtype=int)
    out = np.empty_like(rows)
    out[:, order] = rows
    return out


def within_block_draws(
    blocks: np.ndarray, labels: np.ndarray, rng: np.random.Generator, m: int
) -> np.ndarray:
    """m random within-block permutations of `labels`."""
    keys = rng.random((m, labels.size)) + blocks[None, :] * 2.0  # sort inside each block
    order = np.argsort(keys, axis=1)
    base = np.argsort(blocks, kind="stable")  # positions sorted by block, as `order` sorts
    out = np.empty((m, labels.size), dtype=int)
    rows = np.arange(m)[:, None]
    out[rows, base[None, :]] = labels[order]
    return out


def test(
    p: Protocol,
    index: np.ndarray,
    labels: np.ndarray,
    stat: Stat,
    rng: np.random.Generator,
    draws: int = DRAWS,
) -> rt.TestResult:
    """The randomization test of `stat` (larger = more extreme) for the analysed days at
    `index` with arm `labels`, redrawn as the schedule was drawn (not for simple schemes,
    whose exact tests live in `randomization`)."""
    observed = float(stat(labels[None, :])[0])
    kind = scheme(p)
    if kind == "blocks":
        blocks = block_of(p, index)
        count = n_within_block(blocks, labels)
        if count <= EXACT_LIMIT:
            null = stat(within_block_rows(blocks, labels))
            pv = float(rt.at_least(null, observed).mean())
            return rt.TestResult(observed, pv, f"exact ({count:,} within-block permutations)")
        result = rt.schedule_test(labels, stat,
                                  lambda g, m: within_block_draws(blocks, labels, g, m), rng,
                                  draws)
        return replace(result, method=result.method.replace("redrawn schedules",
                                                            "within-block permutations"))
    total = int(index.max()) + 1

    def redraw(g: np.random.Generator, m: int) -> np.ndarray:
        seeds = g.integers(2**63 - 1, size=m)
        return np.array([draw_schedule(p, days=total, seed=int(s)) for s in seeds])[:, index]

    return rt.schedule_test(labels, stat, redraw, rng, draws)
