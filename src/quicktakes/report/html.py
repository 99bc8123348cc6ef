"""The self-contained HTML report: no external URL but the quotes' source, plots inline as SVG.

Made for a glance: a header with when, where and how long; summary rows that lead with the
verdict and put the rule beside the measured value; per claim, a table of the series (final
value, interval, interval type) above the plot, and the config folded away.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from quicktakes.ledger import Report, Trend, Verdict
from quicktakes.ledger.claim import SEED_SOURCE, SEED_URL
from quicktakes.paths import atomic_write
from quicktakes.report.plot import trends_svg

MEANING = {
    Verdict.HOLDS: "the data meet the claim's stated rule",
    Verdict.PARTLY: "part of the rule is met, or a weaker form of it",
    Verdict.FAILS: "the data go against the rule",
    Verdict.DISCREPANCY: "the seed's own numbers disagree with its data or an exact computation",
    Verdict.INCONCLUSIVE: (
        "the data decide nothing at this budget: intervals too wide, or what the rule "
        "compares did not happen first (a method that did not learn)"
    ),
    Verdict.ERROR: "the experiment crashed or failed a built-in consistency check",
}


def _num(v: float) -> str:
    if v == 0 or 1e-3 <= abs(v) < 1e6:
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{v:.2e}"


def series_rows(trends: tuple[Trend, ...]) -> list[dict[str, str]]:
    """Each series' last point: what it ended at, with what interval, of what kind."""
    rows = []
    for t in trends:
        p = t.last()
        interval = "exact" if p.lo == p.hi else f"[{_num(p.lo)}, {_num(p.hi)}]"
        rows.append({"name": t.name, "at": f"{t.x_label} = {_num(p.x)}", "value": _num(p.y),
                     "interval": interval, "kind": t.interval})
    return rows


def _commit() -> str:
    """The quicktakes source's commit, when it runs from a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return out.stdout.strip()


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()}"


def run_facts(report: Report) -> dict[str, Any]:
    total = sum(r.seconds for r in report.results)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": machine(),
        "total": f"{total / 60:.1f} min" if total >= 120 else f"{total:.1f} s",
    }


def render_html(report: Report) -> str:
    env = Environment(
        loader=PackageLoader("quicktakes.report", "templates"),
        autoescape=True,
    )
    sections = []
    for k, r in enumerate(report.results):
        svg = trends_svg(r.evidence.trends, prefix=f"c{k}-") if r.evidence.trends else ""
        config = r.evidence.config
        sections.append(
            {
                "r": r,
                "anchor": f"claim-{k}",
                "svg": Markup(svg),
                "series": series_rows(r.evidence.trends),
                "shared": config.get("shared_run") if isinstance(config, dict) else None,
                "config": json.dumps(config, indent=1, sort_keys=True, default=str),
            }
        )
    counts: dict[str, int] = {}
    for r in report.results:
        counts[str(r.evidence.verdict)] = counts.get(str(r.evidence.verdict), 0) + 1
    return env.get_template("report.html.j2").render(
        report=report, sections=sections, counts=counts, source=SEED_SOURCE, url=SEED_URL,
        facts=run_facts(report), meaning={str(k): v for k, v in MEANING.items()},
    )


def write_report(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """Write index.html and results.json atomically (a temp file, then rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, json_path = out_dir / "index.html", out_dir / "results.json"
    for path, text in (
        (json_path, json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n"),
        (html_path, render_html(report)),
    ):
        atomic_write(path, text)
    return html_path, json_path
