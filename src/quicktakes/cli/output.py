"""Shared output helpers: JSON to stdout, tables through rich."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, ProgressColumn

JSON_OPTION = typer.Option(False, "--json", help="print machine-readable JSON")


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def stderr_progress(*columns: str | ProgressColumn) -> Progress:
    """A progress display on stderr that clears itself, so stdout stays clean for --json."""
    return Progress(*columns, console=Console(stderr=True), transient=True)
