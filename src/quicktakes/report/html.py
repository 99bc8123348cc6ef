"""The self-contained HTML report: no external URL, plots inline as SVG."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from quicktakes.ledger import Report
from quicktakes.ledger.claim import SEED_SOURCE
from quicktakes.report.plot import trends_svg


def render_html(report: Report) -> str:
    env = Environment(
        loader=PackageLoader("quicktakes.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    sections = []
    for r in report.results:
        svg = trends_svg(r.evidence.trends) if r.evidence.trends else ""
        sections.append(
            {
                "r": r,
                "svg": Markup(svg),
                "config": json.dumps(r.evidence.config, indent=1, sort_keys=True, default=str),
            }
        )
    counts: dict[str, int] = {}
    for r in report.results:
        counts[str(r.evidence.verdict)] = counts.get(str(r.evidence.verdict), 0) + 1
    return env.get_template("report.html.j2").render(
        report=report, sections=sections, counts=counts, source=SEED_SOURCE
    )


def write_report(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """Write index.html and results.json atomically (a temp file, then rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, json_path = out_dir / "index.html", out_dir / "results.json"
    for path, text in (
        (json_path, json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n"),
        (html_path, render_html(report)),
    ):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return html_path, json_path
