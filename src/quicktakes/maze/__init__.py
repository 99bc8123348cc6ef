"""The gold-coin maze lab: a gymnasium environment, its exact oracle, and LLM methods on it."""

from quicktakes.maze import claims as _claims  # noqa: F401  (registers the claims)
from quicktakes.maze.env import OBSERVATIONS, GoldMazeEnv, MazeState, register, transition
from quicktakes.maze.grid import Maze, MazeConfig, generate, maze_seeds
from quicktakes.maze.methods import LabResult
from quicktakes.maze.oracle import max_coins, solve
from quicktakes.maze.spec import METHODS, BackendSpec, LabSpec

register()

__all__ = [
    "METHODS",
    "OBSERVATIONS",
    "BackendSpec",
    "GoldMazeEnv",
    "LabResult",
    "LabSpec",
    "Maze",
    "MazeConfig",
    "MazeState",
    "generate",
    "max_coins",
    "maze_seeds",
    "register",
    "solve",
    "transition",
]
