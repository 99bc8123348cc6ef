"""The rule of the world: a move into a wall or off the grid stays put; stepping on an
uncollected coin collects it, reward 1. The environment, the exact oracle, the tabular
reference and the rollouts all step through `transition`."""

from __future__ import annotations

from dataclasses import dataclass

from quicktakes.maze.grid import DELTAS, MOVE_SET, Maze

WORDS = tuple(m.word for m in MOVE_SET)


@dataclass(frozen=True)
class MazeState:
    """Where the agent is, which coins it holds (a bit mask over `maze.coins`), moves made."""

    pos: tuple[int, int]
    mask: int = 0
    t: int = 0

    def collected(self) -> frozenset[int]:
        return frozenset(i for i in range(self.mask.bit_length()) if self.mask >> i & 1)

    @property
    def coins(self) -> int:
        return self.mask.bit_count()


def move(maze: Maze, pos: tuple[int, int], action: int) -> tuple[int, int]:
    dr, dc = DELTAS[action]
    r, c = pos[0] + dr, pos[1] + dc
    rows, cols = maze.walls.shape
    if 0 <= r < rows and 0 <= c < cols and not maze.walls[r, c]:
        return (r, c)
    return pos


def transition(maze: Maze, state: MazeState, action: int) -> tuple[MazeState, float]:
    """The maze's dynamics: the next state and the reward (1 for a newly collected coin)."""
    pos = move(maze, state.pos, action)
    mask = state.mask
    if pos in maze.coins:
        mask |= 1 << maze.coins.index(pos)
    return MazeState(pos, mask, state.t + 1), float(mask != state.mask)


def start_state(maze: Maze) -> MazeState:
    return MazeState(maze.start)


def blocked(maze: Maze, pos: tuple[int, int]) -> list[str]:
    return [WORDS[a] for a in range(4) if move(maze, pos, a) == pos]


def coin_offsets(maze: Maze, state: MazeState) -> list[tuple[int, int, int]]:
    """(Manhattan distance, rows down, columns right) of each coin left, nearest first: what
    the compact observations show, and all the scripted heuristic reads."""
    r, c = state.pos
    return sorted(
        (abs(cr - r) + abs(cc - c), cr - r, cc - c)
        for i, (cr, cc) in enumerate(maze.coins)
        if not state.mask >> i & 1
    )
