"""What the rollback runs add up to, per arm (learning rate x verifier): where the steps from A
landed, the runs kept truly good, the share of updates undone and the cost against the safe
optimum. The claim judges these numbers and `quicktakes rollback run` prints them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from quicktakes.insights.catalog import KEPT, MODEST, RARE, SMALL_COST
from quicktakes.insights.rollback import Arm, RollbackResult, RollbackSpec, RunTrace, Verifier
from quicktakes.stats import Rate


def _from_a(traces: list[RunTrace], verifier: Verifier) -> Counter[str]:
    """Where the steps that started in A landed, over the given runs, for one verifier."""
    out: Counter[str] = Counter()
    for t in traces:
        out.update(to for frm, to in t.moves[verifier] if frm == "A")
    return out


@dataclass(frozen=True)
class ArmMeasured:
    a_to_c: Rate
    """Steps from A that landed in C, of all steps from A (the run without rollback at this
    rate, watched by this verifier, and the run it guards)."""
    a_to_b: Rate
    kept: Rate
    """Rollback runs whose final model is truly good."""
    cost: float
    """Mean over runs of 1 - final performance with rollback / the safe optimum's."""
    undone: float

    def guards(self) -> bool:
        """A -> C shown rare and most runs shown kept good, whatever the cost."""
        return (
            self.a_to_c.n > 0 and self.a_to_c.interval[1] <= RARE
            and self.kept.interval[0] >= KEPT
        )

    def meets(self) -> bool:
        return self.guards() and self.cost <= SMALL_COST

    def misses(self) -> bool:
        """Shown not to meet the bar (not merely too wide to tell)."""
        return self.a_to_c.interval[0] > RARE or self.kept.interval[1] < KEPT or (
            self.cost > SMALL_COST
        )


@dataclass(frozen=True)
class RollbackMeasured:
    arms: dict[Arm, ArmMeasured]
    modest: tuple[float, ...]
    """The verifier levels of modest coverage (at most a quarter of the states)."""
    kept_without: dict[float, Rate]
    """Per rate: runs without rollback whose final model is truly good."""
    pressure: dict[float, Rate]
    """Per rate: runs without rollback that were ever truly bad (training pushes there)."""
    result: RollbackResult | None = None
    """The runs these counts come from (the trends read them)."""

    def candidates(self) -> list[Arm]:
        return [a for a in self.arms if a.verifier.level in self.modest]

    def headline(self) -> Arm:
        """The arm the finding leads with: the first that meets the bar, else the modest one
        with the lowest A -> C upper bound."""
        arms = self.candidates()
        met = [a for a in arms if self.arms[a].meets()]
        if met:
            return met[0]
        return min(arms, key=lambda a: (self.arms[a].a_to_c.interval[1], a))


def measure_rollback(r: RollbackResult) -> RollbackMeasured:
    runs, arms = r.runs, {}
    for lr in r.spec.learning_rates:
        for v in r.spec.verifiers:
            arm = Arm(lr, v)
            landed = _from_a([w.watched[lr] for w in runs] + [w.rolled[arm] for w in runs], v)
            total = sum(landed.values())
            arms[arm] = ArmMeasured(
                Rate(landed["C"], total),
                Rate(landed["B"], total),
                Rate(sum(not w.rolled[arm].bad[-1] for w in runs), len(runs)),
                float(np.mean([1 - w.rolled[arm].perf[-1] / w.safe for w in runs])),
                float(np.mean([w.rolled[arm].undone / r.spec.steps for w in runs])),
            )
    levels = r.spec.levels
    modest = tuple(lv for lv in levels if lv <= MODEST) or (min(levels),)
    lrs = r.spec.learning_rates
    return RollbackMeasured(
        arms,
        modest,
        {lr: Rate(sum(not w.watched[lr].bad[-1] for w in runs), len(runs)) for lr in lrs},
        {lr: Rate(sum(any(w.watched[lr].bad) for w in runs), len(runs)) for lr in lrs},
        r,
    )


def level_label(spec: RollbackSpec, level: float) -> str:
    return f"{level:g} states" if spec.verifier_samples else f"coverage {level:.0%}"


def arm_label(spec: RollbackSpec, arm: Arm) -> str:
    return f"{arm.verifier.notion}, {level_label(spec, arm.verifier.level)}, rate {arm.lr:g}"
