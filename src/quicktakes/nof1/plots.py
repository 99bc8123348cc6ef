"""Trial plots (outcome over time by arm, per-arm distributions) and the analysis HTML page."""

from __future__ import annotations

import html
import io
import json
import re
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from quicktakes.nof1.analysis import Analysis, TrialData


def _svg(fig: Any, prefix: str) -> str:
    """The figure as SVG text whose element ids carry `prefix` (a page holds several)."""
    from quicktakes.report.plot import unique_ids

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = re.sub(r"<metadata>.*?</metadata>", "", buf.getvalue(), flags=re.S)
    return unique_ids(svg[svg.index("<svg") :], prefix)


def trial_svg(data: TrialData) -> str:
    """A dated timeline by arm with excluded days drawn hollow and labelled with their
    reason, beside the per-arm distributions."""
    p = data.protocol
    fig = Figure(figsize=(10, 3.8))  # no pyplot: no global backend, nothing to close
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
            ax1.annotate(d.excluded[:28], (d.date, d.value), fontsize=7, color="grey",
                         xytext=(3, 3), textcoords="offset points")
    ax1.set_ylabel(p.outcome, fontsize=9)
    ax1.tick_params(labelsize=8)
    fig.autofmt_xdate()
    ax1.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3,
               frameon=False)
    ax2.set_xticks(range(len(p.arms)), p.arms, fontsize=8)
    ax2.set_ylabel(p.outcome, fontsize=9)
    fig.tight_layout()
    return _svg(fig, "timeline-")


NORMAL_FROM = 30
"""Days per group from which the accrual curve reads the randomization test's normal limit
(`randomization.contrast_normal`) instead of the exact or Monte Carlo test."""


def accrued_p(a: np.ndarray, b: np.ndarray) -> float:
    from quicktakes.nof1 import randomization as rt

    if min(len(a), len(b)) >= NORMAL_FROM:
        return rt.contrast_normal(a, b).p_value
    return rt.contrast(a, b, "b>a").p_value


def accrual_svg(data: TrialData, points: int = 30) -> str:
    """The contrast's one-sided p-value as the analysed days accrue (at most `points`
    evaluations), on a log axis with alpha drawn; from `NORMAL_FROM` days per group, by the
    test's normal limit (a curve of 30 tests on a long trial in milliseconds, not seconds)."""
    from quicktakes.nof1.analysis import accrual

    at = sorted({int(round(v)) for v in np.linspace(4, len(data.analysed()), points)})
    groups = accrual(data, at)
    xs = [k for k, _, _ in groups]
    ps = [accrued_p(a, b) for _, a, b in groups]
    fig = Figure(figsize=(10, 2.8))
    ax = fig.subplots()
    ax.plot(xs, ps, ".-", label="one-sided p of the contrast")
    ax.axhline(data.protocol.alpha, color="grey", ls=":", label=f"alpha {data.protocol.alpha:g}")
    ax.set_yscale("log")
    ax.set_xlabel("analysed days", fontsize=9)
    ax.set_ylabel("p-value", fontsize=9)
    ax.legend(fontsize=9, frameon=False)
    fig.tight_layout()
    return _svg(fig, "accrual-")


def p_text(p: float) -> str:
    """A p-value as people read it: never '0.0000'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def headline(data: TrialData, result: Analysis) -> str:
    """One sentence: the effect, its 95% interval, and the probability it exceeds the smallest
    effect of interest."""
    p = data.protocol
    eff = result.effects[0] if result.effects else None
    a, b = (" + ".join(group) for group in p.contrast)
    text = f"{b} minus {a}: "
    if eff is not None:
        text += (
            f"{eff.name} {eff.estimate:+.1f} (95% CI {eff.lo:+.1f} to {eff.hi:+.1f}), "
            f"{p.outcome}"
        )
    q = result.posterior.get("p_effect_above_smallest")
    if q is not None:
        text += f"; P(effect > {p.smallest_effect:g}) = {q:.2f}"
    return text + f"; one-sided {p_text(result.contrast_test.p_value)}."


def analysis_html(
    data: TrialData,
    result: Analysis,
    versions: list[dict[str, Any]] | None = None,
    shown: dict[str, object] | None = None,
) -> str:
    """A self-contained page that fits a phone: the headline, arms, the dated timeline, the
    evidence as days accrue, the protocol with its commitment and amendments, and the
    analysis as JSON folded away. `shown`: the protocol as it may be shown now
    (`trials.public_protocol`: the seed sealed while the trial runs)."""
    body = html.escape(json.dumps(result.to_dict(), indent=2, default=str))
    p = data.protocol
    rows = "".join(
        f"<tr><td>{html.escape(a.arm)}</td><td>{a.n}</td><td>{_fmt(a.mean)}</td>"
        f"<td>{_fmt(a.median)}</td><td>{_fmt(a.sd)}</td></tr>"
        for a in result.arms
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(p.name)}: analysis</title>"
        "<style>*{box-sizing:border-box}"
        "body{font-family:system-ui,sans-serif;max-width:1000px;margin:1.5em auto;padding:0 1em;"
        "line-height:1.45}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left}"
        "table{border-collapse:collapse}.wide{overflow-x:auto}svg{width:100%;height:auto}"
        ".headline{font-size:1.1em;font-weight:600}"
        "pre{background:#f6f6f6;padding:.5em;font-size:.8em;overflow-x:auto}</style></head><body>"
        f"<h1>{html.escape(p.name)}</h1><p class='headline'>"
        f"{html.escape(headline(data, result))}</p>"
        f"<p>Test: {html.escape(result.contrast_test.method)}.</p>"
        "<div class='wide'><table><tr><th>arm</th><th>n</th><th>mean</th><th>median</th>"
        f"<th>sd</th></tr>{rows}</table></div><h2>Timeline</h2>{trial_svg(data)}"
        f"<h2>Evidence as days accrue</h2>{accrual_svg(data)}"
        f"<h2>Protocol</h2>{_protocol_html(shown or data.protocol.canonical(), versions or [])}"
        f"<details><summary>the analysis as JSON</summary><pre>{body}</pre></details>"
        "</body></html>"
    )


def _protocol_html(shown: dict[str, object], versions: list[dict[str, Any]]) -> str:
    fields = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in shown.items()
        if k not in ("given_schedule",)
    )
    rows = "".join(
        f"<tr><td>{v['version']}</td><td>{html.escape(v['created_at'])}</td>"
        f"<td>{html.escape(v['reason'])}</td><td><code>{v['sha256'][:16]}…</code></td></tr>"
        for v in versions
    )
    table = (
        "<div class='wide'><table><tr><th>version</th><th>recorded</th><th>reason</th>"
        f"<th>sha256</th></tr>{rows}</table></div>" if rows else ""
    )
    return f"<div class='wide'><table>{fields}</table></div>{table}"


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.2f}"
