"""`quicktakes/GoldMaze-v0`: the gymnasium environment and the observations an LLM reads.

The dynamics are `maze.rules.transition`, which the environment, the LLM rollouts, the exact
oracle, the tabular reference and `maze play` all step through. The text an LLM reads is an
`Observation` chosen by name:

- `grid`: the whole board as characters (the faithful, harder reading: SmolLM2's tokenizer
  merges runs of cells, so a token no longer stands for one column);
- `coins`: egocentric and short: the offset of every remaining coin (nearest first), the
  blocked directions and the moves left;
- `nearest`: the same with the nearest coin only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from quicktakes.errors import ConfigError
from quicktakes.maze.grid import MOVES, Maze, MazeConfig, generate
from quicktakes.maze.oracle import max_coins
from quicktakes.maze.rules import (
    WORDS,
    MazeState,
    blocked,
    coin_offsets,
    move,
    start_state,
    transition,
)

__all__ = [
    "OBSERVATIONS", "WORDS", "GoldMazeEnv", "MazeState", "Observation", "blocked",
    "coin_offsets", "move", "observation", "probe_conversations", "start_state", "transition",
]
"""The rules are `maze.rules`'; they are named here too, beside what reads them."""

CODES = {"floor": 0, "wall": 1, "coin": 2, "agent": 3}


def _offset(dr: int, dc: int) -> str:
    parts = []
    if dr:
        parts.append(f"{abs(dr)} {'down' if dr > 0 else 'up'}")
    if dc:
        parts.append(f"{abs(dc)} {'right' if dc > 0 else 'left'}")
    return " ".join(parts) or "here"


def _coin_offsets(maze: Maze, state: MazeState) -> list[str]:
    return [_offset(dr, dc) for _, dr, dc in coin_offsets(maze, state)]


def _blocked_text(maze: Maze, state: MazeState) -> str:
    return f"Blocked: {', '.join(blocked(maze, state.pos)) or 'none'}."


def _ask(maze: Maze, state: MazeState, mode: str) -> str:
    left = maze.max_steps - state.t
    if mode == "step":
        return f"{left} moves left."
    return f"{left} moves left. Your next {left} moves, as one string?"


def _grid_text(maze: Maze, state: MazeState, mode: str) -> str:
    return f"{maze.render(state.pos, state.collected())}\n{_ask(maze, state, mode)}"


def _coins_text(maze: Maze, state: MazeState, mode: str) -> str:
    coins = "; ".join(_coin_offsets(maze, state)) or "none"
    return f"Coins: {coins}. {_blocked_text(maze, state)} {_ask(maze, state, mode)}"


def _nearest_text(maze: Maze, state: MazeState, mode: str) -> str:
    offsets = _coin_offsets(maze, state)
    coin = offsets[0] if offsets else "none"
    return f"Nearest coin: {coin}. {_blocked_text(maze, state)} {_ask(maze, state, mode)}"


@dataclass(frozen=True)
class Observation:
    """What the model reads: a one-line system prompt and the text of a state."""

    name: str
    system: str
    render: Callable[[Maze, MazeState, str], str]


_MOVES_LINE = "Reply with moves: U up, D down, L left, R right."
_EGOCENTRIC = "Collect the gold coins in a maze. Offsets are from you. " + _MOVES_LINE
OBSERVATIONS: dict[str, Observation] = {
    "grid": Observation(
        "grid",
        "You play a grid game. @ is you, o is a gold coin, # is a wall, . is floor. "
        "Moving into a wall or the edge does nothing. Collect as many coins as you can. "
        + _MOVES_LINE,
        _grid_text,
    ),
    "coins": Observation("coins", _EGOCENTRIC, _coins_text),
    "nearest": Observation("nearest", _EGOCENTRIC, _nearest_text),
}
"""Prompts stay short: a one-line system prompt, and (coins) about 65 tokens in all."""


