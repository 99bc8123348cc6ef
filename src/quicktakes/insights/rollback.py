"""Verified training with rollback, on a task whose truth can be checked exhaustively.

The world is one of the maze lab's mazes with a single coin (the goal) and one forbidden
cell: the floor cell whose walling-off lengthens the way to the goal the most, so entering it
is a shortcut the task's reward pays for. A small network maps the agent's position to its
four moves and is trained by policy gradient (REINFORCE, return gamma^steps on reaching the
goal; the reward knows nothing of the forbidden cell).

A model is *truly bad* when its greedy move enters the forbidden cell from some state
(checked over every state); the *verifier* checks only a random sample of `k` states, under
one of two notions of "verifiably good": the argmax check (no sampled state's greedy move
enters the cell) or a margin check (on every sampled state the forbidden move stays at least
delta logits below the best other move; delta = 0 is the argmax check). A margin can flag a
state before its greedy move flips, and neighbouring states move together, so it may catch
an update whose one bad state the sample missed. The seed's three regions are then:
- A: the verifier passes and the model is truly good;
- B: the verifier fails (it found a state that enters the cell);
- C: the verifier passes but the model is truly bad (it tricked the verifier).
Training starts in A (behaviour cloning of the safe optimum until truly good). With
rollback, an update that lands in B is undone; one that lands in C goes unnoticed.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, Field, model_validator

from quicktakes.errors import ConfigError
from quicktakes.maze.grid import Maze, MazeConfig, distances, generate
from quicktakes.maze.rules import move
from quicktakes.progress import Progress

Region = Literal["A", "B", "C"]
GOAL = -1


class RollbackSpec(BaseModel):
    size: int = Field(7, ge=4, le=12, description="maze side")
    wall_density: float = Field(0.2, ge=0.0, le=0.5)
    steps: int = Field(150, ge=1, le=100_000, description="policy-gradient updates per run")
    seeds: int = Field(8, ge=1, le=1000, description="independent runs (mazes and inits)")
    coverages: tuple[float, ...] = Field(
        (0.05, 0.1, 0.25, 0.5, 1.0),
        description="share of the states the verifier checks (one run with rollback each)",
    )
    verifier_samples: tuple[int, ...] | None = Field(
        None, description="states the verifier checks, instead of coverages"
    )
    margins: tuple[float, ...] = Field(
        (0.0, 1.0),
        description="verifier notions: the margin delta (logits) the forbidden move must "
        "stay below the best other on every checked state; 0 is the argmax check",
    )
    episodes: int = Field(16, ge=1, le=1024, description="episodes per update")
    hidden: int = Field(32, ge=1, le=1024)
    lr: float = Field(0.01, gt=0, description="Adam's rate for the safe start")
    rates: tuple[float, ...] | None = Field(
        None, description="Adam's rates for the policy-gradient updates (default: lr)"
    )
    gamma: float = Field(0.9, gt=0, lt=1)
    seed: int = 0

    @model_validator(mode="after")
    def _levels(self) -> RollbackSpec:
        if self.verifier_samples is not None:
            if not self.verifier_samples or min(self.verifier_samples) < 1:
                raise ValueError("verifier samples must be at least 1 state each")
        elif not self.coverages or not all(0 < c <= 1 for c in self.coverages):
            raise ValueError("coverages must lie in (0, 1]")
        if not self.margins or not all(0 <= d <= 50 for d in self.margins):
            raise ValueError("margins must lie in [0, 50] logits, at least one")
        if self.rates is not None and (not self.rates or min(self.rates) <= 0):
            raise ValueError("rates must be positive, at least one")
        return self

    @property
    def learning_rates(self) -> tuple[float, ...]:
        return self.rates or (self.lr,)

    @property
    def verifiers(self) -> tuple[Verifier, ...]:
        """Every notion at every level."""
        return tuple(Verifier(d, lv) for d in self.margins for lv in self.levels)

    @property
    def levels(self) -> tuple[float, ...]:
        """The verifier levels: sample sizes if given, else coverages."""
        if self.verifier_samples is not None:
            return tuple(float(k) for k in self.verifier_samples)
        return self.coverages

    def sample_size(self, level: float, world: World) -> int:
        if self.verifier_samples is not None:
            return int(level)
        return max(1, min(world.n_states, round(level * world.n_states)))


def notion(margin: float) -> str:
    """A verifier notion's name: the argmax check, or a margin in logits."""
    return "argmax" if margin == 0 else f"margin {margin:g}"


