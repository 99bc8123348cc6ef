"""Repeated lotteries: a sure amount per press vs a chance at a prize, summed over n presses.

Exact: the risky total is prize * K with K ~ Binomial(n, p), so every probability is a
binomial tail. No simulation is needed; `simulate` exists only as a check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field


class LotterySpec(BaseModel):
    """Two buttons: `sure` for certain, or `prize` with probability `p`, pressed `presses` times."""

    p: float = Field(0.4, ge=0.0, le=1.0, description="chance the risky button pays")
    prize: float = Field(3.0, gt=0.0, description="what the risky button pays")
    sure: float = Field(1.0, ge=0.0, description="what the sure button pays")
    presses: int = Field(100, ge=1, description="number of presses")
    margin: float = Field(0.0, ge=0.0, description="'a lot more': risky > (1 + margin) * sure")


@dataclass(frozen=True)
class LotteryOdds:
    presses: int
    p_more: float
    p_less: float
    p_equal: float
    p_a_lot_more: float
    """P(risky total > (1 + margin) * sure total)."""


NATS = 50.0
"""Binomial terms more than this far below the largest (a factor e^-50 ~ 2e-22) are left out."""


def _log_pmf(k: int, n: int, p: float) -> float:
    return (
        math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        + k * math.log(p) + (n - k) * math.log1p(-p)
    )


def _walk(start: int, stop: int, n: int, p: float, peak: float) -> float:
    """Sum of the terms from `start` toward `stop` (inclusive, either direction), relative
    to e^peak: each chunk starts from an exact log term and steps by the ratio of consecutive
    terms; the walk stops once the terms fall NATS below `peak` (walking away from the mode,
    they only fall)."""
    step = 1 if stop >= start else -1
    odds_ = math.log(p) - math.log1p(-p)
    total, k, size = 0.0, start, 256
    while (stop - k) * step >= 0:
        end = min(stop, k + size - 1) if step > 0 else max(stop, k - size + 1)
        ks = np.arange(k, end + step, step, dtype=np.float64)[:-1]
        # log t(k+1) - log t(k) = log(n - k) - log(k + 1) + log(p / q), and back for steps down
        inc = (np.log(n - ks) - np.log(ks + 1) + odds_ if step > 0
               else np.log(ks) - np.log(n - ks + 1) - odds_)
        logs = _log_pmf(k, n, p) + np.concatenate(([0.0], np.cumsum(inc)))
        total += float(np.exp(logs - peak).sum())
        if logs[-1] < peak - NATS:
            break
        k, size = end + step, size * 2
    return total


def _between(lo: int, hi: int, n: int, p: float) -> float:
    """P(lo <= K <= hi) for K ~ Binomial(n, p): the terms summed outward from the largest one
    in the range (they are unimodal), in log space, so any n costs O(sqrt(n p q)) terms at
    most and tails far below 1 keep their relative precision. scipy.special.bdtr agrees to
    1e-10 (relative) up to n = 10^4 and 1e-8 at 10^6 (tested); at 10^9 scipy's own tail is
    off (not even monotone in k) where this sum matches the normal limit. Not importing scipy
    keeps `quicktakes lottery` starting in about half a second."""
    lo, hi = max(lo, 0), min(hi, n)
    if lo > hi:
        return 0.0
    if p == 0.0 or p == 1.0:
        edge = 0 if p == 0.0 else n
        return float(lo <= edge <= hi)
    top = min(max(math.floor((n + 1) * p), lo), hi)
    peak = _log_pmf(top, n, p)
    inside = _walk(top, hi, n, p, peak) + (_walk(top - 1, lo, n, p, peak) if top > lo else 0.0)
    return min(1.0, math.exp(peak) * inside)


def _strict_above(threshold: float, n: int, p: float) -> float:
    """P(K > threshold), exact at integer thresholds."""
    k = math.floor(threshold + 1e-9)
    return _between(k + 1, n, n, p) if k >= 0 else 1.0


def _at_most(k: int, n: int, p: float) -> float:
    """P(K <= k)."""
    return _between(0, k, n, p)


def _pmf(k: int, n: int, p: float) -> float:
    return _between(k, k, n, p)


def odds(cfg: LotterySpec) -> LotteryOdds:
    """Exact P(risky total >, <, = sure total) after `cfg.presses` presses."""
    n, p = cfg.presses, cfg.p
    if p < 1e-300:  # log(p) is still finite, but the change is < n * 1e-300
        p = 0.0
    t = cfg.sure * n / cfg.prize
    k_eq = round(t)
    p_equal = _pmf(k_eq, n, p) if abs(t - k_eq) < 1e-9 and 0 <= k_eq <= n else 0.0
    p_more = _strict_above(t, n, p)
    p_less = _at_most(math.ceil(t - 1e-9) - 1, n, p)
    p_lot = _strict_above((1 + cfg.margin) * t, n, p)
    return LotteryOdds(n, p_more, p_less, p_equal, p_lot)


def simulate(cfg: LotterySpec, reps: int, rng: np.random.Generator) -> tuple[int, int, int]:
    """Monte Carlo counts of (more, less, equal) over `reps` independent sessions."""
    k = rng.binomial(cfg.presses, cfg.p, size=reps)
    risky = cfg.prize * k
    sure = cfg.sure * cfg.presses
    tol = 1e-9 * max(1.0, sure)
    more = int(np.sum(risky > sure + tol))
    less = int(np.sum(risky < sure - tol))
    return more, less, reps - more - less


def hoeffding_bound(cfg: LotterySpec) -> float:
    """Upper bound on P(risky total <= sure total) when the risky button has the higher EV."""
    gap = cfg.p * cfg.prize - cfg.sure
    if gap <= 0:
        return 1.0
    return math.exp(-2 * cfg.presses * gap * gap / (cfg.prize * cfg.prize))


def press_grid(max_presses: int, points: int) -> list[int]:
    """Integers on a log grid from 1 to `max_presses`."""
    grid = np.unique(np.round(np.logspace(0, math.log10(max_presses), points)).astype(int))
    return [int(n) for n in grid]
