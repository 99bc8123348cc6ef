"""Reports: the terminal table and the self-contained HTML page with results.json."""

from quicktakes.report.html import render_html, write_report
from quicktakes.report.table import summary_table

__all__ = ["render_html", "summary_table", "write_report"]
