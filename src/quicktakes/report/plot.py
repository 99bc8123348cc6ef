"""Trend plots as inline SVG: one panel per y axis, each trend a line with its interval band."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from quicktakes.ledger import Trend  # noqa: E402


def _panels(trends: Sequence[Trend]) -> list[list[Trend]]:
    groups: dict[tuple[str, str], list[Trend]] = {}
    for t in trends:
        groups.setdefault((t.x_label, t.y_label), []).append(t)
    return list(groups.values())


def trends_svg(trends: Sequence[Trend], title: str = "") -> str:
    """An SVG document (as text) plotting `trends`; deterministic for identical input."""
    panels = _panels(trends)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.6), squeeze=False)
    for ax, group in zip(axes[0], panels, strict=True):
        for t in group:
            xs, ys = t.xs, t.ys
            lo = [p.lo for p in t.points]
            hi = [p.hi for p in t.points]
            if t.style == "markers":
                yerr = [
                    [max(0.0, y - a) for y, a in zip(ys, lo, strict=True)],
                    [max(0.0, b - y) for y, b in zip(ys, hi, strict=True)],
                ]
                ax.errorbar(xs, ys, yerr=yerr, fmt="o", ms=3, capsize=2, label=t.name)
            else:
                (line,) = ax.plot(xs, ys, marker=".", label=t.name)
                if any(b > a for a, b in zip(lo, hi, strict=True)):
                    ax.fill_between(xs, lo, hi, alpha=0.2, color=line.get_color(), lw=0)
            if t.log_x:
                ax.set_xscale("log")
            if t.log_y:
                ax.set_yscale("log")
        if not any(t.log_x for t in group) and all(
            float(x).is_integer() for t in group for x in t.xs
        ):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no iteration 0.25
        ax.set_xlabel(group[0].x_label)
        ax.set_ylabel(group[0].y_label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.StringIO()
    plt.rcParams["svg.hashsalt"] = "quicktakes"
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return svg[svg.index("<svg") :]