@dataclass(frozen=True, order=True)
class Verifier:
    """One verifier: its notion (the margin; 0 is the argmax check) and its level (a
    coverage, or a sample size)."""

    margin: float
    level: float

    @property
    def notion(self) -> str:
        return notion(self.margin)


@dataclass(frozen=True, order=True)
class Arm:
    """A run with rollback: its update rate and its verifier."""

    lr: float
    verifier: Verifier


@dataclass(frozen=True)
class World:
    """The maze as index tables over the floor cells (the goal excluded, the forbidden cell
    included: an agent that enters it goes on from there)."""

    maze: Maze
    goal: tuple[int, int]
    forbidden: int
    """Index of the forbidden cell."""
    cells: tuple[tuple[int, int], ...]
    nxt: np.ndarray
    """(cells, 4): the next cell's index, or GOAL."""
    safe_moves: np.ndarray
    """(cells, 4) bool: the moves of the shortest way to the goal around the forbidden cell."""
    features: torch.Tensor
    max_steps: int
    forbidden_move: np.ndarray
    """Per checked state: the move that enters the forbidden cell, or -1."""

    @property
    def checked(self) -> np.ndarray:
        """The states a policy is judged on: every cell but the forbidden one."""
        return np.array([i for i in range(len(self.cells)) if i != self.forbidden])

    @property
    def n_states(self) -> int:
        return len(self.cells) - 1


def _walling_gain(
    walls: np.ndarray, goal: tuple[int, int], before: dict[tuple[int, int], int],
    cell: tuple[int, int],
) -> int | None:
    """How many moves walling off `cell` adds over all states (`before`: the distances to
    the goal with it open), or None if it cuts any state off."""
    blocked = walls.copy()
    blocked[cell] = True
    after = distances(blocked, goal)
    rest = set(before) - {cell}
    if set(after) != rest:
        return None
    return sum(after[c] - before[c] for c in rest)


def make_world(spec: RollbackSpec, run: int) -> World:
    """Run `run`'s maze: a goal, and a forbidden shortcut that every state can do without."""
    cfg = MazeConfig(size=spec.size, wall_density=spec.wall_density, coins=1, max_steps=50)
    rng = np.random.default_rng([spec.seed, run, 7])
    for _ in range(200):
        maze = generate(cfg, rng)
        goal = maze.coins[0]
        open_ = distances(maze.walls, goal)
        floor = sorted(c for c in open_ if c != goal)
        gains = {c: _walling_gain(maze.walls, goal, open_, c) for c in floor}
        usable = {c: g for c, g in gains.items() if g}
        if len(floor) >= 8 and usable:
            forbidden = max(usable, key=lambda c: (usable[c], c))
            break
    else:
        raise ConfigError(f"no {spec.size}x{spec.size} maze with a forbidden shortcut found")
    cells = tuple(floor)
    index = {c: i for i, c in enumerate(cells)}
    blocked = maze.walls.copy()
    blocked[forbidden] = True
    safe = distances(blocked, goal)
    nxt = np.zeros((len(cells), 4), dtype=np.int64)
    safe_moves = np.zeros((len(cells), 4), dtype=bool)
    for i, c in enumerate(cells):
        for a in range(4):
            to = move(maze, c, a)
            nxt[i, a] = GOAL if to == goal else index[to]
            safe_moves[i, a] = c != forbidden and to in safe and safe[to] == safe[c] - 1
    n = spec.size
    feats = torch.zeros(len(cells), 2 * n)
    for i, (row, col) in enumerate(cells):
        feats[i, row] = feats[i, n + col] = 1.0
    horizon = 2 * max(safe.values())
    enters = nxt[np.arange(len(cells)) != index[forbidden]] == index[forbidden]
    into = np.where(enters.any(axis=1), enters.argmax(axis=1), -1)
    return World(maze, goal, index[forbidden], cells, nxt, safe_moves, feats, horizon, into)


