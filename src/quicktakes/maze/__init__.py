"""The gold-coin maze lab: a gymnasium environment, its exact oracle, and LLM methods on it.

The names below load on first use (PEP 562): importing the package costs nothing. Importing
`quicktakes.maze.env` registers `quicktakes/GoldMaze-v0` with gymnasium
(`gym.make("quicktakes.maze.env:quicktakes/GoldMaze-v0")` does both).
"""

from quicktakes._lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
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
    },
)
