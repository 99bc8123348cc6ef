"""The two claims of the take "Devices and time to fall asleep: a small self-experiment",
each an `Experiment`: measure (the seed's raw data), judge, describe, show."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from pydantic import BaseModel

from quicktakes.ledger import Budget, Experiment, Point, RunContext, Shown, Trend, Verdict
from quicktakes.nof1 import example
from quicktakes.nof1.analysis import Analysis, TrialData, accrual, analyze, posterior
from quicktakes.nof1.catalog import SOME_P, SOME_POSTERIOR, STRONG_P, STRONG_POSTERIOR
from quicktakes.nof1.randomization import contrast
from quicktakes.stats import mean_ci

ARM_AXIS = "arm (0 = physical book, 1 = phone, 2 = laptop)"


def _matches_at_stated_precision(value: float, stated: str) -> bool:
    """Whether `value` rounds to `stated` at the number of decimals the seed wrote."""
    places = max(0, -Decimal(stated).as_tuple().exponent)  # type: ignore[operator]
    return round(value, places) == float(stated)


class MeansSizes(BaseModel):
    """The seed's 16 values: nothing to size, the same at every budget."""


@dataclass(frozen=True)
class MeansMeasured:
    recomputed: list[Point]
    stated: list[Point]
    mismatches: list[str]
    """One line per arm whose stated mean the raw data do not give at the precision stated."""


def measure_means(ctx: RunContext, sizes: MeansSizes) -> MeansMeasured:
    recomputed, stated_pts, mismatches = [], [], []
    for i, arm in enumerate(example.ARMS):
        values = np.array(example.RAW[arm])
        m, lo, hi = mean_ci(values)
        recomputed.append(Point(i, m, lo, hi, values.size))
        stated = example.STATED_MEANS[arm]
        stated_pts.append(Point.exact(i, float(stated)))
        if not _matches_at_stated_precision(m, stated):
            mismatches.append(
                f"{arm}: stated {stated}, data give {m:.1f} ({values.sum():g}/{values.size})"
            )
    return MeansMeasured(recomputed, stated_pts, mismatches)


def judge_means(m: MeansMeasured) -> Verdict:
    """A stated mean the raw data do not give, at the precision stated, is a discrepancy."""
    return Verdict.DISCREPANCY if m.mismatches else Verdict.HOLDS


def _means_text(m: MeansMeasured) -> str:
    return ", ".join(f"{p.y:.1f}" for p in m.recomputed)


def describe_means(m: MeansMeasured, v: Verdict) -> str:
    agree = [a for a in example.ARMS if not any(x.startswith(f"{a}:") for x in m.mismatches)]
    return f"The raw data give means {_means_text(m)}. " + (
        "; ".join(m.mismatches) + "; " if m.mismatches else ""
    ) + (f"{', '.join(agree)} agree with the stated figures at the precision stated." if agree
         else "No stated mean agrees with the data.")


def show_means(m: MeansMeasured) -> Shown:
    y = "mean minutes to fall asleep"
    trends = (
        Trend.of(
            "recomputed from the raw data",
            ARM_AXIS,
            y,
            m.recomputed,
            interval="95% t CI",
            style="markers",
        ),
        Trend.of(
            "stated in the seed", ARM_AXIS, y, m.stated, interval="as stated", style="markers"
        ),
        Trend.of(
            "recomputed mean minus stated mean",
            ARM_AXIS,
            "recomputed - stated (minutes)",
            [Point.exact(a.x, a.y - b.y) for a, b in zip(m.recomputed, m.stated, strict=True)],
            interval="exact",
            style="markers",
        ),
    )
    measured = f"means {_means_text(m)} vs stated 5.4, 21, 22"
    return Shown(measured, trends, {"raw": example.RAW, "stated": example.STATED_MEANS})


MEANS = Experiment(
    {b: MeansSizes() for b in Budget}, measure_means, judge_means, describe_means, show_means
)


class EffectSizes(BaseModel):
    """The seed's data, its power curve and the accrual trend: the same at every budget."""

    posterior_draws: int = 20_000
    """Draws per point of the posterior-as-days-accrue trend."""


@dataclass(frozen=True)
class EffectMeasured:
    p_contrast: float
    """One-sided exact p of book vs devices."""
    posterior_above: float
    """P(devices add more than the smallest effect | data)."""
    data: TrialData
    result: Analysis
    p_points: list[Point]
    posterior_points: list[Point]

    @property
    def p_omnibus(self) -> float:
        return self.result.omnibus.p_value if self.result.omnibus else float("nan")


