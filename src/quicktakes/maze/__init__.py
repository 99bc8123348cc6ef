"""The gold-coin maze lab: a gymnasium environment, its exact oracle, and LLM methods on it.

The names below load on first use (PEP 562): importing the package costs nothing. Importing
`quicktakes.maze.env` registers `quicktakes/GoldMaze-v0` with gymnasium
(`gym.make("quicktakes.maze.env:quicktakes/GoldMaze-v0")` does both).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "OBSERVATIONS": "env",
    "GoldMazeEnv": "env",
    "MazeState": "env",
    "register": "env",
    "transition": "env",
    "Maze": "grid",
    "MazeConfig": "grid",
    "generate": "grid",
    "maze_seeds": "grid",
    "LabResult": "methods",
    "max_coins": "oracle",
    "solve": "oracle",
    "METHODS": "spec",
    "BackendSpec": "spec",
    "LabSpec": "spec",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
