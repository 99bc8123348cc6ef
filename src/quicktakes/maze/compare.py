"""All methods on the same mazes with the same budget: the comparison the take makes.

One `CompareSpec` fixes the mazes, observation, iterations, samples per maze and seed for
every method, so the learning methods (few-shot, oracle BC, SFT on best samples, RL) spend
exactly the same number of sampled episodes; `samples_used` is reported per point and checked
equal. Random moves, the scripted nearest-coin walk, the exact optimum and per-maze tabular
Q-learning are the reference lines. Every LLM method scores moves with the same weights in
torch (the embedded GGUF, dequantized): the prompting methods read the base weights, the
fine-tuning methods train them; whole lockstep batches go through one forward pass (3-4x the
states per second of llama.cpp scoring one prompt at a time on two cores).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from quicktakes.errors import ConfigError
from quicktakes.ledger import Budget, Point, Trend
from quicktakes.llm.precision import Precision, resolve
from quicktakes.maze.grid import MazeConfig, maze_seeds
from quicktakes.maze.methods import IterationResult, LabResult
from quicktakes.maze.methods import tabular_reference as per_maze_q_table
from quicktakes.maze.spec import DEFAULT_MAZE, BackendSpec, LabSpec, Method, ObsName
from quicktakes.maze.spec import LEARNING as LEARNERS
from quicktakes.maze.spec import METHODS as LAB_METHODS
from quicktakes.progress import Note
from quicktakes.stats import mean_ci

METHODS: tuple[Method, ...] = tuple(m for m in LAB_METHODS if m != "q-table")
"""The compared methods: every lab method but the per-maze Q-table, which is the
comparison's own `tabular` line at several budgets."""

class CompareSizes(BaseModel):
    """What one budget of the comparison runs: the lab's sizes for every method, and how many
    comparisons (each at its own seed)."""

    iterations: int
    samples: int
    train_mazes: int
    test_mazes: int
    max_pairs: int = LabSpec.model_fields["max_pairs"].default
    shots: int = LabSpec.model_fields["shots"].default
    evaluation: Literal["sampled", "greedy"] = "greedy"
    """Held-out mazes score by greedy play: no sampling noise in a checkpoint, so a paired
    gain's interval is the mazes' spread alone."""
    comparisons: int = 1
    """Comparisons per budget, each at its own seed (new episodes and training draws on the
    same mazes): the verdicts read all of them."""
    credit: Literal["episode", "step"] = "episode"
    """RL's credit. step: VinePPO's per-step Monte Carlo credit (`--select step`), with
    `max_pairs` states' four moves tried per update; the other learners (few-shot, oracle
    BC, poor man's RL) then draw as many more training episodes per update as those
    rollouts (`--extra-episodes`), so every learner spends the same at every checkpoint."""
    selection: Literal["episode", "step"] = "episode"
    """Poor man's RL's selection. episode: each training maze's best episode. step: the
    take's "take the action that led to the most gold coins" at each visited state, from the
    rollouts RL's step credit plays (`max_pairs` states, every move), with the update's shared
    shift taken out of its targets (`--sft-centre`) and at `STEP_SELECTION_RATE`: it then
    spends RL's rollouts instead of more episodes."""
    verify: int = 0
    """Verification mazes for every learner (`maze.verify`, the take's verified training with
    rollback): an update, or few-shot's new prompt, is kept only if they did not score lower.
    Every learner plays them, so the budgets stay equal; 0: none."""

    @model_validator(mode="after")
    def _equal_spending(self) -> CompareSizes:
        if self.selection == "step" and self.credit != "step":
            raise ValueError("poor man's RL selects per step from RL's step rollouts: "
                             "selection 'step' needs credit 'step'")
        return self

    def lab(self) -> dict[str, Any]:
        """The `LabSpec` fields these sizes set for every method."""
        return self.model_dump(exclude={"comparisons", "credit", "selection", "verify"})


