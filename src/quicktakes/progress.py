"""The two shapes in which library code reports progress, so that any caller (a terminal bar,
a timed log line, a claim's phase note) plugs into any long function without an adapter."""

from __future__ import annotations

from collections.abc import Callable

Note = Callable[[str], None]
"""A phase in words ("method 2/6 (few-shot): sampling"): a terminal shows the latest, a log
keeps each with its time. Parameters of this type are named `note`."""

Progress = Callable[[int, int], None]
"""(done, total) of a counted loop: a bar, or `RunContext.ticker`'s note at each tenth.
Parameters of this type are named `on_progress`."""