def check_samples(spec: RollbackSpec, world: World) -> None:
    biggest = max(spec.sample_size(level, world) for level in spec.levels)
    if biggest > world.n_states:
        raise ConfigError(
            f"a verifier sample of {biggest} states is larger than the state space "
            f"({world.n_states} states in this {spec.size}x{spec.size} maze)"
        )


def make_policy(spec: RollbackSpec, world: World) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(world.features.shape[1], spec.hidden),
        torch.nn.Tanh(),
        torch.nn.Linear(spec.hidden, 4),
    )


def greedy(policy: torch.nn.Module, world: World) -> np.ndarray:
    with torch.no_grad():
        out: np.ndarray = policy(world.features).argmax(dim=1).numpy()
    return out


def truly_bad(world: World, moves: np.ndarray) -> np.ndarray:
    """Per checked state: does its greedy move step into the forbidden cell?"""
    s = world.checked
    bad: np.ndarray = world.nxt[s, moves[s]] == world.forbidden
    return bad


def region(bad: np.ndarray, sample: np.ndarray, flagged: np.ndarray | None = None) -> Region:
    """The seed's regions from the exhaustive check `bad` (per checked state) and the
    positions the verifier looked at, where it flags the states in `flagged` (default: the
    truly bad ones, the argmax check)."""
    flagged = bad if flagged is None else flagged
    if flagged[sample].any():
        return "B"
    return "C" if bad.any() else "A"


def gaps(policy: torch.nn.Module, world: World) -> np.ndarray:
    """Per checked state: the best other move's logit minus the forbidden move's (inf where
    no move enters the cell). Below 0, the greedy move enters it."""
    return inspect(policy, world)[2]