SIZES: dict[Budget, CompareSizes] = {
    Budget.FAST: CompareSizes(iterations=3, samples=4, train_mazes=8, test_mazes=24,
                              max_pairs=96, shots=4),
    Budget.FULL: CompareSizes(iterations=6, samples=4, train_mazes=16, test_mazes=64,
                              max_pairs=128, shots=8, comparisons=1, credit="step",
                              selection="step", verify=48),
}
"""The one table of budgets, read by `maze compare --budget` and the three method claims;
every learner keeps its AdamW state across updates (`LabSpec.optimizer`) and every checkpoint
plays the held-out mazes greedily. `fast`: two updates on 8 training mazes, enough for
oracle BC to show learning (+0.43 [+0.29, +0.57] on 2026-12-06; balanced, its default since,
+0.42 [+0.27, +0.56]); its intervals are too wide
to call methods close. `full`: five updates on 16 training mazes, 64 held-out mazes, one
seed: the learning-curve search (docs/results.md, 2026-12-06) saw poor man's RL rise only
from its third update, so updates are bought with seeds. RL takes its credit per step there
(with episode credit it stayed flat on the 7x7 maze at every setting tried; per step it
learned on 3 of 3 seeds). Poor man's RL selects per step on those rollouts, its targets
centred, at `STEP_SELECTION_RATE`, and every learner verifies each update on 48 mazes of
their own and rolls it back if they scored lower: so verified, it rose from 0.09 to 0.29
and 0.39 greedy on two seeds at these 128 states (docs/results.md, session 13), where it
had stayed flat with best-of-N episodes. Few-shot and oracle BC spend the same on more
episodes."""
CURVE_RATES = {"oracle-bc": 3e-3, "sft-iter": 3e-3, "rl": 1e-3}
"""The LoRA rate each learner trains at, chosen from learning curves over five updates on
the 7x7 maze (docs/results.md, 2026-12-06): poor man's RL at 3e-3 with its optimizer kept
rose from 0.09 to 0.40; RL at 3e-3 collapsed onto one move on the ladder's first rung, at
1e-3 it climbed. (A one-update sweep, `maze.sweep`, favours doing nothing: it runs under
`maze compare --tune` only.)"""
STEP_SELECTION_RATE = 1e-3
"""Poor man's RL's rate with step selection (`CompareSizes.selection`): centred step targets
at 3e-3 swung the policy and lost their gain; at 1e-3 the gain held (docs/results.md,
sessions 10 and 11)."""


class CompareSpec(BaseModel):
    budget: Literal["fast", "full"] = "fast"
    seed: int = 0
    obs: ObsName = Field("coins", description="the observation every LLM method reads")
    precision: Precision = Field("auto", description="torch forward passes (see LabSpec)")
    maze: MazeConfig = Field(default_factory=lambda: DEFAULT_MAZE.model_copy())
    start: Literal["base", "warm"] = Field(
        "base",
        description="base: every method starts from the embedded model; warm: from the "
        "same model after `warm_updates` oracle-BC updates on training mazes (a policy that "
        "already solves some mazes, where there is room to improve and something to keep)",
    )
    warm_updates: int = Field(
        2, ge=1, le=20,
        description="--start warm: oracle-BC updates before the comparison (one only "
        "spreads the moves over tied optima; the gain came with the second)",
    )
    tune: bool | None = Field(
        None,
        description="choose each fine-tuning method's rate by a sweep on training mazes "
        "(maze.sweep) first; default: no (each learner trains at `CURVE_RATES`)",
    )

    rates: dict[str, float] = Field(
        default_factory=dict,
        description="learning rates by method, chosen before (another seed's sweep): "
        "these methods are not swept again",
    )

    @property
    def tunes(self) -> bool:
        return bool(self.tune)

    def rate(self, method: str) -> float | None:
        """The rate given for `method`, else None under --tune (a sweep decides), else the
        curves' choice (`CURVE_RATES`; None for a method that does not train)."""
        if method in self.rates:
            return self.rates[method]
        if self.tunes:
            return None
        if method == "sft-iter" and self.sizes().selection == "step":
            return STEP_SELECTION_RATE
        return CURVE_RATES.get(method)

    def sizes(self) -> CompareSizes:
        return SIZES[Budget(self.budget)]

    def spec(self, method: str) -> LabSpec:
        budget = self.sizes()
        sizes = budget.lab()
        if method in ("zero-shot", "best-of-n", "oracle-few-shot"):
            sizes["iterations"] = 1  # neither model nor prompt changes: one evaluation is its line
        if method == "rl":
            sizes["select"] = budget.credit
        elif method == "sft-iter" and budget.selection == "step":
            sizes |= {"select": "step", "sft_centre": True}  # RL's rollouts, read per state
        elif method in LEARNERS and budget.credit == "step":
            sizes["extra_episodes"] = self.spec("rl").step_rollouts  # RL's rollouts, as episodes
        if method in LEARNERS:
            sizes["verify"] = budget.verify
        return LabSpec(
            method=method, obs=self.obs, maze=self.maze, seed=self.seed,
            precision=self.precision,
            backend=BackendSpec(kind="hf"), **sizes,
        )


