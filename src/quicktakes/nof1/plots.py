"""Trial plots (outcome over time by arm, per-arm distributions) and the analysis HTML page."""

from __future__ import annotations

import html
import io
import json
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from quicktakes.nof1.analysis import Analysis, TrialData  # noqa: E402


def trial_svg(data: TrialData) -> str:
    p = data.protocol
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    days = data.analysed()
    for k, arm in enumerate(p.arms):
        pts = [(d.index + 1, d.value) for d in days if d.arm == arm]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax1.scatter(xs, ys, label=arm, s=18)
            ax2.boxplot([list(ys)], positions=[k], widths=0.5)
            ax2.scatter([k] * len(ys), ys, s=12, alpha=0.6)
    excluded = [d.index + 1 for d in data.days if d.excluded]
    for x in excluded:
        ax1.axvline(x, color="grey", lw=0.8, ls=":")
    ax1.set_xlabel("trial day (dotted: excluded)")
    ax1.set_ylabel(p.outcome)
    ax1.legend(fontsize=7)
    ax2.set_xticks(range(len(p.arms)), p.arms, fontsize=7)
    ax2.set_ylabel(p.outcome)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = re.sub(r"<metadata>.*?</metadata>", "", buf.getvalue(), flags=re.S)
    return svg[svg.index("<svg") :]


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


def analysis_html(data: TrialData, result: Analysis) -> str:
    """A self-contained page that fits a phone: the headline, arms, the plot, and the analysis
    as JSON folded away."""
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
        f"<th>sd</th></tr>{rows}</table></div>{trial_svg(data)}"
        f"<details><summary>the analysis as JSON</summary><pre>{body}</pre></details>"
        "</body></html>"
    )


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.2f}"
