"""The prompting methods and the references, each a loop with a trend over iterations on
held-out test mazes.

Budgets are counted in sampled trajectories (episodes), the unit every method spends:
- random / heuristic: uniform random moves, and the scripted nearest-coin walk (references);
- zero-shot: the test episodes only;
- best-of-N: N episodes per test maze, keeping each maze's best (what selection alone buys,
  using the reward on the test mazes themselves);
- few-shot ("very poor man's RL"): each iteration samples N episodes per training maze with
  the current prompt, keeps each maze's best, and puts the top-K (state, move) pairs of those
  best episodes into the prompt for the next iteration; evaluated on the test mazes each time;
- oracle few-shot: prompting's ceiling, the prompt holding K optimal (state, move) pairs from
  the training mazes' solved paths instead of the model's own best; spends no episodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from quicktakes.errors import ConfigError
from quicktakes.maze.env import Observation, observation
from quicktakes.maze.grid import MOVES, MazeConfig, maze_seeds
from quicktakes.maze.oracle import MazeBank, optimal_rollout
from quicktakes.maze.policy import (
    Actor,
    Job,
    LLMPolicy,
    NearestCoinPolicy,
    RandomPolicy,
    Trajectory,
    best_per_maze,
    rollouts,
)
from quicktakes.maze.spec import LabSpec
from quicktakes.progress import Note
from quicktakes.rng import derive_seed
from quicktakes.stats import mean_ci

if TYPE_CHECKING:
    from quicktakes.maze.verify import Verifier


@dataclass
class IterationResult:
    iteration: int
    samples_used: int
    """Cumulative episodes this method has sampled to learn from (or, for best-of-n, to
    answer with) so far; held-out evaluation episodes are not counted."""
    mean: float
    lo: float
    hi: float
    n: int
    invalid_rate: float
    examples: int = 0
    scores: list[float] = field(default_factory=list)
    """Each held-out maze's score (the mean of its episodes), in the held-out mazes' order:
    every method and iteration plays the same mazes, so the claims compare them in pairs."""
    optimal_mass: list[float] = field(default_factory=list)
    """A fine-tuning run's held-out mazes, each: the policy's mean probability on the
    optimal moves along the maze's optimal path (`maze.train.optimal_mass`): a learning
    signal that moves before greedy play flips. Empty where not measured."""
    top_move_share: float | None = None
    """The share of the held-out episodes' moves that were the most common move: 1.0 is a
    policy that plays one move whatever it reads (the embedded model's greedy play on the
    7x7 maze is always "D"), so a learner whose score stays flat has not yet made its play
    depend on the state. None for the references."""


@dataclass
class LabResult:
    config: BaseModel
    """The run's spec (a LabSpec; the tabular reference records its own config)."""
    model: str
    iterations: list[IterationResult] = field(default_factory=list)
    served_by: str | None = None
    """The server episodes were sampled from, when not from `model` in-process."""
    rate_sweep: dict[str, object] | None = None
    """How the rate in `config` was chosen, when a sweep chose it (`maze.sweep`)."""
    updates: list[dict[str, float]] = field(default_factory=list)
    """A fine-tuning run's diagnostics of every update in order (loss, entropy, KL moved,
    collapse, advantages), also those between checkpoints: update k follows iteration k."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.model_dump(),
            "model": self.model,
            "served_by": self.served_by,
            "rate_sweep": self.rate_sweep,
            "iterations": [vars(i) for i in self.iterations],
            "updates": self.updates,
        }


def episodes(
    actor: Actor, mazes: MazeBank, seeds: list[int], per_maze: int | Sequence[int],
    run_seed: int, tag: str, obs: str | None = None,
) -> list[list[Trajectory]]:
    """`per_maze` episodes on each maze (or `per_maze[i]` on maze i), each with its own derived
    seed, played in lockstep. Episode e of a maze has the same seed whatever the count, so a
    larger draw extends a smaller one."""
    counts = [per_maze] * len(seeds) if isinstance(per_maze, int) else list(per_maze)
    jobs = []
    for ms, count in zip(seeds, counts, strict=True):
        sol = mazes(ms)
        for e in range(count):
            jobs.append(Job(sol, ms, derive_seed(run_seed, tag, str(ms), str(e)) % 2**31))
    flat = rollouts(jobs, actor, observation(obs) if obs else None)
    ends = np.cumsum([0, *counts])
    return [flat[a:b] for a, b in zip(ends[:-1], ends[1:], strict=True)]


def evaluate(
    policy: LLMPolicy, mazes: MazeBank, test: list[int], spec: LabSpec, tag: str
) -> list[list[Trajectory]]:
    """The held-out episodes one checkpoint scores: `spec.eval_episodes` sampled episodes per
    maze, or one greedy episode (the most probable move at every state). Evaluation episodes
    are not spent samples: no method learns from them."""
    if spec.evaluation == "greedy":
        return episodes(replace(policy, temperature=0.0), mazes, test, 1, spec.seed, tag)
    return episodes(policy, mazes, test, spec.eval_episodes, spec.seed, tag)


def episode_tag(method: str, split: str, iteration: int) -> str:
    """The seed stream of one batch of episodes. Every method starts from the base model, so
    iteration 0 is one stream for all of them: the learners and the prompting methods begin
    from the very same episodes (common random numbers; the sample cache scores them once),
    and differ only in what they do with them."""
    return f"base-{split}0" if iteration == 0 else f"{method}-{split}{iteration}"


def summarize(
    it: int, used: int, groups: list[list[float]], invalid: float, shots: int = 0
) -> IterationResult:
    scores = np.array([x for g in groups for x in g])
    m, lo, hi = mean_ci(scores)
    per_maze = [round(float(np.mean(g)), 6) for g in groups]
    return IterationResult(
        it, used, m, max(0.0, lo), min(1.0, hi), int(scores.size), invalid, shots,
        scores=per_maze,
    )


def checkpoint(
    it: int, used: int, trajs: list[list[Trajectory]], shots: int = 0
) -> IterationResult:
    """A model's held-out episodes read as one checkpoint: each maze's score, the invalid
    replies and how varied its moves were."""
    out = summarize(it, used, [[t.normalized for t in g] for g in trajs], invalid_rate(trajs),
                    shots)
    moves = [m for g in trajs for t in g for m in t.moves if m >= 0]
    if moves:
        out.top_move_share = round(float(np.bincount(moves).max() / len(moves)), 4)
    return out


def invalid_rate(trajs: list[list[Trajectory]]) -> float:
    flat = [t for g in trajs for t in g]
    steps = sum(max(1, len(t.moves)) for t in flat)
    return sum(t.invalid for t in flat) / steps if steps else 0.0


def best_examples(best: list[Trajectory], shots: int, mode: str = "step") -> list[tuple[str, str]]:
    """Top-K examples from the best episodes, coin-collecting episodes first: (state, move)
    pairs in step mode, (start state, whole move string) in plan mode."""
    ranked = sorted(best, key=lambda t: -t.normalized)
    pairs: list[tuple[str, str]] = []
    for t in ranked:
        if t.coins == 0:
            continue
        if mode == "plan":
            pairs.append((t.states[0], "".join(MOVES[m] for m in t.moves if m >= 0)))
            continue
        for state, move in zip(t.states, t.moves, strict=False):
            if move >= 0:
                pairs.append((state, MOVES[move]))
    return pairs[:shots]


def oracle_examples(
    mazes: MazeBank, seeds: Sequence[int], shots: int, obs: Observation, seed: int
) -> list[tuple[str, str]]:
    """Prompting's ceiling: `shots` (state, move) pairs whose move is the only optimal one,
    from the optimal paths of the training mazes `seeds`, as even over the four moves as the
    paths allow (a prompt of one move would teach that move), in a seeded order. The labels
    come from the solver, not from samples: no episode is spent."""
    by_move: dict[str, list[tuple[str, str]]] = {m: [] for m in MOVES}
    for s in seeds:
        sol = mazes(s)
        for state, best in optimal_rollout(sol):
            if len(best) == 1:
                move = MOVES[best[0]]
                by_move[move].append((obs.render(sol.maze, state, "step"), move))
    pairs: list[tuple[str, str]] = []
    for k in range(max(map(len, by_move.values()), default=0)):
        pairs += [v[k] for v in by_move.values() if k < len(v)]
    if not pairs:
        raise ConfigError("the training mazes' optimal paths have no state with one best move")
    picked = pairs[:shots]
    order = np.random.default_rng(seed).permutation(len(picked))
    return [picked[i] for i in order]


def tabular_reference(
    config: BaseModel, maze: MazeConfig, seed: int, grid: tuple[int, ...], test: list[int]
) -> LabResult:
    """Per-maze tabular Q-learning with E episodes on each held-out maze, E on `grid`: what
    the sample budget buys with a perfect memory of the very maze."""
    from quicktakes.maze.tabular import tabular_score

    mazes = MazeBank(maze)
    out = LabResult(config, "tabular Q-learning")
    for k, n_episodes in enumerate(grid):
        scores = []
        for ms in test:
            sol = mazes(ms)
            rng = np.random.default_rng([seed, ms, n_episodes])
            scores.append(tabular_score(sol.maze, sol.optimum, n_episodes, rng))
        m, lo, hi = mean_ci(np.array(scores))
        out.iterations.append(
            IterationResult(
                k, n_episodes * len(test), m, max(lo, 0.0), min(hi, 1.0), len(scores), 0.0,
                scores=[round(float(x), 6) for x in scores],
            )
        )
    return out


def run_prompting(
    spec: LabSpec, policy: LLMPolicy | None, note: Note | None = None
) -> LabResult:
    """The references and the prompting methods (`spec.method` in `PROMPTING`)."""
    mazes = MazeBank(spec.maze)
    test = spec.scored_mazes()
    train = maze_seeds("train", spec.train_mazes)
    model = policy.backend.model_id if policy else "none"
    result = LabResult(spec, model)
    note = note or (lambda s: None)
    used = 0
    if spec.method == "q-table":
        grid = tuple(spec.samples * 2**k for k in range(spec.iterations))
        return tabular_reference(spec, spec.maze, spec.seed, grid, test)
    if not spec.needs_model or policy is None:
        actor: Actor = NearestCoinPolicy() if spec.method == "heuristic" else RandomPolicy()
        for it in range(spec.iterations):
            trajs = episodes(
                actor, mazes, test, spec.samples, spec.seed, f"{spec.method}{it}", spec.obs
            )
            used += sum(len(g) for g in trajs)
            result.iterations.append(
                summarize(it, used, [[t.normalized for t in g] for g in trajs], 0.0)
            )
        return result
    if spec.method == "zero-shot":
        for it in range(spec.iterations):
            note(f"zero-shot, iteration {it}")
            trajs = evaluate(policy, mazes, test, spec, episode_tag("zero", "test", it))
            result.iterations.append(checkpoint(it, used, trajs))
        return result
    if spec.method == "oracle-few-shot":
        policy.examples = oracle_examples(mazes, train, spec.shots, policy.obs, spec.seed)
        for it in range(spec.iterations):
            note(f"oracle few-shot ({len(policy.examples)} optimal moves), iteration {it}")
            trajs = evaluate(policy, mazes, test, spec, episode_tag("oracle-shot", "test", it))
            result.iterations.append(checkpoint(it, used, trajs, len(policy.examples)))
        return result
    if spec.method == "best-of-n":
        for it in range(spec.iterations):
            note(f"best-of-{spec.samples}, iteration {it}")
            tag = episode_tag("bon", "test", it)
            trajs = episodes(policy, mazes, test, spec.samples, spec.seed, tag)
            used += spec.samples * len(test)
            best_scores = [[max(t.normalized for t in g)] for g in trajs]
            result.iterations.append(summarize(it, used, best_scores, invalid_rate(trajs)))
        return result
    # few-shot: very poor man's RL
    verifier: Verifier | None = None
    for it in range(spec.iterations):
        note(f"few-shot, iteration {it}: evaluating on {len(test)} test mazes")
        trajs = evaluate(policy, mazes, test, spec, episode_tag("few", "test", it))
        result.iterations.append(checkpoint(it, used, trajs, len(policy.examples)))
        if it == spec.iterations - 1:
            break
        counts = spec.training_counts()
        note(f"few-shot, iteration {it}: sampling {sum(counts)} episodes on {len(train)} "
             "training mazes")
        tag = episode_tag("few", "train", it)
        train_trajs = episodes(policy, mazes, train, counts, spec.seed, tag)
        used += sum(counts)
        best = best_per_maze(train_trajs)
        if spec.verify and verifier is None:  # scores the examples this update starts from
            from quicktakes.maze.verify import Verifier

            verifier = Verifier(policy, mazes, maze_seeds("verify", spec.verify), spec.seed)
            used += verifier.spent
        examples, policy.examples = policy.examples, best_examples(best, spec.shots, spec.mode)
        if verifier is not None:  # verified as the fine-tuning learners: kept if no worse
            from quicktakes.maze.verify import verdict

            check = verifier.check()
            used += verifier.spent
            if not check["kept"]:
                policy.examples = examples
            result.updates.append(check)
            note(f"few-shot, iteration {it}, verification mazes {verdict(check)}")
    return result
