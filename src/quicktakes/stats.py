"""Interval estimates shared by every experiment family.

The quantiles come from scipy.special (the functions behind scipy.stats' ppf), which imports
in a fraction of scipy.stats' time: commands that only need an interval start fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from quicktakes.ledger.trend import Point


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion: sane at 0 and n, unlike Wald's."""
    if n <= 0:
        return (0.0, 1.0)
    z = float(special.ndtri(0.5 + level / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean with a Student-t interval; a single value gets a degenerate interval."""
    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if v.size < 2:
        return (m, m, m)
    se = float(v.std(ddof=1) / np.sqrt(v.size))
    if se == 0.0:
        return (m, m, m)
    t = float(special.stdtrit(v.size - 1, 0.5 + level / 2))
    return (m, m - t * se, m + t * se)


@dataclass(frozen=True)
class Rate:
    """k of n, with its Wilson interval: a count that reads as a share."""

    k: int
    n: int

    @property
    def share(self) -> float:
        return self.k / self.n if self.n else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n) if self.n else (0.0, 1.0)

    def point(self, x: float) -> Point:
        return Point(x, self.share, *self.interval, self.n)

    def __str__(self) -> str:
        lo, hi = self.interval
        return f"{self.k}/{self.n} [{lo:.2f}, {hi:.2f}]"
