"""Trial plots (outcome over time by arm, per-arm distributions) and the analysis HTML page."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from quicktakes.nof1.analysis import Analysis, TrialData

WIDE = (7.0, 11)
"""A figure's width in inches and its font size for a desktop page (about 640-1000 px wide)."""
NARROW = (3.6, 12)
"""The same for a phone: at 400 px a 3.6-inch figure is drawn about 1.4x, so 12 pt text
reads at about 17 px, above the page's 16 px body text."""


def _svg(fig: Any, prefix: str) -> str:
    """The figure as SVG text whose element ids carry `prefix` (a page holds several); text
    stays text (not paths), escaped by matplotlib, so it can be measured and read."""
    from matplotlib import rc_context

    from quicktakes.report.plot import unique_ids

    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = re.sub(r"<metadata>.*?</metadata>", "", buf.getvalue(), flags=re.S)
    return unique_ids(svg[svg.index("<svg") :], prefix)


def trial_svg(data: TrialData, narrow: bool = False) -> str:
    """A dated timeline by arm with excluded days drawn hollow and labelled with their
    reason, beside (or, narrow, above) the per-arm distributions."""
    p = data.protocol
    width, size = NARROW if narrow else WIDE
    if narrow:
        fig = Figure(figsize=(width, 6.4))  # no pyplot: no global backend, nothing to close
        ax1, ax2 = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    else:
        fig = Figure(figsize=(width, 3.6))
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    days = data.analysed()
    for k, arm in enumerate(p.arms):
        pts = [(d.date, d.value) for d in days if d.arm == arm]
        if pts:
            xs, ys = zip(*pts, strict=True)
            (dots,) = ax1.plot(xs, ys, "o", ms=4, label=arm)
            ax2.boxplot([list(ys)], positions=[k], widths=0.5)
            ax2.plot([k] * len(ys), ys, "o", ms=3, alpha=0.6, color=dots.get_color())
    for d in data.days:
        if d.excluded and d.value is not None:
            ax1.plot([d.date], [d.value], "o", ms=6, mfc="none", color="grey")
            ax1.annotate(d.excluded[:28], (d.date, d.value), fontsize=size - 2, color="grey",
                         xytext=(3, 3), textcoords="offset points")
    ax1.set_ylabel(p.outcome, fontsize=size)
    for ax in (ax1, ax2):
        ax.tick_params(labelsize=size)
    import matplotlib.dates as mdates

    ax1.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=5 if narrow else 8))
    ax1.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    ax1.legend(fontsize=size, loc="upper center", bbox_to_anchor=(0.5, -0.12 if narrow else -0.1),
               ncol=1 if narrow else min(3, len(p.arms)), frameon=False)
    slanted = len(p.arms) > 2
    ax2.set_xticks(range(len(p.arms)), p.arms, fontsize=size, rotation=30 if slanted else 0,
                   ha="right" if slanted else "center", rotation_mode="anchor")
    ax2.set_ylabel(p.outcome, fontsize=size)
    fig.tight_layout()
    return _svg(fig, "timeline-n-" if narrow else "timeline-")


NORMAL_FROM = 30
"""Days per group from which the accrual curve reads the randomization test's normal limit
(`randomization.contrast_normal`) instead of the exact or Monte Carlo test."""


def accrued_p(a: np.ndarray, b: np.ndarray) -> float:
    from quicktakes.nof1 import randomization as rt

    if min(len(a), len(b)) >= NORMAL_FROM:
        return rt.contrast_normal(a, b).p_value
    return rt.contrast(a, b, "b>a").p_value


def accrual_curve(data: TrialData, points: int = 30) -> tuple[list[int], list[float]]:
    """(analysed days, one-sided p) as the days accrue, at most `points` evaluations."""
    from quicktakes.nof1.analysis import accrual

    at = sorted({int(round(v)) for v in np.linspace(4, len(data.analysed()), points)})
    groups = accrual(data, at)
    return [k for k, _, _ in groups], [accrued_p(a, b) for _, a, b in groups]