@dataclass(frozen=True)
class Paired:
    """The mean per-maze difference of two runs' scores on the same held-out mazes, with its
    Student-t interval over mazes."""

    mean: float
    lo: float
    hi: float
    n: int
    seeds: int = 1

    def __str__(self) -> str:
        return f"{self.mean:+.2f} [{self.lo:+.2f}, {self.hi:+.2f}]"


Scores = IterationResult | Sequence[IterationResult]
"""One run's iteration, or the same iteration of the same method at each seed."""


def paired(after: Scores, before: Scores, level: float = 0.95) -> Paired:
    """`after` minus `before`, maze by maze: the same mazes make the comparison paired, so
    what the mazes share (how hard each is) cancels. Over several seeds, the interval is the
    wider of two: over mazes (each maze's difference averaged over seeds) and over seeds
    (each seed's mean difference), since a seed's luck is shared by all its mazes."""
    afters = [after] if isinstance(after, IterationResult) else list(after)
    befores = [before] if isinstance(before, IterationResult) else list(before)
    diffs = []
    for a, b in zip(afters, befores, strict=True):
        x, y = np.array(a.scores), np.array(b.scores)
        if x.size == 0 or x.size != y.size:
            raise ValueError(
                "a paired comparison needs per-maze scores on the same held-out mazes"
            )
        diffs.append(x - y)
    m, lo, hi = mean_ci(np.mean(diffs, axis=0), level)
    if len(diffs) > 1:
        _, s_lo, s_hi = mean_ci(np.array([d.mean() for d in diffs]), level)
        lo, hi = min(lo, s_lo), max(hi, s_hi)
    return Paired(m, lo, hi, int(diffs[0].size), len(diffs))


def start(runs: dict[str, LabResult], method: str) -> IterationResult:
    """Where `method` started, the comparison's starting model (base or warm) on the same
    held-out mazes: few-shot's start is zero-shot's line (its own iteration 0 when zero-shot
    did not run), a trained method's its own iteration 0 (the same starting-model episodes)."""
    if method == "few-shot" and "zero-shot" in runs:
        return runs["zero-shot"].iterations[-1]
    return runs[method].iterations[0]


def learned(runs: dict[str, LabResult]) -> dict[str, Paired]:
    """What each learner learned in one comparison: its last iteration minus its `start`."""
    return {m: paired(runs[m].iterations[-1], start(runs, m))
            for m in LEARNERS if m in runs and len(runs[m].iterations) > 1}


def tabular_reference(
    cfg: CompareSpec, grid: tuple[int, ...], test_mazes: int | None = None
) -> LabResult:
    """The comparison's tabular line, on its held-out mazes."""
    test = maze_seeds("test", test_mazes or cfg.sizes().test_mazes)
    return per_maze_q_table(cfg, cfg.maze, cfg.seed, grid, test)


def settings_key(cfg: CompareSpec, method: str) -> str:
    """A short hash of one method's settings but its iterations (and of the comparison's
    own, and of the warm start's where there is one): a run made by an older quicktakes, with
    other sizes or defaults, sits in another folder instead of refusing this one (a folder
    holds one run; only the iterations may grow). Per method, so that adding a method or
    changing another one's defaults leaves a method's finished run where it is."""
    decided: list[Any] = [cfg.model_dump(mode="json"), method, _spec_key(cfg, method),
                          cfg.rate(method)]
    if cfg.start == "warm":
        decided.append(_spec_key(cfg, "oracle-bc"))
    return hashlib.sha256(json.dumps(decided, sort_keys=True).encode()).hexdigest()[:8]


def _spec_key(cfg: CompareSpec, method: str) -> dict[str, Any]:
    return cfg.spec(method).model_dump(mode="json", exclude={"iterations"})


def compare_root(cfg: CompareSpec) -> Path:
    """The comparison's folder under `runs_root`; each method's run is a subfolder named by
    the method and its `settings_key`."""
    from quicktakes.maze.lab import runs_root

    warm = "-warm" if cfg.start == "warm" else ""
    precision = resolve(cfg.precision)
    return runs_root() / f"compare-{cfg.budget}-{cfg.obs}-{precision}{warm}-seed{cfg.seed}"


