"""Game and decision theory: repeated lotteries, iterated prisoner's dilemma, iterated Newcomb.

The names below load on first use (PEP 562): importing the package costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "IPDConfig": "ipd",
    "TournamentResult": "ipd",
    "tournament": "ipd",
    "LotteryConfig": "lottery",
    "LotteryOdds": "lottery",
    "odds": "lottery",
    "NewcombConfig": "newcomb",
    "one_shot_threshold": "newcomb",
    "play_all": "newcomb",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