def accrual_svg(
    data: TrialData, points: int = 30, narrow: bool = False,
    curve: tuple[list[int], list[float]] | None = None,
) -> str:
    """The contrast's one-sided p-value as the analysed days accrue (at most `points`
    evaluations, or the `curve` given), on a log axis labelled in plain numbers with alpha
    drawn; from `NORMAL_FROM` days per group, by the test's normal limit (a curve of 30 tests
    on a long trial in milliseconds, not seconds)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    width, size = NARROW if narrow else WIDE
    xs, ps = curve or accrual_curve(data, points)
    fig = Figure(figsize=(width, 3.0 if narrow else 2.6))
    ax = fig.subplots()
    ax.plot(xs, ps, ".-", label="one-sided p of the contrast")
    alpha = data.protocol.alpha
    ax.axhline(alpha, color="grey", ls=":", label=f"alpha {alpha:g}")
    ax.set_yscale("log")
    low = min([*ps, alpha, 1.0]) if ps else alpha
    ticks = [t for t in (0.0001, 0.001, 0.01, alpha, 0.1, 0.5, 1.0) if t >= low / 2]
    ax.yaxis.set_major_locator(FixedLocator(sorted(set(ticks))))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.set_xlabel("analysed days", fontsize=size)
    ax.set_ylabel("p-value", fontsize=size)
    ax.tick_params(labelsize=size)
    if narrow:  # below the axes: a phone's plot has no room beside the curve
        ax.legend(fontsize=size, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    else:
        ax.legend(fontsize=size, frameon=False)
    fig.tight_layout()
    return _svg(fig, "accrual-n-" if narrow else "accrual-")


def p_text(p: float) -> str:
    """A p-value as people read it: never '0.0000'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def headline(data: TrialData, result: Analysis) -> str:
    """One sentence: the effect in the hypothesis's words with its 95% interval and one-sided
    p, and the posterior probability that the hypothesised arms' advantage exceeds the
    smallest effect of interest."""
    p = data.protocol
    text = result.in_words
    q = result.posterior.get("p_effect_above_smallest")
    if q is not None:
        better = " and ".join(p.contrast[0])
        text += f"; P({better} better by more than {p.smallest_effect:g}) = {q:.2f}"
    return text + "."


def analysis_html(
    data: TrialData,
    result: Analysis,
    versions: list[dict[str, Any]] | None = None,
    shown: dict[str, object] | None = None,
    home: str | None = None,
) -> str:
    """A self-contained page that fits a phone: the hypothesis and the effect in words, arms,
    the dated timeline, the evidence as days accrue (each drawn for the width), the tests and
    effects as tables, the protocol as a readable table with its commitment and amendments,
    and the analysis as JSON folded away. `shown`: the protocol as it may be shown now
    (`trials.public_protocol`: the seed sealed while the trial runs); `home`: the address of
    the trial's pages (the server's), None for a file of its own."""
    from markupsafe import Markup

    from quicktakes.nof1.pages import render

    p = data.protocol
    curve = accrual_curve(data)  # its tests computed once for both widths
    figures = {
        "timeline": {"wide": Markup(trial_svg(data)),
                     "narrow": Markup(trial_svg(data, narrow=True))},
        "accrual": {"wide": Markup(accrual_svg(data, curve=curve)),
                    "narrow": Markup(accrual_svg(data, narrow=True, curve=curve))},
    }
    return render(
        "analysis.html.j2", title=f"{p.name}: analysis", home=home, name=p.name, p=p,
        result=result, headline=headline(data, result), figures=figures,
        protocol=protocol_rows(shown or p.canonical()), versions=versions or [],
        as_json=json.dumps(result.to_dict(), indent=2, default=str), fmt=_fmt,
    )


def protocol_rows(shown: dict[str, object]) -> list[tuple[str, str]]:
    """The protocol as a person reads it: plain labels, lists joined, yes/no, dashes."""
    out = []
    for key, value in shown.items():
        if key == "given_schedule":
            continue
        if isinstance(value, dict):
            parts = [f"{k.replace('_', ' ')} {v}" for k, v in value.items() if v is not None]
            text = "; ".join(parts) or "none"
        elif isinstance(value, list | tuple):
            text = ", ".join(str(v) for v in value) or "—"
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif value is None:
            text = "—"
        else:
            text = str(value)
        out.append((key.replace("_", " "), text))
    return out


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.2f}"
