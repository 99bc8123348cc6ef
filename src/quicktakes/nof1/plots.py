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


def analysis_html(data: TrialData, result: Analysis) -> str:
    """A self-contained page: the plots, then the analysis as a readable JSON block."""
    body = html.escape(json.dumps(result.to_dict(), indent=2, default=str))
    p = data.protocol
    rows = "".join(
        f"<tr><td>{html.escape(a.arm)}</td><td>{a.n}</td><td>{_fmt(a.mean)}</td>"
        f"<td>{_fmt(a.median)}</td><td>{_fmt(a.sd)}</td></tr>"
        for a in result.arms
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(p.name)}: analysis</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto}"
        "td,th{padding:.2em .6em;border-bottom:1px solid #ddd}"
        "pre{background:#f6f6f6;padding:.5em;font-size:.8em}</style></head><body>"
        f"<h1>{html.escape(p.name)}</h1><p>{html.escape(p.outcome)}; contrast "
        f"{html.escape(result.contrast)}: one-sided p = {result.contrast_test.p_value:.4f} "
        f"({html.escape(result.contrast_test.method)})</p>"
        f"<table><tr><th>arm</th><th>n</th><th>mean</th><th>median</th><th>sd</th></tr>{rows}"
        f"</table>{trial_svg(data)}<pre>{body}</pre></body></html>"
    )


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.2f}"
