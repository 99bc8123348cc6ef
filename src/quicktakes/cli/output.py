"""Shared output helpers: JSON to stdout, tables through rich."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, ProgressColumn, TaskID

JSON_OPTION = typer.Option(False, "--json", help="print machine-readable JSON")


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def stderr_progress(*columns: str | ProgressColumn) -> Progress:
    """A progress display on stderr that clears itself, so stdout stays clean for --json."""
    return Progress(*columns, console=Console(stderr=True), transient=True)


def noter(progress: Progress, task: TaskID) -> Callable[[str], None]:
    """Progress on a terminal; a plain line per step of work with the elapsed time when
    stderr is a log file, so a log shows how far a long run got."""
    start = time.perf_counter()
    plain = not progress.console.is_terminal

    def note(text: str) -> None:
        progress.update(task, description=text)
        if plain:
            progress.console.print(
                f"[{time.perf_counter() - start:7.1f} s] {text}", highlight=False, markup=False
            )

    return note
