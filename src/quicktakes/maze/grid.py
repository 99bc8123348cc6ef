"""Gold-coin mazes: generation (only solvable ones), text rendering, and the exact optimum.

A maze is a square grid of walls and floor with coins on some floor cells and a start cell.
Moves U/D/L/R; a move into a wall or off the grid stays put. The optimum is found by
breadth-first search over (position, set of coins collected), so every score can be
normalized to [0, 1].
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from quicktakes.errors import ConfigError

MOVES = ("U", "D", "L", "R")
DELTAS = ((-1, 0), (1, 0), (0, -1), (0, 1))
FLOOR, WALL, COIN, AGENT = ".", "#", "o", "@"


class MazeConfig(BaseModel):
    size: int = Field(6, ge=3, le=15, description="grid side")
    wall_density: float = Field(0.25, ge=0.0, le=0.6, description="fraction of walls")
    coins: int = Field(3, ge=1, le=8, description="coins per maze (the exact search is 2^coins)")
    max_steps: int = Field(12, ge=1, le=200, description="moves per episode")


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

    def move(self, pos: tuple[int, int], action: int) -> tuple[int, int]:
        dr, dc = DELTAS[action]
        r, c = pos[0] + dr, pos[1] + dc
        rows, cols = self.walls.shape
        if 0 <= r < rows and 0 <= c < cols and not self.walls[r, c]:
            return (r, c)
        return pos

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


def _reachable(walls: np.ndarray, start: tuple[int, int]) -> set[tuple[int, int]]:
    n, m = walls.shape
    seen = {start}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for dr, dc in DELTAS:
            nr, nc = r + dr, c + dc
            if 0 <= nr < n and 0 <= nc < m and not walls[nr, nc] and (nr, nc) not in seen:
                seen.add((nr, nc))
                queue.append((nr, nc))
    return seen


def generate(cfg: MazeConfig, rng: np.random.Generator, max_tries: int = 1000) -> Maze:
    """A random maze whose coins are all reachable and at least one is within the step limit."""
    n = cfg.size
    for _ in range(max_tries):
        walls = rng.random((n, n)) < cfg.wall_density
        free = np.argwhere(~walls)
        if len(free) < cfg.coins + 1:
            continue
        start = tuple(int(v) for v in free[rng.integers(len(free))])
        reach = sorted(_reachable(walls, start) - {start})  # type: ignore[arg-type]
        if len(reach) < cfg.coins:
            continue
        picks = rng.choice(len(reach), size=cfg.coins, replace=False)
        coins = tuple(reach[int(i)] for i in sorted(picks))
        maze = Maze(walls, coins, start, cfg.max_steps)  # type: ignore[arg-type]
        if max_coins(maze) >= 1:
            return maze
    raise ConfigError(
        f"no solvable maze with these settings after {max_tries} tries "
        f"(size {n}, wall density {cfg.wall_density}, {cfg.coins} coins)"
    )


def max_coins(maze: Maze) -> int:
    """Most coins collectable within the step limit: BFS over (position, collected set)."""
    index = {c: i for i, c in enumerate(maze.coins)}
    start_mask = 0
    best = 0
    frontier = {(maze.start, start_mask)}
    seen = set(frontier)
    for _ in range(maze.max_steps):
        nxt = set()
        for pos, mask in frontier:
            for a in range(4):
                p = maze.move(pos, a)
                m = mask | (1 << index[p]) if p in index else mask
                if (p, m) not in seen:
                    seen.add((p, m))
                    nxt.add((p, m))
                    best = max(best, bin(m).count("1"))
        frontier = nxt
        if best == len(maze.coins) or not frontier:
            break
    return best


TRAIN_BASE, TEST_BASE = 0, 1_000_000
"""Maze seeds: train mazes from 0 up, held-out test mazes from 10^6 up (procgen's protocol)."""


def maze_seeds(split: str, count: int, offset: int = 0) -> list[int]:
    if split not in ("train", "test"):
        raise ConfigError(f"split must be train or test, got {split!r}")
    base = TRAIN_BASE if split == "train" else TEST_BASE
    return [base + offset + i for i in range(count)]


def maze_for_seed(cfg: MazeConfig, seed: int) -> Maze:
    return generate(cfg, np.random.default_rng(seed))
