"""`quicktakes/GoldMaze-v0`: the gold-coin maze as a gymnasium environment."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from quicktakes.maze.grid import Maze, MazeConfig, generate, max_coins

CODES = {"floor": 0, "wall": 1, "coin": 2, "agent": 3}


class GoldMazeEnv(gym.Env[np.ndarray, int]):
    """Collect gold coins in a generated maze. Reward: +1 per coin. Ends when every coin is
    collected (terminated) or the step limit is reached (truncated).

    `reset(seed=s)` generates the maze from `s`, so a seed names a maze; `options={"maze": m}`
    plays a given `Maze`.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, **config: Any) -> None:
        self.cfg = MazeConfig(**config)
        self.render_mode = render_mode
        n = self.cfg.size
        self.observation_space = spaces.Box(0, 3, shape=(n, n), dtype=np.int8)
        self.action_space: spaces.Discrete = spaces.Discrete(4)  # type: ignore[assignment]
        self.maze: Maze | None = None

    def _obs(self) -> np.ndarray:
        assert self.maze is not None
        grid = np.where(self.maze.walls, CODES["wall"], CODES["floor"]).astype(np.int8)
        for i, (r, c) in enumerate(self.maze.coins):
            if i not in self.collected:
                grid[r, c] = CODES["coin"]
        grid[self.pos] = CODES["agent"]
        return grid

    def _info(self) -> dict[str, Any]:
        assert self.maze is not None
        return {
            "coins": len(self.collected),
            "max_coins": self.optimum,
            "steps_left": self.maze.max_steps - self.t,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        given = (options or {}).get("maze")
        self.maze = given if given is not None else generate(self.cfg, self.np_random)
        self.pos = self.maze.start
        self.collected: set[int] = set()
        self.t = 0
        self.optimum = max_coins(self.maze)
        return self._obs(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        assert self.maze is not None, "call reset() first"
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}")
        self.pos = self.maze.move(self.pos, int(action))
        reward = 0.0
        if self.pos in self.maze.coins:
            i = self.maze.coins.index(self.pos)
            if i not in self.collected:
                self.collected.add(i)
                reward = 1.0
        self.t += 1
        terminated = len(self.collected) == len(self.maze.coins)
        truncated = not terminated and self.t >= self.maze.max_steps
        return self._obs(), reward, terminated, truncated, self._info()

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.maze is None:
            return None
        return self.maze.render(self.pos, frozenset(self.collected))


def register() -> None:
    if "quicktakes/GoldMaze-v0" not in gym.registry:
        gym.register(id="quicktakes/GoldMaze-v0", entry_point=GoldMazeEnv)
