"""Shared output helpers: JSON to stdout, tables through rich."""

from __future__ import annotations

import json
from typing import Any

import typer

JSON_OPTION = typer.Option(False, "--json", help="print machine-readable JSON")


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
