"""Gold-coin mazes: the board (walls, coins, start), its generation and its picture.

A maze is a square grid of walls and floor with coins on some floor cells and a start cell.
What moves do lives in `quicktakes.maze.env`; the exact optimum in `quicktakes.maze.oracle`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from quicktakes.errors import ConfigError


class Move(NamedTuple):
    """One of the four moves: the letter a model replies with, the step it takes on the grid
    (rows down, columns right) and the word the observations use."""

    letter: str
    delta: tuple[int, int]
    word: str


MOVE_SET = (
    Move("U", (-1, 0), "up"), Move("D", (1, 0), "down"),
    Move("L", (0, -1), "left"), Move("R", (0, 1), "right"),
)
"""The moves in action order: an action is an index into this tuple."""
MOVES = tuple(m.letter for m in MOVE_SET)
DELTAS = tuple(m.delta for m in MOVE_SET)
UP, DOWN, LEFT, RIGHT = range(4)
FLOOR, WALL, COIN, AGENT = ".", "#", "o", "@"


class MazeConfig(BaseModel):
    """Defaults are the lab's operating point (docs/results.md): walking to the nearest coin
    by its offsets is clearly below the optimum, and SmolLM2-135M learns it on a CPU."""

    model_config = ConfigDict(extra="forbid")

    size: int = Field(7, ge=3, le=15, description="grid side")
    wall_density: float = Field(0.3, ge=0.0, le=0.6, description="fraction of walls")
    coins: int = Field(4, ge=1, le=8, description="coins per maze (the exact search is 2^coins)")
    max_steps: int = Field(14, ge=1, le=200, description="moves per episode")

    @model_validator(mode="after")
    def _room_for_coins(self) -> MazeConfig:
        floor = int(self.size**2 * (1 - self.wall_density))
        if self.coins + 1 > floor:
            raise ValueError(
                f"a {self.size}x{self.size} maze with wall density {self.wall_density} has "
                f"about {floor} floor cells: too few for {self.coins} coins and a start"
            )
        return self


@dataclass(frozen=True)
class Maze:
    walls: np.ndarray
    """(size, size) bool."""
    coins: tuple[tuple[int, int], ...]
    start: tuple[int, int]
    max_steps: int

    @property
    def size(self) -> int:
        return int(self.walls.shape[0])

    def render(
        self, pos: tuple[int, int] | None = None, collected: frozenset[int] = frozenset()
    ) -> str:
        pos = self.start if pos is None else pos
        rows = []
        for r in range(self.walls.shape[0]):
            row = []
            for c in range(self.walls.shape[1]):
                if (r, c) == pos:
                    row.append(AGENT)
                elif self.walls[r, c]:
                    row.append(WALL)
                elif (r, c) in self.coins and self.coins.index((r, c)) not in collected:
                    row.append(COIN)
                else:
                    row.append(FLOOR)
            rows.append("".join(row))
        return "\n".join(rows)


def distances(walls: np.ndarray, start: tuple[int, int]) -> dict[tuple[int, int], int]:
    """Moves needed to reach each reachable floor cell from `start` (breadth-first)."""
    n, m = walls.shape
    dist = {start: 0}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for dr, dc in DELTAS:
            nr, nc = r + dr, c + dc
            if 0 <= nr < n and 0 <= nc < m and not walls[nr, nc] and (nr, nc) not in dist:
                dist[(nr, nc)] = dist[(r, c)] + 1
                queue.append((nr, nc))
    return dist


def generate(cfg: MazeConfig, rng: np.random.Generator, max_tries: int = 1000) -> Maze:
    """A random maze whose coins are all reachable and at least one is within the step limit."""
    n = cfg.size
    for _ in range(max_tries):
        walls = rng.random((n, n)) < cfg.wall_density
        free = np.argwhere(~walls)
        if len(free) < cfg.coins + 1:
            continue
        start = tuple(int(v) for v in free[rng.integers(len(free))])
        dist = distances(walls, start)  # type: ignore[arg-type]
        reach = sorted(set(dist) - {start})
        if len(reach) < cfg.coins:
            continue
        picks = rng.choice(len(reach), size=cfg.coins, replace=False)
        coins = tuple(reach[int(i)] for i in sorted(picks))
        if min(dist[c] for c in coins) <= cfg.max_steps:
            return Maze(walls, coins, start, cfg.max_steps)  # type: ignore[arg-type]
    raise ConfigError(
        f"no solvable maze with these settings after {max_tries} tries "
        f"(size {n}, wall density {cfg.wall_density}, {cfg.coins} coins)"
    )


TRAIN_BASE, TEST_BASE, VERIFY_BASE = 0, 1_000_000, 2_000_000
"""Maze seeds: train mazes from 0 up, held-out test mazes from 10^6 up (procgen's protocol)."""


def maze_seeds(split: str, count: int, offset: int = 0) -> list[int]:
    bases = {"train": TRAIN_BASE, "test": TEST_BASE, "verify": VERIFY_BASE}
    if split not in bases:
        raise ConfigError(f"split must be train, test or verify, got {split!r}")
    base = bases[split]
    return [base + offset + i for i in range(count)]


def maze_for_seed(cfg: MazeConfig, seed: int) -> Maze:
    return generate(cfg, np.random.default_rng(seed))
