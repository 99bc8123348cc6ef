"""Shared output helpers: JSON to stdout, tables through rich."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


HEARTBEAT = 30.0
"""Seconds a log may stay silent while a long claim runs: then the current phase is repeated
with the elapsed time, so a log never looks hung."""


@contextmanager
def noting(
    progress: Progress, task: TaskID, every: float | None = None
) -> Iterator[Callable[[str], None]]:
    """Progress on a terminal: the bar's description. With stderr a log file: a plain line per
    phase with the elapsed time, and the last phase again after `every` silent seconds (no
    carriage returns, no bar frames)."""
    every = every or HEARTBEAT
    start = time.perf_counter()
    plain = not progress.console.is_terminal
    state: dict[str, str] = {"text": "starting"}
    printed = [start]
    lock = threading.Lock()

    def line(text: str) -> None:
        with lock:
            now = time.perf_counter()
            printed[0] = now
            progress.console.print(
                f"[{now - start:7.1f} s] {text}", highlight=False, markup=False, soft_wrap=True
            )

    def note(text: str) -> None:
        progress.update(task, description=text)
        state["text"] = text
        if plain:
            line(text)

    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(min(every, 5.0)):
            if time.perf_counter() - printed[0] >= every:
                line(f"{state['text']} (still running)")

    beater = threading.Thread(target=beat, daemon=True) if plain else None
    if beater:
        beater.start()
    try:
        yield note
    finally:
        stop.set()
        if beater:
            beater.join()
