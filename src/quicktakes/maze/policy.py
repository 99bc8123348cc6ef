"""LLM policies for the maze: the prompt, robust parsing, and the two modes.

`step`: one move per call from the current state. With a backend that scores, the move is
drawn from the model's probabilities over U/D/L/R (seeded numpy draw, so a re-run re-uses the
cached scores); otherwise the model generates and the reply is parsed.
`plan`: the whole move string in one completion, constrained by a grammar where possible.
Invalid output never crashes: it is counted and the step is wasted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from quicktakes.llm.base import Backend, Message, Sampling
from quicktakes.llm.cache import SampleCache
from quicktakes.maze.grid import MOVES, Maze

SYSTEM = (
    "You play a grid game. @ is you, o is a gold coin, # is a wall, . is floor. "
    "U moves up, D down, L left, R right; moving into a wall or the edge does nothing. "
    "Collect as many coins as you can. Answer with moves only."
)
WORDS = {"UP": "U", "DOWN": "D", "LEFT": "L", "RIGHT": "R"}


def state_text(
    maze: Maze, pos: tuple[int, int], collected: frozenset[int], left: int, mode: str = "step"
) -> str:
    ask = "Your next move?" if mode == "step" else f"Your next {left} moves, as one string?"
    return f"{maze.render(pos, collected)}\nMoves left: {left}. {ask}"


def parse_move(text: str) -> int | None:
    """The first move in a reply: a U/D/L/R letter standing alone, or a direction word."""
    t = text.strip().upper()
    for word, letter in WORDS.items():
        if t.startswith(word):
            return MOVES.index(letter)
    m = re.search(r"(?<![A-Z])([UDLR])(?![A-Z])", t) or re.match(r"([UDLR])", t)
    return MOVES.index(m.group(1)) if m else None


def parse_plan(text: str, limit: int) -> tuple[list[int], int]:
    """Moves in a plan string and how many characters were not moves (ignoring spaces)."""
    t = text.strip().upper()
    moves = [MOVES.index(ch) for ch in t if ch in "UDLR"][:limit]
    invalid = sum(1 for ch in t if ch not in "UDLR" and not ch.isspace() and ch not in ",.")
    return moves, invalid


PLAN_GRAMMAR = "root ::= [UDLR]+"


@dataclass
class Trajectory:
    maze_seed: int
    states: list[str] = field(default_factory=list)
    moves: list[int] = field(default_factory=list)
    coins: int = 0
    optimum: int = 1
    invalid: int = 0

    @property
    def normalized(self) -> float:
        return self.coins / self.optimum if self.optimum else 0.0


@dataclass
class LLMPolicy:
    backend: Backend
    cache: SampleCache
    mode: Literal["step", "plan"] = "step"
    temperature: float = 0.7
    examples: list[tuple[str, str]] = field(default_factory=list)
    """Few-shot (state, reply) pairs, shown as earlier turns of the conversation."""

    def messages(self, text: str) -> list[Message]:
        msgs: list[Message] = [{"role": "system", "content": SYSTEM}]
        for state, reply in self.examples:
            msgs += [{"role": "user", "content": state}, {"role": "assistant", "content": reply}]
        msgs.append({"role": "user", "content": text})
        return msgs

    def step_move(self, text: str, rng: np.random.Generator, seed: int) -> int | None:
        msgs = self.messages(text)
        if self.backend.can_score:
            logp = np.array(self.cache.score(self.backend, msgs, list(MOVES)))
            if self.temperature <= 0:
                return int(np.argmax(logp))
            z = logp / self.temperature
            p = np.exp(z - z.max())
            return int(rng.choice(4, p=p / p.sum()))
        reply = self.cache.generate(self.backend, msgs, Sampling(self.temperature, 4), [seed])[0]
        return parse_move(reply)

    def plan(self, text: str, limit: int, seed: int) -> tuple[list[int], int]:
        sampling = Sampling(self.temperature, max(4, 2 * limit), grammar=PLAN_GRAMMAR)
        reply = self.cache.generate(self.backend, self.messages(text), sampling, [seed])[0]
        return parse_plan(reply, limit)


def rollout(
    maze: Maze, maze_seed: int, optimum: int, act: Actor, rng: np.random.Generator, seed: int
) -> Trajectory:
    """Play one episode. `act` is an LLMPolicy or anything with the same two methods."""
    traj = Trajectory(maze_seed, optimum=optimum)
    pos, collected = maze.start, frozenset[int]()
    mode = getattr(act, "mode", "step")
    if mode == "plan":
        text = state_text(maze, pos, collected, maze.max_steps, "plan")
        moves, invalid = act.plan(text, maze.max_steps, seed)
        traj.invalid += invalid
        traj.states.append(text)
        plan_moves: Sequence[int | None] = moves
    else:
        plan_moves = []
    for t in range(maze.max_steps):
        if mode == "plan":
            if t >= len(plan_moves):
                break
            move = plan_moves[t]
        else:
            text = state_text(maze, pos, collected, maze.max_steps - t)
            move = act.step_move(text, rng, seed * 1000 + t)
            traj.states.append(text)
        traj.moves.append(-1 if move is None else move)
        if move is None:
            traj.invalid += 1
            continue
        pos = maze.move(pos, move)
        if pos in maze.coins and maze.coins.index(pos) not in collected:
            collected = collected | {maze.coins.index(pos)}
        if len(collected) == len(maze.coins):
            break
    traj.coins = len(collected)
    return traj


class RandomPolicy:
    """Uniform random moves: the floor every method must clear."""

    mode = "step"

    def step_move(self, text: str, rng: np.random.Generator, seed: int) -> int:
        return int(rng.integers(4))

    def plan(self, text: str, limit: int, seed: int) -> tuple[list[int], int]:
        raise NotImplementedError


Actor = LLMPolicy | RandomPolicy
