"""The gold-coin maze lab: a gymnasium environment and LLM methods on it."""

from quicktakes.maze import claims as _claims  # noqa: F401  (registers the claims)
from quicktakes.maze.env import GoldMazeEnv, register
from quicktakes.maze.grid import Maze, MazeConfig, generate, max_coins, maze_seeds
from quicktakes.maze.methods import LabConfig, LabResult, run_lab

register()

__all__ = [
    "GoldMazeEnv",
    "LabConfig",
    "LabResult",
    "Maze",
    "MazeConfig",
    "generate",
    "max_coins",
    "maze_seeds",
    "register",
    "run_lab",
]
