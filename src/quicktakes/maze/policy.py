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


def move_distribution(logp: np.ndarray, temperature: float) -> np.ndarray:
    """The policy: a softmax over the four moves' log-probabilities at `temperature`."""
    z = logp / max(temperature, 1e-8)
    p = np.exp(z - z.max())
    return np.asarray(p / p.sum())


def sample_move(logp: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    if temperature <= 0:
        return int(np.argmax(logp))
    return int(rng.choice(4, p=move_distribution(logp, temperature)))


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

    def step_moves(
        self, texts: Sequence[str], rngs: Sequence[np.random.Generator], seeds: Sequence[int]
    ) -> list[int | None]:
        """One move per state; scored states go to the backend as one batch."""
        convs = [self.messages(t) for t in texts]
        if self.backend.can_score:
            rows = self.cache.score_batch(self.backend, convs, list(MOVES))
            return [
                sample_move(np.array(r), self.temperature, g)
                for r, g in zip(rows, rngs, strict=True)
            ]
        moves: list[int | None] = []
        for conv, seed in zip(convs, seeds, strict=True):
            sampling = Sampling(self.temperature, 4)
            reply = self.cache.generate(self.backend, conv, sampling, [seed])[0]
            moves.append(parse_move(reply))
        return moves

    def plan(self, text: str, limit: int, seed: int) -> tuple[list[int], int]:
        sampling = Sampling(self.temperature, max(4, 2 * limit), grammar=PLAN_GRAMMAR)
        reply = self.cache.generate(self.backend, self.messages(text), sampling, [seed])[0]
        return parse_plan(reply, limit)


@dataclass
class Job:
    """One episode to play: the maze, its seed and optimum, and the episode's own seed."""

    maze: Maze
    maze_seed: int
    optimum: int
    seed: int


def rollouts(jobs: Sequence[Job], act: Actor) -> list[Trajectory]:
    """Play the episodes in lockstep, so each step's states reach the model as one batch."""
    trajs = [Trajectory(j.maze_seed, optimum=j.optimum) for j in jobs]
    if act.mode == "plan":
        for j, t in zip(jobs, trajs, strict=True):
            _play_plan(j, t, act)
        return trajs
    rngs = [np.random.default_rng(j.seed) for j in jobs]
    pos = [j.maze.start for j in jobs]
    got: list[frozenset[int]] = [frozenset() for _ in jobs]
    live = list(range(len(jobs)))
    for step in range(max((j.maze.max_steps for j in jobs), default=0)):
        live = [
            i
            for i in live
            if step < jobs[i].maze.max_steps and len(got[i]) < len(jobs[i].maze.coins)
        ]
        if not live:
            break
        texts = [
            state_text(jobs[i].maze, pos[i], got[i], jobs[i].maze.max_steps - step) for i in live
        ]
        moves = act.step_moves(
            texts, [rngs[i] for i in live], [jobs[i].seed * 1000 + step for i in live]
        )
        for i, text, move in zip(live, texts, moves, strict=True):
            trajs[i].states.append(text)
            trajs[i].moves.append(-1 if move is None else move)
            if move is None:
                trajs[i].invalid += 1
                continue
            pos[i], got[i] = advance(jobs[i].maze, pos[i], got[i], move)
    for t, g in zip(trajs, got, strict=True):
        t.coins = len(g)
    return trajs


def advance(
    maze: Maze, pos: tuple[int, int], got: frozenset[int], move: int
) -> tuple[tuple[int, int], frozenset[int]]:
    """One move: the new position and the coins collected so far."""
    pos = maze.move(pos, move)
    if pos in maze.coins:
        got = got | {maze.coins.index(pos)}
    return pos, got


def _play_plan(job: Job, traj: Trajectory, act: Actor) -> None:
    maze = job.maze
    text = state_text(maze, maze.start, frozenset(), maze.max_steps, "plan")
    moves, invalid = act.plan(text, maze.max_steps, job.seed)
    traj.states.append(text)
    traj.invalid += invalid
    pos, got = maze.start, frozenset[int]()
    for move in moves:
        traj.moves.append(move)
        pos, got = advance(maze, pos, got, move)
        if len(got) == len(maze.coins):
            break
    traj.coins = len(got)


class RandomPolicy:
    """Uniform random moves: the floor every method must clear."""

    mode = "step"

    def step_moves(
        self, texts: Sequence[str], rngs: Sequence[np.random.Generator], seeds: Sequence[int]
    ) -> list[int | None]:
        return [int(g.integers(4)) for g in rngs]

    def plan(self, text: str, limit: int, seed: int) -> tuple[list[int], int]:
        raise NotImplementedError


Actor = LLMPolicy | RandomPolicy
