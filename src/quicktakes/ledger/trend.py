"""The unit of evidence: a named series of points, each with an interval and its sample size."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Point:
    """One measurement: `y` with the interval [`lo`, `hi`] from `n` observations.

    `n` is None for an exact computation, whose interval is the point itself.
    """

    x: float
    y: float
    lo: float
    hi: float
    n: int | None = None

    def __post_init__(self) -> None:
        for name in ("x", "y", "lo", "hi"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"Point.{name} must be finite, got {getattr(self, name)}")
        tol = 1e-9 * max(1.0, abs(self.y))
        if not (self.lo - tol <= self.y <= self.hi + tol):
            raise ValueError(f"interval [{self.lo}, {self.hi}] does not contain y={self.y}")

    @classmethod
    def exact(cls, x: float, y: float) -> Point:
        return cls(float(x), float(y), float(y), float(y), None)

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, "lo": self.lo, "hi": self.hi, "n": self.n}


@dataclass(frozen=True)
class Trend:
    """A series of points against one x axis; `interval` says what lo/hi mean."""

    name: str
    x_label: str
    y_label: str
    points: tuple[Point, ...]
    interval: str = "95% CI"
    log_x: bool = False
    log_y: bool = False
    style: str = "line"
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, x_label: str, y_label: str, points: Iterable[Point], **kw: Any) -> Trend:
        return cls(name, x_label, y_label, tuple(points), **kw)

    @property
    def xs(self) -> list[float]:
        return [p.x for p in self.points]

    @property
    def ys(self) -> list[float]:
        return [p.y for p in self.points]

    def last(self) -> Point:
        return self.points[-1]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "interval": self.interval,
            "points": [p.to_dict() for p in self.points],
        }
        if self.meta:
            d["meta"] = self.meta
        return d