def run_compare(
    cfg: CompareSpec,
    run_root: Path | None = None,
    note: Note | None = None,
    methods: tuple[str, ...] = METHODS,
) -> dict[str, LabResult]:
    """Every method in `methods` on the same budget, and the tabular reference."""
    from quicktakes.llm import SampleCache
    from quicktakes.maze.lab import make_trainer, run

    cache = SampleCache()
    precision = resolve(cfg.precision)
    root = run_root or compare_root(cfg)
    results: dict[str, LabResult] = {}
    trainer = None
    say = note or (lambda text: None)
    if cfg.start == "warm":
        say(f"loading the embedded model ({precision})")
        trainer = make_trainer(cfg.spec("oracle-bc"))
        warm_up = cfg.spec("oracle-bc").model_copy(
            update={"iterations": cfg.warm_updates + 1, "held_out": "validation", "verify": 0}
        )
        run(warm_up, lambda text: say(f"warm start: {text}"),
            root / f"warm-start-{settings_key(cfg, 'oracle-bc')}", cache, trainer)
        trainer.absorb()  # every method, prompting included, starts from these weights
    for k, method in enumerate(methods, 1):
        spec = cfg.spec(method)
        if spec.needs_model and trainer is None:
            say(f"loading the embedded model ({precision})")
            trainer = make_trainer(spec)

        def phase(text: str, k: int = k, method: str = method) -> None:
            say(f"method {k}/{len(methods)} ({method}): {text}")

        phase("starting")
        sweep = None
        if spec.trains and cfg.rate(method) is not None:
            spec = spec.model_copy(update={"lr": cfg.rate(method)})
        elif spec.trains and cfg.tunes:
            from quicktakes.maze.sweep import sweep_rate

            sweep = sweep_rate(spec, root / f"rate-sweep-{settings_key(cfg, method)}",
                               cache=cache, trainer=trainer, note=phase)
            spec = spec.model_copy(update={"lr": sweep.chosen})
        folder = root / f"{method}-{settings_key(cfg, method)}"
        results[method] = run(spec, phase, folder, cache, trainer)
        results[method].rate_sweep = sweep.to_dict() if sweep else None
    results["tabular"] = tabular_reference(cfg, tabular_grid(cfg))
    check_equal_budgets(results)
    return results


def tabular_grid(cfg: CompareSpec) -> tuple[int, ...]:
    """Episodes per held-out maze for the tabular line, up to what a learner samples in all
    (from the budget alone, so the line is the same whichever methods ran with it)."""
    z = cfg.sizes()
    last = (z.iterations - 1) * cfg.spec("rl").spend
    return tuple(sorted({1, 4, 16, 64, max(1, last // z.test_mazes)}))


def check_equal_budgets(results: dict[str, LabResult]) -> None:
    """The learning methods must have spent the same number of episodes at every iteration."""
    used = {m: [i.samples_used for i in results[m].iterations] for m in LEARNERS if m in results}
    if len({tuple(v) for v in used.values()}) > 1:
        raise ConfigError(f"unequal sample budgets across methods: {used}")


SAMPLES_AXIS = "training episodes sampled"
TABULAR_AXIS = "episodes on the held-out mazes themselves (tabular Q-learning)"


def comparison_trends(runs: dict[str, LabResult]) -> list[Trend]:
    """The take's figure: held-out coins vs training episodes sampled (the learning curves at
    matched budgets), vs iteration, and the tabular reference against the episodes it plays
    on the held-out mazes themselves (three panels)."""
    x, y = SAMPLES_AXIS, "normalized coins on held-out mazes"
    trends = []
    for name, r in runs.items():
        pts = [Point(i.samples_used, i.mean, i.lo, i.hi, i.n) for i in r.iterations]
        if name == "tabular":  # its episodes are played on the held-out mazes: a panel apart
            trends.append(Trend.of(name, TABULAR_AXIS, y, pts, log_x=True, style="markers"))
        else:
            trends.append(Trend.of(name, x, y, pts if name in LEARNERS else [_level(r)]))
    top = max((p.x for t in trends if t.x_label == x for p in t.points), default=1)
    trends.append(
        Trend.of(
            "exact optimum", x, y, [Point.exact(0, 1.0), Point.exact(top, 1.0)],
            interval="exact",
        )
    )
    for name, r in runs.items():
        if name != "tabular":  # its points are episode counts, not iterations
            pts = [Point(i.iteration, i.mean, i.lo, i.hi, i.n) for i in r.iterations]
            trends.append(Trend.of(name, "iteration", y, pts if name in LEARNERS else [_level(r)]))
    return trends


def _level(r: LabResult) -> Point:
    """A method that does not learn (not in `LEARNERS`) as one level, its last evaluation,
    drawn as a line across the learners' curves, not a curve over the episodes it played on
    the held-out mazes."""
    last = r.iterations[-1]
    return Point(0, last.mean, last.lo, last.hi, last.n)
