"""Exact and Monte Carlo randomization tests, vectorized.

Under simple randomization, conditioning on the observed arm sizes makes every relabeling with
those sizes equally likely, so the exact null distribution enumerates them all (2,018,016 for
the seed's 5/6/5 days). Other schemes redraw whole schedules the way they were drawn.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

EXACT_LIMIT = 5_000_000
"""Enumerate when the number of relabelings is at most this; otherwise Monte Carlo."""


@dataclass(frozen=True)
class TestResult:
    statistic: float
    p_value: float
    method: str
    """'exact (N relabelings)' or 'Monte Carlo (M draws)'."""
    mc_se: float = 0.0
    """Standard error of a Monte Carlo p-value (0 when exact)."""


def n_relabelings(sizes: Sequence[int]) -> int:
    n = sum(sizes)
    out = 1
    for s in sizes:
        out *= math.comb(n, s)
        n -= s
    return out


def partition_sums(values: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
    """Group sums for every split of `values` into groups of `sizes`.

    Returns k arrays that broadcast to one shape (C_1, ..., C_{k-1}), one cell per relabeling:
    no (count, k) table is materialized, and each level's sums are one matrix product.
    """
    values = np.asarray(values, dtype=float)
    idx = np.arange(values.size)  # remaining positions, one row per partial split
    parts: list[np.ndarray] = []
    for size in sizes[:-1]:
        r = idx.shape[-1]
        combos = np.array(list(itertools.combinations(range(r), size)), dtype=np.intp)
        member = np.zeros((len(combos), r), dtype=bool)
        member[np.arange(len(combos))[:, None], combos] = True
        comp = np.nonzero(~member)[1].reshape(len(combos), r - size)
        chosen = values[idx] @ member.T.astype(float)
        parts = [p[..., None] for p in parts] + [chosen]
        idx = idx[..., comp]
    parts.append(values.sum() - sum(parts, np.zeros(())))
    return parts


def between_statistic(sums: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """sum_k S_k^2 / n_k: with the data fixed, a monotone function of the one-way F."""
    return np.asarray(sum(s * s / n for s, n in zip(sums, sizes, strict=True)))


def at_least(null: np.ndarray, observed: float) -> np.ndarray:
    """Which null statistics are at least the observed one (up to rounding): the count every
    randomization p-value here reads."""
    return null >= observed - 1e-9 * max(1.0, abs(observed))


def omnibus(groups: Sequence[np.ndarray]) -> TestResult:
    """Exact one-way randomization test of 'the arm makes no difference', k >= 2 arms."""
    sizes = [len(g) for g in groups]
    values = np.concatenate(groups)
    observed = float(between_statistic([np.asarray(g.sum()) for g in groups], sizes))
    count = n_relabelings(sizes)
    if count <= EXACT_LIMIT:
        null = between_statistic(partition_sums(values, sizes), sizes)
        p = float(at_least(null, observed).mean())
        return TestResult(observed, p, f"exact ({count:,} relabelings)")
    return monte_carlo(
        values, sizes, lambda s: between_statistic(s, sizes), observed, np.random.default_rng(0)
    )


def contrast(a: np.ndarray, b: np.ndarray, alternative: str = "b>a") -> TestResult:
    """Exact randomization test of mean(b) - mean(a), one-sided ('b>a', 'a>b') or two-sided."""
    sizes = [len(a), len(b)]
    values = np.concatenate([a, b])
    count = n_relabelings(sizes)

    def stat(sums: Sequence[np.ndarray]) -> np.ndarray:
        diff = sums[1] / sizes[1] - sums[0] / sizes[0]
        if alternative == "a>b":
            return -diff
        if alternative == "two-sided":
            return np.abs(diff)
        return diff

    observed = float(stat([np.asarray(a.sum()), np.asarray(b.sum())]))
    if count <= EXACT_LIMIT:
        null = stat(partition_sums(values, sizes))
        p = float(at_least(null, observed).mean())
        return TestResult(observed, p, f"exact ({count:,} relabelings)")
    return monte_carlo(values, sizes, stat, observed, np.random.default_rng(0))


def contrast_normal(a: np.ndarray, b: np.ndarray) -> TestResult:
    """The one-sided ('b>a') randomization test of mean(b) - mean(a) by the normal limit of its
    randomization distribution (mean 0, variance from the pooled values, exact for any
    relabeling): for curves of many p-values, where each exact or Monte Carlo test of a
    long trial costs a fraction of a second. At thirty days per group of skewed
    (exponential) minutes, within 0.03 of the Monte Carlo p (tests/nof1/test_randomization)."""
    from scipy.stats import norm

    values = np.concatenate([a, b])
    n, na, nb = len(values), len(a), len(b)
    observed = float(b.mean() - a.mean())
    var = values.var() * n / (n - 1) * (1 / na + 1 / nb) if n > 1 else 0.0
    if var <= 0:
        return TestResult(observed, 1.0, "normal limit of the randomization distribution")
    p = float(norm.sf(observed / np.sqrt(var)))
    return TestResult(observed, p, "normal limit of the randomization distribution")


def monte_carlo(
    values: np.ndarray,
    sizes: Sequence[int],
    stat: Callable[[Sequence[np.ndarray]], np.ndarray],
    observed: float,
    rng: np.random.Generator,
    draws: int = 100_000,
    enough: int = 500,
) -> TestResult:
    """Random relabelings with the same sizes; p = (1 + #{T >= t}) / (1 + M). Stops early
    once `enough` relabelings reach the observed statistic: p is then far from 0 and known to
    about 5% of itself (its standard error is reported), and a long trial's analysis takes a
    fraction of a second, not a minute. A p below 0.25 draws more batches, up to `draws`."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    hits = 0
    done = 0
    while done < draws and hits < enough:
        m = min(2_000 if done == 0 else 10_000, draws - done)
        perm = rng.permuted(np.tile(labels, (m, 1)), axis=1)
        sums = [(values * (perm == k)).sum(axis=1) for k in range(len(sizes))]
        hits += int(at_least(stat(sums), observed).sum())
        done += m
    p = (1 + hits) / (1 + done)
    return TestResult(
        observed, p, f"Monte Carlo ({done:,} relabelings)", float(np.sqrt(p * (1 - p) / done))
    )


def schedule_test(
    labels: np.ndarray,
    stat: Callable[[np.ndarray], np.ndarray],
    redraw: Callable[[np.random.Generator, int], np.ndarray],
    rng: np.random.Generator,
    draws: int = 10_000,
) -> TestResult:
    """Randomization test for any scheme: redraw the schedule as it was drawn (blocks, max
    run), read off the labels of the analysed days, recompute the statistic. `redraw(rng, m)`
    returns m redrawn label rows; `stat` maps (rows, days) labels to one value per row."""
    observed = float(stat(labels[None, :])[0])
    hits = done = 0
    while done < draws and hits < 1_000:
        m = min(1_000, draws - done)
        hits += int(at_least(stat(redraw(rng, m)), observed).sum())
        done += m
    draws = done
    p = (1 + hits) / (1 + draws)
    return TestResult(
        observed,
        p,
        f"Monte Carlo ({draws:,} redrawn schedules)",
        float(np.sqrt(p * (1 - p) / draws)),
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (monotone, capped at 1)."""
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return [float(x) for x in adjusted]
