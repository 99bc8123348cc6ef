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
from typing import Literal, Protocol

import numpy as np

from quicktakes.llm.base import Backend, Message, Sampling
from quicktakes.llm.cache import SampleCache
from quicktakes.maze.env import OBSERVATIONS, GoldMazeEnv, MazeState, Observation
from quicktakes.maze.grid import MOVE_SET, MOVES, Maze
from quicktakes.maze.oracle import Solution, nearest_coin_move

WORDS = {m.word.upper(): m.letter for m in MOVE_SET}
"""A reply may spell the move out: UP, DOWN, LEFT, RIGHT."""


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
    """The text the policy read at each move."""
    moves: list[int] = field(default_factory=list)
    """-1 where the reply held no move (the step is wasted)."""
    visited: list[MazeState] = field(default_factory=list)
    coins: int = 0
    optimum: int = 1
    invalid: int = 0

    @property
    def normalized(self) -> float:
        return self.coins / self.optimum if self.optimum else 0.0

    def rewards(self) -> list[float]:
        """Each move's reward: the share of the optimum's coins it collected (they sum to
        `normalized`). Step mode only, where each move has its state."""
        after = [s.coins for s in self.visited[1:]] + [self.coins]
        return [(a - s.coins) / self.optimum for s, a in zip(self.visited, after, strict=True)]

    def to_go(self) -> np.ndarray:
        """Reward-to-go: what each move and the moves after it collected (the credit a move
        can have earned; the coins before it are not its doing)."""
        return np.cumsum(self.rewards()[::-1])[::-1]

    def scoring_moves(self) -> int:
        """How many moves lead up to and include the last coin collected (0 without coins):
        the moves after it earned nothing, so they carry no credit as SFT targets."""
        if not self.moves:
            return 0
        if len(self.visited) != len(self.moves):  # plan mode: one state, many moves
            return len(self.moves) if self.coins else 0
        after = [s.coins for s in self.visited[1:]] + [self.coins]
        gains = [i for i, (s, a) in enumerate(zip(self.visited, after, strict=True)) if a > s.coins]
        return gains[-1] + 1 if gains else 0


def best_per_maze(groups: Sequence[Sequence[Trajectory]]) -> list[Trajectory]:
    """Each maze's best episode of its group (the first among equals): what poor man's RL,
    and the few-shot prompt built from the model's own samples, keep."""
    return [max(g, key=lambda t: t.normalized) for g in groups]


@dataclass
class LLMPolicy:
    backend: Backend
    cache: SampleCache
    mode: Literal["step", "plan"] = "step"
    temperature: float = 0.7
    examples: list[tuple[str, str]] = field(default_factory=list)
    """Few-shot (state, reply) pairs, shown as earlier turns of the conversation."""
    obs: Observation = OBSERVATIONS["grid"]

    def messages(self, text: str) -> list[Message]:
        msgs: list[Message] = [{"role": "system", "content": self.obs.system}]
        for state, reply in self.examples:
            msgs += [{"role": "user", "content": state}, {"role": "assistant", "content": reply}]
        msgs.append({"role": "user", "content": text})
        return msgs

    def act(
        self,
        envs: Sequence[GoldMazeEnv],
        texts: Sequence[str],
        rngs: Sequence[np.random.Generator],
        seeds: Sequence[int],
    ) -> list[int | None]:
        """One move per state (`texts`: what each env shows); scored states go to the backend
        as one batch."""
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
    """One episode to play: the solved maze, its seed, and the episode's own seed."""

    solution: Solution
    maze_seed: int
    seed: int
    start: MazeState | None = None
    """Play from this state instead of the maze's start."""
    first: int | None = None
    """Make this move first, then let the actor play on."""

    @property
    def maze(self) -> Maze:
        return self.solution.maze


