"""The two claims of the take "Devices and time to fall asleep: a small self-experiment"."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from quicktakes.ledger import Evidence, Point, RunContext, Trend, Verdict
from quicktakes.nof1 import example
from quicktakes.nof1.analysis import TrialData, accrual, analyze, posterior
from quicktakes.nof1.catalog import SOME_P, SOME_POSTERIOR, STRONG_P, STRONG_POSTERIOR
from quicktakes.nof1.randomization import contrast
from quicktakes.stats import mean_ci

ARM_AXIS = "arm (0 = physical book, 1 = phone, 2 = laptop)"


def _matches_at_stated_precision(value: float, stated: str) -> bool:
    """Whether `value` rounds to `stated` at the number of decimals the seed wrote."""
    places = max(0, -Decimal(stated).as_tuple().exponent)  # type: ignore[operator]
    return round(value, places) == float(stated)


def judge_means(mismatches: int) -> Verdict:
    """A stated mean the raw data do not give, at the precision stated, is a discrepancy."""
    return Verdict.DISCREPANCY if mismatches else Verdict.HOLDS


def run_means(ctx: RunContext) -> Evidence:
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
    y = "mean minutes to fall asleep"
    trends = (
        Trend.of(
            "recomputed from the raw data",
            ARM_AXIS,
            y,
            recomputed,
            interval="95% t CI",
            style="markers",
        ),
        Trend.of(
            "stated in the seed", ARM_AXIS, y, stated_pts, interval="as stated", style="markers"
        ),
        Trend.of(
            "recomputed mean minus stated mean",
            ARM_AXIS,
            "recomputed - stated (minutes)",
            [Point.exact(a.x, a.y - b.y) for a, b in zip(recomputed, stated_pts, strict=True)],
            interval="exact",
            style="markers",
        ),
    )
    verdict = judge_means(len(mismatches))
    means = ", ".join(f"{p.y:.1f}" for p in recomputed)
    agree = [a for a in example.ARMS if not any(m.startswith(f"{a}:") for m in mismatches)]
    finding = f"The raw data give means {means}. " + (
        "; ".join(mismatches) + "; " if mismatches else ""
    ) + (f"{', '.join(agree)} agree with the stated figures at the precision stated." if agree
         else "No stated mean agrees with the data.")
    measured = f"means {means} vs stated 5.4, 21, 22"
    return Evidence(
        verdict, finding, measured, trends, {"raw": example.RAW, "stated": example.STATED_MEANS}
    )




def judge_effect(p_value: float, posterior_above: float) -> Verdict:
    if p_value < STRONG_P or posterior_above > STRONG_POSTERIOR:
        return Verdict.HOLDS
    if p_value < SOME_P or posterior_above > SOME_POSTERIOR:
        return Verdict.PARTLY
    return Verdict.FAILS


def _accrual(data: TrialData, ctx: RunContext) -> tuple[list[Point], list[Point]]:
    """p-value and posterior as the analysed days accrue, in the synthetic interleaved order."""
    p_pts, post_pts = [], []
    rng = ctx.rng("accrual")
    for k, a, b in accrual(data, range(4, len(data.analysed()) + 1)):
        p_pts.append(Point.exact(k, contrast(a, b, "b>a").p_value))
        post = posterior(a, b, data.protocol.smallest_effect, rng, draws=20_000)
        q = post["p_effect_above_smallest"]
        lo = max(0.0, q - 1.96 * np.sqrt(q * (1 - q) / 20_000))
        hi = min(1.0, q + 1.96 * np.sqrt(q * (1 - q) / 20_000))
        post_pts.append(Point(k, q, lo, hi, 20_000))
    return p_pts, post_pts


def run_effect(ctx: RunContext) -> Evidence:
    data = example.trial_data()
    result = analyze(data, ctx.rng("analysis"), with_power=True)
    p_contrast = result.contrast_test.p_value
    p_omnibus = result.omnibus.p_value if result.omnibus else float("nan")
    q = result.posterior["p_effect_above_smallest"]
    extra = result.power.get("extra_days_interpolated")
    lo_days, hi_days = result.power.get("extra_days_interval", [None, None])
    p_pts, post_pts = _accrual(data, ctx)
    x = "analysed days (arms interleaved in the seed's listed order)"
    trends = (
        Trend.of(
            "one-sided exact p, book vs devices", x, "p-value", p_pts, interval="exact", log_y=True
        ),
        Trend.of(
            "P(devices - book > 5 min | data)",
            x,
            "posterior probability",
            post_pts,
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
    verdict = judge_effect(p_contrast, q)
    if extra is None:
        extra_text = f"more than {result.power['curve'][-1]['extra_days']} more days"
    else:
        band = "-".join("beyond the grid" if d is None else f"{d:.0f}" for d in (lo_days, hi_days))
        extra_text = f"about {extra:.0f} more days (Monte Carlo interval {band})"
    strength = {
        Verdict.HOLDS: "strong evidence by the stated rule",
        Verdict.PARTLY: "some evidence, but not 'quite strong' by the stated rule",
        Verdict.FAILS: "not evidence of an effect by the stated rule",
    }[verdict]
    finding = (
        f"Book vs devices: exact one-sided p = {p_contrast:.3f} "
        f"({result.contrast_test.method}); three-arm omnibus p = {p_omnibus:.3f} "
        f"({result.omnibus.method if result.omnibus else 'n/a'}); "
        f"P(devices add > 5 min) = {q:.2f}: {strength} (p < {STRONG_P} or posterior > "
        f"{STRONG_POSTERIOR}). 80% power at a 5-minute effect needs {extra_text}."
    )
    measured = f"p = {p_contrast:.3f} (contrast), {p_omnibus:.2f} (omnibus); P(>5 min) = {q:.2f}"
    config = {
        "contrast": result.contrast,
        "direction": result.direction,
        "smallest_effect_minutes": data.protocol.smallest_effect,
        "rule": f"holds if p < {STRONG_P} or posterior > {STRONG_POSTERIOR}; partly if p < "
        f"{SOME_P} or posterior > {SOME_POSTERIOR}",
        "order": "days interleaved round-robin in the seed's listed order (real order unknown)",
        "pairwise_holm": result.pairwise,
        "effects": [e.__dict__ for e in result.effects],
    }
    return Evidence(verdict, finding, measured, trends, config)
