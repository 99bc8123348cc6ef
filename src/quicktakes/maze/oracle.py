"""The exact optimum of a maze, its optimal moves from any state, and the scripted heuristic.

`solve` runs backward induction over (cell, coins collected, moves left) with the dynamics of
`quicktakes.maze.env.transition`, vectorized over states: Q[k, s, a] is the most coins
collectable with k moves left after taking `a` in `s`. Every score is normalized by the
optimum from the start, and oracle behaviour cloning learns the argmax sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from quicktakes.maze.grid import DOWN, LEFT, RIGHT, UP, Maze, MazeConfig, maze_for_seed
from quicktakes.maze.rules import MazeState, coin_offsets, move, transition


@dataclass(frozen=True)
class Solution:
    maze: Maze
    q: np.ndarray
    """(max_steps + 1, cells * 2^coins, 4): coins collectable after each first move."""

    def index(self, state: MazeState) -> int:
        r, c = state.pos
        return (r * self.maze.walls.shape[1] + c) * (1 << len(self.maze.coins)) + state.mask

    def values(self, state: MazeState) -> np.ndarray:
        """The four moves' optimal totals from here (coins still to collect)."""
        return np.asarray(self.q[self.maze.max_steps - state.t, self.index(state)])

    def optimal_moves(self, state: MazeState) -> list[int]:
        v = self.values(state)
        return [a for a in range(4) if v[a] == v.max()]

    @cached_property
    def optimum(self) -> int:
        return int(self.values(MazeState(self.maze.start)).max())


def solve(maze: Maze) -> Solution:
    rows, n = maze.walls.shape
    k = len(maze.coins)
    masks = 1 << k
    cells = rows * n
    nxt_cell = np.array(
        [[(lambda p: p[0] * n + p[1])(move(maze, divmod(c, n), a)) for a in range(4)]
         for c in range(cells)]
    )
    coin_bit = np.zeros(cells, dtype=np.int64)
    for i, (r, c) in enumerate(maze.coins):
        coin_bit[r * n + c] = 1 << i
    mask = np.arange(masks)
    new_mask = mask[None, :, None] | coin_bit[nxt_cell][:, None, :]  # (cells, masks, 4)
    reward = (new_mask != mask[None, :, None]).astype(np.int64)
    nxt = (nxt_cell[:, None, :] * masks + new_mask).reshape(cells * masks, 4)
    reward = reward.reshape(cells * masks, 4)
    q = np.zeros((maze.max_steps + 1, cells * masks, 4), dtype=np.int64)
    v = np.zeros(cells * masks, dtype=np.int64)
    for left in range(1, maze.max_steps + 1):
        q[left] = reward + v[nxt]
        v = q[left].max(axis=1)
    return Solution(maze, q)


def max_coins(maze: Maze) -> int:
    """Most coins collectable within the step limit."""
    return solve(maze).optimum


def optimal_rollout(sol: Solution) -> list[tuple[MazeState, list[int]]]:
    """The states along one optimal path (first optimal move each time) and their labels."""
    maze, state = sol.maze, MazeState(sol.maze.start)
    path = []
    while state.t < maze.max_steps and state.coins < len(maze.coins):
        best = sol.optimal_moves(state)
        path.append((state, best))
        state, _ = transition(maze, state, best[0])
    return path


def nearest_coin_move(maze: Maze, state: MazeState) -> int:
    """The scripted heuristic, offsets mapped to letters: head for the coin nearest by
    Manhattan distance along its larger offset, else its smaller one, else any open move.
    It reads what the compact observations show (offsets, blocked sides), no map."""
    left = coin_offsets(maze, state)
    if not left:
        return 0
    _, dr, dc = left[0]
    vertical = DOWN if dr > 0 else UP
    horizontal = RIGHT if dc > 0 else LEFT
    axes = [(abs(dr), vertical), (abs(dc), horizontal)]
    wanted = [a for d, a in sorted(axes, key=lambda x: -x[0]) if d]
    for a in [*wanted, 0, 1, 2, 3]:
        if move(maze, state.pos, a) != state.pos:
            return a
    return 0


class MazeBank:
    """Mazes by seed with their solution, computed once per seed; `make` builds a seed's maze
    another way than `maze_for_seed(cfg, seed)` (the learner ladder's hand-made tasks)."""

    def __init__(self, cfg: MazeConfig, make: Callable[[int], Maze] | None = None) -> None:
        self.cfg = cfg
        self.make = make or (lambda seed: maze_for_seed(cfg, seed))
        self._memo: dict[int, Solution] = {}

    def __call__(self, seed: int) -> Solution:
        if seed not in self._memo:
            self._memo[seed] = solve(self.make(seed))
        return self._memo[seed]