def rollouts(jobs: Sequence[Job], act: Actor, obs: Observation | None = None) -> list[Trajectory]:
    """Play the episodes in GoldMaze-v0 environments, in lockstep, so each step's states reach
    the model as one batch."""
    seen: Observation = obs or getattr(act, "obs", None) or OBSERVATIONS["grid"]
    envs = [GoldMazeEnv(obs=seen.name) for _ in jobs]
    trajs = []
    for env, j in zip(envs, jobs, strict=True):
        env.reset(options={"maze": j.maze, "optimum": j.solution.optimum, "state": j.start})
        trajs.append(Trajectory(j.maze_seed, optimum=j.solution.optimum))
    if act.mode == "plan":
        for env, t, j in zip(envs, trajs, jobs, strict=True):
            _play_plan(env, t, act, j.seed)
        return trajs
    rngs = [np.random.default_rng(j.seed) for j in jobs]
    live = list(range(len(jobs)))
    step = 0
    while live:
        texts = [envs[i].text() for i in live]
        moves: list[int | None] = [None if step else jobs[i].first for i in live]
        asked = [k for k, i in enumerate(live) if step or jobs[i].first is None]
        if asked:  # a forced first move is not asked for (nor scored)
            picked = act.act(
                [envs[live[k]] for k in asked], [texts[k] for k in asked],
                [rngs[live[k]] for k in asked], [jobs[live[k]].seed * 1000 + step for k in asked],
            )
            for k, mv in zip(asked, picked, strict=True):
                moves[k] = mv
        still = []
        for i, text, mv in zip(live, texts, moves, strict=True):
            env, t = envs[i], trajs[i]
            t.states.append(text)
            t.visited.append(env.state)
            t.moves.append(-1 if mv is None else mv)
            if mv is None:
                t.invalid += 1
                done = env.waste()
            else:
                _, _, term, trunc, _ = env.step(mv)
                done = term or trunc
            t.coins = env.state.coins
            if not done:
                still.append(i)
        live = still
        step += 1
    return trajs


def _play_plan(env: GoldMazeEnv, traj: Trajectory, act: Actor, seed: int) -> None:
    assert env.maze is not None
    text = env.text("plan")
    moves, invalid = act.plan(text, env.maze.max_steps, seed)
    traj.states.append(text)
    traj.visited.append(env.state)
    traj.invalid += invalid
    for mv in moves:
        traj.moves.append(mv)
        _, _, term, trunc, _ = env.step(mv)
        if term or trunc:
            break
    traj.coins = env.state.coins


class RandomPolicy:
    """Uniform random moves: the floor every method must clear."""

    mode = "step"

    def act(
        self,
        envs: Sequence[GoldMazeEnv],
        texts: Sequence[str],
        rngs: Sequence[np.random.Generator],
        seeds: Sequence[int],
    ) -> list[int | None]:
        return [int(g.integers(4)) for g in rngs]

    def plan(self, text: str, limit: int, seed: int) -> tuple[list[int], int]:
        raise NotImplementedError


class NearestCoinPolicy(RandomPolicy):
    """Scripted: walk a shortest path to the nearest coin left (the offsets-to-letters bar)."""

    def act(
        self,
        envs: Sequence[GoldMazeEnv],
        texts: Sequence[str],
        rngs: Sequence[np.random.Generator],
        seeds: Sequence[int],
    ) -> list[int | None]:
        return [nearest_coin_move(e.maze, e.state) for e in envs]  # type: ignore[arg-type]



class Actor(Protocol):
    """Whatever plays in the lockstep rollouts: a model, random moves, the scripted walk."""

    @property
    def mode(self) -> str:
        """step: one `act` per move for every env at once; plan: one `plan` per episode."""
        ...

    def act(
        self,
        envs: Sequence[GoldMazeEnv],
        texts: Sequence[str],
        rngs: Sequence[np.random.Generator],
        seeds: Sequence[int],
    ) -> list[int | None]:
        """One move (an index into MOVES, None for an invalid reply) per env."""
        ...

    def plan(self, text: str, limit: int, seed: int) -> tuple[list[int], int]:
        """Up to `limit` moves for a whole episode, and how many characters were not moves."""
        ...