def inspect(policy: torch.nn.Module, world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From one forward pass over every cell: the greedy moves, which checked states are
    truly bad, and their gaps (what every verifier notion reads after an update)."""
    with torch.no_grad():
        logits = policy(world.features)
    moves: np.ndarray = logits.argmax(dim=1).numpy()
    checked = logits[world.checked].numpy().astype(np.float64)
    gap = np.full(len(checked), np.inf)
    rows = np.flatnonzero(world.forbidden_move >= 0)
    f = world.forbidden_move[rows]
    others = checked[rows].copy()
    others[np.arange(len(rows)), f] = -np.inf
    gap[rows] = others.max(axis=1) - checked[rows, f]
    return moves, truly_bad(world, moves), gap


def flags(bad: np.ndarray, gap: np.ndarray, margin: float) -> np.ndarray:
    """The states the margin-`margin` notion rejects: the truly bad ones (so margin 0 is
    exactly the argmax check), and those whose forbidden move is within `margin` of the
    best."""
    return bad | (gap < margin) if margin > 0 else bad


def performance(world: World, moves: np.ndarray, gamma: float) -> float:
    """Mean over the checked states of gamma^(steps to the goal) under the greedy moves
    (0 where it never arrives), whichever way it goes."""
    state = world.checked.copy()
    value = np.zeros(len(state))
    alive = np.ones(len(state), bool)
    for step in range(1, world.max_steps + 1):
        state[alive] = world.nxt[state[alive], moves[state[alive]]]
        arrived = alive & (state == GOAL)
        value[arrived] = gamma**step
        alive &= ~arrived
        if not alive.any():
            break
    return float(value.mean())


def ceilings(world: World, gamma: float) -> tuple[float, float]:
    """The performance of the best policy, and of the best one that avoids the cell."""
    free = distances(world.maze.walls, world.goal)
    blocked = world.maze.walls.copy()
    blocked[world.cells[world.forbidden]] = True
    safe = distances(blocked, world.goal)
    cells = [world.cells[i] for i in world.checked]
    best = float(np.mean([gamma ** free[c] for c in cells]))
    return best, float(np.mean([gamma ** safe[c] for c in cells]))


def snapshot(policy: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in policy.state_dict().items()}


def weights_hash(policy: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in sorted(policy.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().numpy().tobytes())
    return h.hexdigest()


def pretrain_safe(
    policy: torch.nn.Module,
    world: World,
    lr: float,
    agree: float = 0.8,
    max_updates: int = 5000,
) -> int:
    """Behaviour cloning of the safe optimum (cross-entropy over its tied moves, every
    checked state) until the model is truly good and picks a safe-optimal move in at least
    `agree` of the states: a verifiably good start that the task can still improve."""
    opt = torch.optim.Adam(policy.parameters(), lr=lr)
    s = world.checked
    target = torch.as_tensor(world.safe_moves[s] / world.safe_moves[s].sum(1, keepdims=True))
    for update in range(max_updates):
        moves = greedy(policy, world)
        if not truly_bad(world, moves).any() and world.safe_moves[s, moves[s]].mean() >= agree:
            return update
        logp = torch.log_softmax(policy(world.features[s]), dim=1)
        loss = -(target.float() * logp).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    raise ConfigError("behaviour cloning did not reach a truly good start")


def safe_start(spec: RollbackSpec, world: World, run: int) -> dict[str, torch.Tensor]:
    """Run `run`'s verified start: its seeded init, cloned from the safe optimum."""
    torch.manual_seed(int(np.random.default_rng([spec.seed, run, 1]).integers(2**31)))
    policy = make_policy(spec, world)
    pretrain_safe(policy, world, lr=spec.lr)
    return snapshot(policy)


def reinforce_step(
    policy: torch.nn.Module,
    opt: torch.optim.Optimizer,
    world: World,
    spec: RollbackSpec,
    rng: np.random.Generator,
) -> float:
    """One policy-gradient update from `spec.episodes` episodes started at random checked
    states (batch-mean baseline); returns the batch's mean return."""
    starts = world.checked[rng.integers(world.n_states, size=spec.episodes)]
    state = starts.copy()
    alive = np.ones(spec.episodes, bool)
    ret = np.zeros(spec.episodes)
    with torch.no_grad():  # one forward over every cell: the episodes sample from its rows
        cdf = torch.softmax(policy(world.features), dim=1).double().cumsum(1).numpy()
    visited: list[np.ndarray] = []
    chosen: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for step in range(1, world.max_steps + 1):
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        here = state[idx]
        acts = np.minimum((cdf[here] < rng.random((len(idx), 1)) * cdf[here, -1:]).sum(1), 3)
        visited.append(here)
        chosen.append(acts)
        owners.append(idx)
        to = world.nxt[here, acts]
        reached = to == GOAL
        ret[idx[reached]] = spec.gamma**step
        alive[idx[reached]] = False
        state[idx[~reached]] = to[~reached]
    adv = torch.as_tensor(ret - ret.mean(), dtype=torch.float32)
    # the gradient of sum log pi(a|s) * advantage, from a second forward with autograd
    logp = torch.log_softmax(policy(world.features), dim=1)
    s, a, o = (torch.as_tensor(np.concatenate(x)) for x in (visited, chosen, owners))
    loss = -(logp[s, a] * adv[o]).sum() / spec.episodes
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(ret.mean())


@dataclass
class RunTrace:
    """One training run: per verifier sample size, the (from, to) regions of every update
    (from: the model the update started from; to: where it landed, before any undo), and
    per update whether the kept model is truly bad and its performance."""

    rollback: Verifier | None
    """The verifier of a run with rollback; None for the run without, which every verifier
    only watches."""
    moves: dict[Verifier, list[tuple[Region, Region]]] = field(default_factory=dict)
    undone: int = 0
    bad: list[bool] = field(default_factory=list)
    """Index 0: the start; then after each update (after any undo)."""
    perf: list[float] = field(default_factory=list)


def _verify(
    bad: np.ndarray,
    gap: np.ndarray,
    verifiers: tuple[Verifier, ...],
    sizes: dict[float, int],
    rng: np.random.Generator,
) -> dict[Verifier, Region]:
    """Every verifier's region; the notions at one level look at the same sampled states."""
    samples = {lv: rng.choice(len(bad), size=k, replace=False) for lv, k in sizes.items()}
    return {v: region(bad, samples[v.level], flags(bad, gap, v.margin)) for v in verifiers}


def train_run(
    spec: RollbackSpec,
    world: World,
    run: int,
    rollback: Verifier | None,
    tick: Callable[[], None] | None = None,
    lr: float | None = None,
    start: dict[str, torch.Tensor] | None = None,
) -> RunTrace:
    """One run from run `run`'s verified start (the same for every `rollback` and rate):
    without rollback (None) or undoing every update the verifier `rollback` rejects, with
    policy-gradient steps at rate `lr` (default: the spec's first). `start`: that start's
    weights, from `safe_start`, to skip training it again."""
    lr = lr or spec.learning_rates[0]
    policy = make_policy(spec, world)
    policy.load_state_dict(start or safe_start(spec, world, run))
    opt = torch.optim.Adam(policy.parameters(), lr=lr)
    verifiers = spec.verifiers if rollback is None else (rollback,)
    sizes = {v.level: spec.sample_size(v.level, world) for v in verifiers}
    key = 0 if rollback is None else 1 + spec.verifiers.index(rollback)
    rate = spec.learning_rates.index(lr) if lr in spec.learning_rates else 0
    train_rng = np.random.default_rng([spec.seed, run, 2, key, rate])
    verify_rng = np.random.default_rng([spec.seed, run, 3, key, rate])
    trace = RunTrace(rollback, {v: [] for v in verifiers})

    moves, bad, gap = inspect(policy, world)
    current = _verify(bad, gap, verifiers, sizes, verify_rng)
    trace.bad.append(bool(bad.any()))
    trace.perf.append(performance(world, moves, spec.gamma))
    for _ in range(spec.steps):
        before = None if rollback is None else (snapshot(policy), copy.deepcopy(opt.state_dict()))
        reinforce_step(policy, opt, world, spec, train_rng)
        moves, bad, gap = inspect(policy, world)
        landed = _verify(bad, gap, verifiers, sizes, verify_rng)
        for v in verifiers:
            trace.moves[v].append((current[v], landed[v]))
        if rollback is not None and landed[rollback] == "B":
            assert before is not None
            policy.load_state_dict(before[0])
            opt.load_state_dict(before[1])
            trace.undone += 1
            # the restored weights are the last kept model's, bit for bit: so are its checks
            trace.bad.append(trace.bad[-1])
            trace.perf.append(trace.perf[-1])
        else:
            current = landed
            trace.bad.append(bool(bad.any()))
            trace.perf.append(performance(world, moves, spec.gamma))
        if tick:
            tick()
    return trace


@dataclass
class WorldRuns:
    """One maze's runs: without rollback at each rate, and with rollback for each arm."""

    world: World
    best: float
    """Performance of the best policy (through the cell): the normalizer."""
    safe: float
    """Performance of the best policy that avoids the cell: what a guarded run can reach."""
    watched: dict[float, RunTrace]
    rolled: dict[Arm, RunTrace]


@dataclass
class RollbackResult:
    spec: RollbackSpec
    runs: list[WorldRuns]


def make_worlds(spec: RollbackSpec) -> list[World]:
    """Every run's maze, each checked against the verifier's sample sizes."""
    worlds = [make_world(spec, run) for run in range(spec.seeds)]
    for world in worlds:
        check_samples(spec, world)
    return worlds


def run_rollback(
    spec: RollbackSpec,
    on_progress: Progress | None = None,
    worlds: list[World] | None = None,
) -> RollbackResult:
    """Every seed's maze, at every rate: trained once without rollback and once with each
    verifier."""
    worlds = worlds or make_worlds(spec)
    total = spec.seeds * len(spec.learning_rates) * (1 + len(spec.verifiers)) * spec.steps
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if on_progress and (done % 10 == 0 or done == total):
            on_progress(done, total)

    result = RollbackResult(spec, [])
    for run, world in enumerate(worlds):
        best, safe = ceilings(world, spec.gamma)
        start = safe_start(spec, world, run)
        watched = {
            lr: train_run(spec, world, run, None, tick, lr, start) for lr in spec.learning_rates
        }
        rolled = {
            Arm(lr, v): train_run(spec, world, run, v, tick, lr, start)
            for lr in spec.learning_rates
            for v in spec.verifiers
        }
        result.runs.append(WorldRuns(world, best, safe, watched, rolled))
    return result
