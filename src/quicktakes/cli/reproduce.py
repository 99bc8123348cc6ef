"""`quicktakes reproduce` and `quicktakes claims`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

from quicktakes.cli._app import about, commands
from quicktakes.cli.output import JSON_OPTION, emit_json, noting, stderr_progress
from quicktakes.ledger import Budget, all_claims, reproduce
from quicktakes.ledger.claim import Claim
from quicktakes.ledger.run import ClaimResult, resolve

app = commands()

@app.command("reproduce", help=about("reproduce"))
def reproduce_cmd(
    claim_ids: list[str] = typer.Argument(None, help="claim ids to run (default: all)"),
    full: bool = typer.Option(False, "--full/--fast", help="budget: fast (default) or full"),
    seed: int = typer.Option(0, help="one seed for every random source"),
    out: Path = typer.Option(Path("quicktakes-report"), help="report directory"),
    precision: str = typer.Option(
        None,
        help="auto | bf16 | fp32 for every torch claim [default: $QUICKTAKES_PRECISION, else "
        "auto: bf16 only where the CPU or GPU does it natively]",
    ),
) -> None:
    import os

    from quicktakes.llm import precision as prec
    from quicktakes.paths import output_dir
    from quicktakes.report import summary_table, write_report

    if precision is not None:
        os.environ[prec.ENV] = prec.check_name(precision)
    if prec.requested() == "bf16":  # a bad name, or bf16 where it cannot run: before any claim
        prec.resolve("bf16")
    ids = claim_ids or []
    claims = resolve(ids)  # an unknown id or an unwritable --out fails here, before any work
    output_dir(out)
    budget = Budget.FULL if full else Budget.FAST
    with stderr_progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    ) as progress:
        task = progress.add_task("starting", total=len(claims))
        with noting(progress, task) as note:
            count = {"started": 0}

            def start(c: Claim) -> None:
                count["started"] += 1
                note(f"claim {count['started']}/{len(claims)}: {c.id}")

            def done(r: ClaimResult) -> None:
                progress.advance(task)
                note(f"{r.claim.id}: {r.evidence.verdict} ({r.seconds:.1f} s)")

            report = reproduce(
                [c.id for c in claims], budget=budget, seed=seed,
                on_start=start, on_done=done, on_note=note,
            )
    console = Console()
    console.print(summary_table(report, quotes=console.width >= 120))
    html_path, json_path = write_report(report, out)
    typer.echo(f"report: {html_path.resolve()}")
    typer.echo(f"data:   {json_path.resolve()}")


@app.command("claims", help=about("claims"))
def claims_cmd(as_json: bool = JSON_OPTION) -> None:
    from rich.table import Table

    claims = all_claims()
    if as_json:
        emit_json([{"id": c.id, "take": c.take, "quote": c.quote, "holds_if": c.holds_if}
                   for c in claims])
        return
    table = Table("id", "take", "holds if")
    for c in claims:
        table.add_row(c.id, c.take, c.holds_if)
    table.columns[0].no_wrap = True  # ids are typed back: never truncated
    table.columns[0].overflow = "fold"
    Console().print(table)