def judge_effect(m: EffectMeasured) -> Verdict:
    """The seed's own bar for "quite strong evidence" (`EFFECT_RULE`)."""
    p_value, posterior_above = m.p_contrast, m.posterior_above
    if p_value < STRONG_P or posterior_above > STRONG_POSTERIOR:
        return Verdict.HOLDS
    if p_value < SOME_P or posterior_above > SOME_POSTERIOR:
        return Verdict.PARTLY
    return Verdict.FAILS


def _accrual(
    data: TrialData, ctx: RunContext, draws: int
) -> tuple[list[Point], list[Point]]:
    """p-value and posterior as the analysed days accrue, in the synthetic interleaved order."""
    p_pts, post_pts = [], []
    rng = ctx.rng("accrual")
    for k, a, b in accrual(data, range(4, len(data.analysed()) + 1)):
        p_pts.append(Point.exact(k, contrast(a, b, "b>a").p_value))
        post = posterior(a, b, data.protocol.smallest_effect, rng, draws=draws)
        q = post["p_effect_above_smallest"]
        lo = max(0.0, q - 1.96 * np.sqrt(q * (1 - q) / draws))
        hi = min(1.0, q + 1.96 * np.sqrt(q * (1 - q) / draws))
        post_pts.append(Point(k, q, lo, hi, draws))
    return p_pts, post_pts


def measure_effect(ctx: RunContext, sizes: EffectSizes) -> EffectMeasured:
    data = example.trial_data()
    result = analyze(data, ctx.rng("analysis"), with_power=True)
    return EffectMeasured(
        result.contrast_test.p_value, float(result.posterior["p_effect_above_smallest"]),
        data, result, *_accrual(data, ctx, sizes.posterior_draws),
    )


def describe_effect(m: EffectMeasured, v: Verdict) -> str:
    result, p_omnibus = m.result, m.p_omnibus
    extra = result.power.get("extra_days_interpolated")
    lo_days, hi_days = result.power.get("extra_days_interval", [None, None])
    if extra is None:
        extra_text = f"more than {result.power['curve'][-1]['extra_days']} more days"
    else:
        band = "-".join("beyond the grid" if d is None else f"{d:.0f}" for d in (lo_days, hi_days))
        extra_text = f"about {extra:.0f} more days (Monte Carlo interval {band})"
    strength = {
        Verdict.HOLDS: "strong evidence by the stated rule",
        Verdict.PARTLY: "some evidence, but not 'quite strong' by the stated rule",
        Verdict.FAILS: "not evidence of an effect by the stated rule",
    }[v]
    return (
        f"Book vs devices: exact one-sided p = {m.p_contrast:.3f} "
        f"({result.contrast_test.method}); three-arm omnibus p = {p_omnibus:.3f} "
        f"({result.omnibus.method if result.omnibus else 'n/a'}); "
        f"P(devices add > 5 min) = {m.posterior_above:.2f}: {strength} (p < {STRONG_P} or "
        f"posterior > {STRONG_POSTERIOR}). 80% power at a 5-minute effect needs {extra_text}."
    )


def show_effect(m: EffectMeasured) -> Shown:
    result, p_omnibus = m.result, m.p_omnibus
    x = "analysed days (arms interleaved in the seed's listed order)"
    trends = (
        Trend.of(
            "one-sided exact p, book vs devices", x, "p-value", m.p_points, interval="exact",
            log_y=True,
        ),
        Trend.of(
            "P(devices - book > 5 min | data)",
            x,
            "posterior probability",
            m.posterior_points,
            interval="95% Monte Carlo",
        ),
        Trend.of(
            "power at a 5-minute effect",
            "extra days beyond the 16 analysed",
            "power (one-sided, alpha 0.05)",
            [
                Point(c["extra_days"], c["power"], max(0.0, c["power"] - 1.96 * c["se"]),
                      min(1.0, c["power"] + 1.96 * c["se"]), 300)
                for c in result.power["curve"]
            ],
            interval="95% Monte Carlo (300 simulated trials)",
        ),
    )
    measured = (
        f"p = {m.p_contrast:.3f} (contrast), {p_omnibus:.2f} (omnibus); "
        f"P(>5 min) = {m.posterior_above:.2f}"
    )
    config = {
        "contrast": result.contrast,
        "direction": result.direction,
        "smallest_effect_minutes": m.data.protocol.smallest_effect,
        "order": "days interleaved round-robin in the seed's listed order (real order unknown)",
        "pairwise_holm": result.pairwise,
        "effects": [e.__dict__ for e in result.effects],
    }
    return Shown(measured, trends, config)


EFFECT_RULE = (
    f"holds if p < {STRONG_P} or posterior > {STRONG_POSTERIOR}; partly if p < {SOME_P} or "
    f"posterior > {SOME_POSTERIOR}"
)
EFFECT = Experiment(
    {b: EffectSizes() for b in Budget}, measure_effect, judge_effect, describe_effect, show_effect,
    rule=EFFECT_RULE,
)