def observation(name: str) -> Observation:
    if name not in OBSERVATIONS:
        raise ConfigError(f"unknown observation {name!r}; valid: {', '.join(OBSERVATIONS)}")
    return OBSERVATIONS[name]


class GoldMazeEnv(gym.Env[np.ndarray, int]):
    """Collect gold coins in a generated maze. Reward: +1 per coin. Ends when every coin is
    collected (terminated) or the step limit is reached (truncated).

    The observation array codes the board (`CODES`); `info["text"]` is the chosen text
    observation (`obs=`) that an LLM reads. `reset(seed=s)` generates the maze from `s`, so a
    seed names a maze; `options={"maze": m}` plays a given `Maze`, and `"state"` starts it
    from a given `MazeState` (a rollout from the middle of an episode).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self, render_mode: str | None = None, obs: str = "grid", **config: Any
    ) -> None:
        self.cfg = MazeConfig(**config)
        self.obs = observation(obs)
        self.render_mode = render_mode
        n = self.cfg.size
        self.observation_space = spaces.Box(0, 3, shape=(n, n), dtype=np.int8)
        self.action_space: spaces.Discrete = spaces.Discrete(4)  # type: ignore[assignment]
        self.maze: Maze | None = None
        self.state = MazeState((0, 0))

    def _array(self) -> np.ndarray:
        assert self.maze is not None
        grid = np.where(self.maze.walls, CODES["wall"], CODES["floor"]).astype(np.int8)
        for i, (r, c) in enumerate(self.maze.coins):
            if not self.state.mask >> i & 1:
                grid[r, c] = CODES["coin"]
        grid[self.state.pos] = CODES["agent"]
        return grid

    def text(self, mode: str = "step") -> str:
        assert self.maze is not None, "call reset() first"
        return self.obs.render(self.maze, self.state, mode)

    def _info(self) -> dict[str, Any]:
        assert self.maze is not None
        return {
            "coins": self.state.coins,
            "max_coins": self.optimum,
            "steps_left": self.maze.max_steps - self.state.t,
            "text": self.text(),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:

        super().reset(seed=seed)
        opts = options or {}
        given = opts.get("maze")
        self.maze = given if given is not None else generate(self.cfg, self.np_random)
        self.state = opts.get("state") or start_state(self.maze)
        self.optimum = opts["optimum"] if "optimum" in opts else max_coins(self.maze)
        return self._array(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        assert self.maze is not None, "call reset() first"
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}")
        self.state, reward = transition(self.maze, self.state, int(action))
        terminated = self.state.coins == len(self.maze.coins)
        truncated = not terminated and self.state.t >= self.maze.max_steps
        return self._array(), reward, terminated, truncated, self._info()

    def waste(self) -> bool:
        """A reply with no usable move: the turn is lost. Returns whether the episode ended."""
        assert self.maze is not None, "call reset() first"
        self.state = MazeState(self.state.pos, self.state.mask, self.state.t + 1)
        return self.state.t >= self.maze.max_steps

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.maze is None:
            return None
        return self.maze.render(self.state.pos, self.state.collected())

def probe_conversations(n: int, obs: str = "coins") -> list[list[dict[str, str]]]:
    """The first states of `n` seeded mazes as the lab asks the model about them (system
    prompt and state, no examples): fixed prompts to compare two backends' scores on."""
    env = GoldMazeEnv(obs=obs)
    out = []
    for seed in range(n):
        _, info = env.reset(seed=seed)
        out.append([{"role": "system", "content": env.obs.system},
                    {"role": "user", "content": info["text"]}])
    return out


def register() -> None:
    if "quicktakes/GoldMaze-v0" not in gym.registry:
        gym.register(id="quicktakes/GoldMaze-v0", entry_point=GoldMazeEnv)


register()

__all__ = [
    "MOVES", "OBSERVATIONS", "GoldMazeEnv", "MazeState", "probe_conversations", "transition"
]
