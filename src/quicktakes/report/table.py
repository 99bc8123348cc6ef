"""The terminal summary: claim | the seed says | measured | verdict | wall time."""

from __future__ import annotations

from rich.table import Table

from quicktakes.ledger import Report, Verdict

VERDICT_STYLE = {
    Verdict.HOLDS: "green",
    Verdict.PARTLY: "yellow",
    Verdict.FAILS: "red",
    Verdict.DISCREPANCY: "magenta",
    Verdict.INCONCLUSIVE: "cyan",
    Verdict.ERROR: "bold red",
}


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_table(report: Report, quotes: bool = True) -> Table:
    """Claim | measured | verdict | time, and the quote where the console is wide enough
    (at 80 columns a quote column would be 9 characters wide)."""
    total = sum(r.seconds for r in report.results)
    table = Table(
        title=f"quicktakes reproduce  (budget {report.budget}, seed {report.seed})",
        caption=f"{len(report.results)} claim(s), {total:.1f} s of claim wall time",
    )
    table.add_column("claim", style="bold", no_wrap=True)
    if quotes:
        table.add_column("the seed says")
    table.add_column("measured")
    table.add_column("verdict", no_wrap=True)
    table.add_column("s", justify="right")
    for r in report.results:
        v = r.evidence.verdict
        quote = [_short(f"“{r.claim.quote}”")] if quotes else []
        table.add_row(
            r.claim.id,
            *quote,
            r.evidence.measured,
            f"[{VERDICT_STYLE[v]}]{v}[/]",
            f"{r.seconds:.1f}",
        )
    return table
