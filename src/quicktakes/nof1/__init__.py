"""N-of-1 trials: pre-registered randomized self-experiments, tracked in SQLite and analysed
with exact randomization tests.

The names below load on first use (PEP 562): importing the package costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Analysis": "analysis",
    "TrialData": "analysis",
    "analyze": "analysis",
    "Protocol": "protocol",
    "commitment": "protocol",
    "draw_schedule": "protocol",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
