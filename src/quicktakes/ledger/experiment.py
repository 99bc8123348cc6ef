"""The claim contract: one sizes table per budget, measure -> judge -> describe, and what
the report shows, composed into the evidence in one place.

A family writes the four steps as plain functions and declares them once:

    LOTTERY = Experiment(LOTTERY_SIZES, measure_lottery, judge_lottery, describe_lottery,
                         present_lottery)

and its catalog names it (`run="quicktakes.games.claims:LOTTERY"`). The judge is pure (a rule
on the numbers), the description reads only the numbers, and results.json records the sizes
the run used and the judge's rule beside the family's own config.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from quicktakes.ledger.claim import Budget, Evidence, RunContext
from quicktakes.ledger.trend import Trend
from quicktakes.ledger.verdict import Verdict

S = TypeVar("S", bound=BaseModel)
M = TypeVar("M")


@dataclass(frozen=True)
class Shown:
    """What the report shows of a measurement besides the verdict and the finding."""

    measured: str
    """The headline value, one line."""
    trends: tuple[Trend, ...]
    config: dict[str, Any] = field(default_factory=dict)
    """What decides the numbers beyond the sizes (constants, lists, the grid)."""


@dataclass(frozen=True)
class Experiment(Generic[S, M]):
    sizes: Mapping[Budget, S]
    measure: Callable[[RunContext, S], M]
    judge: Callable[[M], Verdict]
    describe: Callable[[M, Verdict], str]
    show: Callable[[M], Shown]
    rule: str = ""
    """The rule in words, rendered from the judge's constants; default: the judge's
    docstring, which sits next to the code that applies it."""

    def rule_text(self) -> str:
        return self.rule or " ".join((inspect.getdoc(self.judge) or "").split())

    def __call__(self, ctx: RunContext) -> Evidence:
        sizes = self.sizes[ctx.budget]
        m = self.measure(ctx, sizes)
        v = self.judge(m)
        shown = self.show(m)
        config = sizes.model_dump() | shown.config | {"rule": self.rule_text()}
        return Evidence(v, self.describe(m, v), shown.measured, shown.trends, config)
