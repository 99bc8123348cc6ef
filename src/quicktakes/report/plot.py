"""Trend plots as inline SVG: one full-width panel per y axis, stacked, legends below.

Intervals are drawn as error bars, not translucent bands: five bands on one axis hide each
other, bars stay readable. Every element id in the SVG carries a per-figure prefix, so a page
holding many figures has no duplicate ids.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from quicktakes.ledger import Trend

WIDTH_IN = 8.0
PANEL_IN = 3.0
FONT_PT = 9


def _panels(trends: Sequence[Trend]) -> list[list[Trend]]:
    groups: dict[tuple[str, str], list[Trend]] = {}
    for t in trends:
        groups.setdefault((t.x_label, t.y_label), []).append(t)
    return list(groups.values())


def _draw(ax: Axes, t: Trend, emphasis: bool, span: tuple[float, float]) -> None:
    """`emphasis`: some series of this panel are the ones the verdict compares; they are drawn
    strong and the rest light. A one-point line series among longer ones (a reference measured
    once, such as the base model) is carried across the panel's x range as a dashed level, so
    it is not a dot hidden under another series' first point."""
    xs, ys = t.xs, t.ys
    yerr = [
        [max(0.0, y - p.lo) for y, p in zip(ys, t.points, strict=True)],
        [max(0.0, p.hi - y) for y, p in zip(ys, t.points, strict=True)],
    ]
    has_interval = any(a > 0 or b > 0 for a, b in zip(*yerr, strict=True))
    markers = t.style == "markers"
    bars = ax.errorbar(
        xs,
        ys,
        yerr=yerr if has_interval else None,
        fmt="o" if markers else ".-",
        ms=4,
        lw=(2.6 if t.meta.get("compared") else 1.0) if emphasis else 1.4,
        alpha=1.0 if not emphasis or t.meta.get("compared") else 0.6,
        zorder=3 if t.meta.get("compared") else 2,
        elinewidth=0.8,
        capsize=2,
        label=t.name,
    )
    if len(t.points) == 1 and not markers and span[1] > span[0]:
        ax.hlines(
            ys[0], *span, colors=bars.lines[0].get_color(), linestyles="--",
            lw=(2.0 if t.meta.get("compared") else 1.0), alpha=0.8, zorder=2,
        )


def _axes_format(ax: Axes, group: list[Trend]) -> None:
    if any(t.log_x for t in group):
        ax.set_xscale("log")
    elif all(float(x).is_integer() for t in group for x in t.xs):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no iteration 0.25
    if any(t.log_y for t in group):
        ax.set_yscale("log")
    else:
        if all(float(y).is_integer() for t in group for y in t.ys) and "rank" in group[0].y_label:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        if "($" in group[0].y_label:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))
    ax.set_xlabel(group[0].x_label, fontsize=FONT_PT)
    ax.set_ylabel(group[0].y_label, fontsize=FONT_PT)
    ax.tick_params(labelsize=FONT_PT)
    ax.grid(alpha=0.3)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=2 if len(group) > 3 else 1,
        fontsize=FONT_PT,
        frameon=False,
    )


def unique_ids(svg: str, prefix: str) -> str:
    """Prefix every id, and every reference to one, with `prefix`."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)


def trends_svg(trends: Sequence[Trend], title: str = "", prefix: str = "fig-") -> str:
    """An SVG document (as text) plotting `trends`; deterministic for identical input."""
    panels = _panels(trends)
    legend_rows = [max(1, (len(g) + 1) // 2 if len(g) > 3 else len(g)) for g in panels]
    heights = [PANEL_IN + 0.22 * rows for rows in legend_rows]
    fig = Figure(figsize=(WIDTH_IN, sum(heights) + 0.6 * len(panels)))  # no pyplot, no backend
    axes = fig.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": heights})
    for ax, group in zip(axes[:, 0], panels, strict=True):
        emphasis = any(t.meta.get("compared") for t in group)
        xs = [x for t in group for x in t.xs]
        for t in group:
            _draw(ax, t, emphasis, (min(xs), max(xs)))
        _axes_format(ax, group)
    if title:
        fig.suptitle(title, fontsize=FONT_PT + 1)
    fig.tight_layout()
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "quicktakes"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return unique_ids(svg[svg.index("<svg") :], prefix)
