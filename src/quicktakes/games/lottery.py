"""Repeated lotteries: a sure amount per press vs a chance at a prize, summed over n presses.

Exact: the risky total is prize * K with K ~ Binomial(n, p), so every probability is a
binomial tail. No simulation is needed; `simulate` exists only as a check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field
from scipy import special


class LotteryConfig(BaseModel):
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


def _strict_above(threshold: float, n: int, p: float) -> float:
    """P(K > threshold) for K ~ Binomial(n, p), exact at integer thresholds (scipy.special's
    bdtrc is what scipy.stats.binom.sf calls, without importing scipy.stats)."""
    k = math.floor(threshold + 1e-9)
    if k < 0:
        return 1.0
    return float(special.bdtrc(k, n, p)) if k < n else 0.0


def _at_most(k: int, n: int, p: float) -> float:
    """P(K <= k)."""
    if k < 0:
        return 0.0
    return float(special.bdtr(k, n, p)) if k < n else 1.0


def _pmf(k: int, n: int, p: float) -> float:
    if p in (0.0, 1.0):
        return float(k == (0 if p == 0.0 else n))
    log = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    return float(np.exp(log + k * np.log(p) + (n - k) * np.log1p(-p)))


def odds(cfg: LotteryConfig) -> LotteryOdds:
    """Exact P(risky total >, <, = sure total) after `cfg.presses` presses."""
    n, p = cfg.presses, cfg.p
    if p < 1e-300:  # scipy's binomial tails overflow below ~1e-305; the change is < n * 1e-300
        p = 0.0
    t = cfg.sure * n / cfg.prize
    k_eq = round(t)
    p_equal = _pmf(k_eq, n, p) if abs(t - k_eq) < 1e-9 and 0 <= k_eq <= n else 0.0
    p_more = _strict_above(t, n, p)
    p_less = _at_most(math.ceil(t - 1e-9) - 1, n, p)
    p_lot = _strict_above((1 + cfg.margin) * t, n, p)
    return LotteryOdds(n, p_more, p_less, p_equal, p_lot)


def simulate(cfg: LotteryConfig, reps: int, rng: np.random.Generator) -> tuple[int, int, int]:
    """Monte Carlo counts of (more, less, equal) over `reps` independent sessions."""
    k = rng.binomial(cfg.presses, cfg.p, size=reps)
    risky = cfg.prize * k
    sure = cfg.sure * cfg.presses
    tol = 1e-9 * max(1.0, sure)
    more = int(np.sum(risky > sure + tol))
    less = int(np.sum(risky < sure - tol))
    return more, less, reps - more - less


def hoeffding_bound(cfg: LotteryConfig) -> float:
    """Upper bound on P(risky total <= sure total) when the risky button has the higher EV."""
    gap = cfg.p * cfg.prize - cfg.sure
    if gap <= 0:
        return 1.0
    return math.exp(-2 * cfg.presses * gap * gap / (cfg.prize * cfg.prize))


def press_grid(max_presses: int, points: int) -> list[int]:
    """Integers on a log grid from 1 to `max_presses`."""
    grid = np.unique(np.round(np.logspace(0, math.log10(max_presses), points)).astype(int))
    return [int(n) for n in grid]
