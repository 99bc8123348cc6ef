"""The take "In praise of prompting": very poor man's RL, poor man's RL, RL, and the footnote.

Each claim is an `Experiment`: measure -> judge -> describe, and what the report shows. The
three method claims read one comparison run (`shared_compare`), computed once per (budget,
seed) whichever claim asks first, under a seed shared by all three, so running a subset or
another order changes no number. Each finding places the learner against random moves, the
base model (zero-shot) and oracle behaviour cloning, the ceiling of what this model learns at
this budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from quicktakes.ledger import Budget, Experiment, Point, RunContext, Shown, Trend, Verdict
from quicktakes.maze.catalog import (
    EQUIVALENCE_LEVEL,
    MARGIN_FLOOR,
    MARGIN_SHARE,
    RESOLUTION,
)
from quicktakes.maze.compare import SIZES as COMPARE_SIZES
from quicktakes.maze.compare import CompareSizes, Paired, Scores, paired, start
from quicktakes.maze.methods import IterationResult, LabResult
from quicktakes.maze.spec import LabSpec

if TYPE_CHECKING:
    from quicktakes.maze.alike import AlikeResult

SHARED = "prompting.compare"
"""The name of the run the method claims share: their seed derives from it, not from a claim."""


def shared_compare(ctx: RunContext, sizes: CompareSizes, methods: tuple[str, ...]) -> Runs:
    """The comparison's runs of `methods` (and the tabular reference) at each of the budget's
    `sizes.comparisons` seeds, each computed once per `reproduce` call (`ctx.shared`)."""
    from quicktakes.llm.precision import resolve
    from quicktakes.maze.compare import CompareSpec, run_compare

    by_seed: list[dict[str, LabResult]] = []
    for k in range(sizes.comparisons):
        seed = ctx.shared_seed(SHARED) + k
        cfg = CompareSpec(budget=ctx.budget.value, seed=seed)
        if cfg.sizes() != sizes:
            raise ValueError("the claim's sizes must be the comparison's own table")
        precision = resolve(cfg.precision)

        def key(method: str, seed: int = seed, precision: str = precision) -> tuple[
                str, str, int, str, str]:
            return (SHARED, str(ctx.budget), seed, precision, method)

        missing = tuple(m for m in methods if key(m) not in ctx.shared)
        if missing:
            note = ctx.note if k == 0 else (lambda text, k=k: ctx.note(f"seed {k + 1}: {text}"))
            for name, r in run_compare(cfg, methods=missing, note=note).items():
                ctx.shared[key(name)] = r
        by_seed.append({m: ctx.shared[key(m)] for m in (*methods, "tabular")
                        if key(m) in ctx.shared})
    return Runs(by_seed[0], tuple(by_seed[1:]))


def improvement(after: Scores, before: Scores) -> Verdict:
    """An improvement needs the paired difference's 95% interval above 0; below 0 is a
    failure; an interval across 0 shows nothing either way."""
    d = paired(after, before)
    if d.lo > 0:
        return Verdict.HOLDS
    if d.hi < 0:
        return Verdict.FAILS
    return Verdict.INCONCLUSIVE


def separation(a: IterationResult, b: IterationResult) -> str:
    """'above' / 'below' / 'overlap' / 'unresolved': a's 95% interval against b's."""
    if a.lo > b.hi:
        return "above"
    if a.hi < b.lo:
        return "below"
    if max(a.hi - a.lo, b.hi - b.lo) / 2 > RESOLUTION:
        return "unresolved"
    return "overlap"


def _fmt(i: IterationResult) -> str:
    return f"{i.mean:.2f} [{i.lo:.2f}, {i.hi:.2f}]"


def placement(learner: IterationResult, finals: dict[str, IterationResult]) -> str:
    """Where a learner's final interval stands against random, zero-shot and oracle BC."""
    parts = []
    for ref, label in (("random", "random moves"), ("zero-shot", "the base model"),
                       ("oracle-bc", "oracle BC")):
        if ref in finals:
            parts.append(f"vs {label} {finals[ref].mean:.2f}: {separation(learner, finals[ref])}")
    return ", ".join(parts)


def _trend(name: str, r: LabResult, compared: tuple[str, ...] = ()) -> Trend:
    """`compared`: the series the verdict reads, drawn strongest in the report."""
    pts = [Point(i.iteration, i.mean, i.lo, i.hi, i.n) for i in r.iterations]
    meta: dict[str, object] = {
        "samples_used": [i.samples_used for i in r.iterations],
        "invalid_rate": [round(i.invalid_rate, 4) for i in r.iterations],
    }
    if name in compared:
        meta["compared"] = True
    return Trend.of(name, "iteration", "normalized coins on held-out mazes", pts, meta=meta)


def area(r: LabResult) -> IterationResult:
    """A learning curve as one score per held-out maze: the area under its scores over the
    training episodes spent, divided by their span (the curve's mean level; the plain mean
    over checkpoints when nothing was spent). Two methods with the same final score differ
    here when one got there sooner: "trends, not points"."""
    x = np.array([i.samples_used for i in r.iterations], dtype=float)
    y = np.array([i.scores for i in r.iterations], dtype=float)
    if len(x) > 1 and x[-1] > x[0]:
        w = np.zeros_like(x)
        w[:-1] += np.diff(x) / 2
        w[1:] += np.diff(x) / 2
        per = w @ y / (x[-1] - x[0])
    else:
        per = y.mean(axis=0)
    return IterationResult(r.iterations[-1].iteration, int(x[-1]), float(per.mean()),
                           float(per.min()), float(per.max()), per.size, 0.0,
                           scores=[float(v) for v in per])


@dataclass(frozen=True)
class Runs:
    """Measured: the comparison's runs, by method."""

    runs: dict[str, LabResult]
    """The first seed's runs (the trends and placements show these)."""
    more: tuple[dict[str, LabResult], ...] = ()
    """The other seeds' runs of the same comparison (the verdicts read every seed)."""

    def final(self, method: str) -> IterationResult:
        return self.runs[method].iterations[-1]

    def at(self, method: str, iteration: int = -1) -> list[IterationResult]:
        """`method`'s iteration (default: its last) at every seed."""
        return [r[method].iterations[iteration] for r in (self.runs, *self.more)]

    def areas(self, method: str) -> list[IterationResult]:
        """`method`'s learning curve as one score per maze (`area`), at every seed."""
        return [area(r[method]) for r in (self.runs, *self.more)]

    def collapses(self, method: str) -> list[int]:
        """The updates (1-based, any seed) after which `method`'s policy had collapsed
        (`maze.train.collapsed`)."""
        return sorted({u + 1 for r in (self.runs, *self.more) if method in r
                       for u, d in enumerate(r[method].updates) if d.get("collapsed")})

    def collapse_note(self, methods: tuple[str, ...]) -> str:
        """A sentence naming every collapse, or ''."""
        parts = [f"{_NAMES.get(k, k)} after update {', '.join(map(str, u))}"
                 for k in methods if (u := self.collapses(k))]
        if not parts:
            return ""
        return (" Collapsed (move entropy below 0.05 nats, so later samples repeat one move): "
                + "; ".join(parts) + ".")

    def shift_note(self, methods: tuple[str, ...]) -> str:
        """A sentence giving each method's shared shift (`maze.train.shared_shift`), its mean
        and range over the updates of every seed, where the runs recorded it; or ''."""
        parts = []
        for k in methods:
            xs = [d["shared_shift"] for r in (self.runs, *self.more) if k in r
                  for d in r[k].updates if "shared_shift" in d]
            if xs:
                parts.append(f"{_NAMES.get(k, k)} {np.mean(xs):.2f} "
                             f"({min(xs):.2f}-{max(xs):.2f})")
        if not parts:
            return ""
        return (" Shared shift, the share of an update's pull on the moves' logits that is "
                "the same at every state (near 1: it teaches the moves' frequencies, not which "
                "move fits which state), mean (range) over updates: " + "; ".join(parts) + ".")

    def one_move_note(self, methods: tuple[str, ...]) -> str:
        """A sentence naming each method whose last checkpoint still plays one move at 95%
        or more of its held-out moves at any seed (its play does not depend on the state
        yet: a flat curve's likeliest reason), or ''."""
        parts = []
        for k in methods:
            shares = [r[k].iterations[-1].top_move_share for r in (self.runs, *self.more)
                      if k in r]
            worst = max((x for x in shares if x is not None), default=None)
            if worst is not None and worst >= ONE_MOVE:
                parts.append(f"{_NAMES.get(k, k)} ({worst:.0%})")
        if not parts:
            return ""
        return (" Still one move at the end (the share of held-out moves that are its "
                "commonest move): " + "; ".join(parts) + ".")

    def credit_note(self, methods: tuple[str, ...]) -> str:
        """A sentence saying how `methods` spent their samples where RL took its credit per
        step (the others then drew as many more episodes), or ''."""
        parts: list[str] = []
        extra: dict[int, list[str]] = {}
        for k in methods:
            spec = self.runs[k].config if k in self.runs else None
            if not isinstance(spec, LabSpec):
                continue
            if spec.method == "rl" and spec.select == "step":
                parts.append(
                    f"RL took its credit per step (at {spec.max_pairs} visited states per "
                    "update, every move tried and played on, against the four moves' mean: "
                    "VinePPO's Monte Carlo credit)")
            elif spec.method == "sft-iter" and spec.select == "step":
                parts.append(
                    f"poor man's RL selected per step (at {spec.max_pairs} visited states per "
                    "update, every move tried and played on, fine-tuned on the move that led "
                    "to the most coins"
                    + (", the update's shared shift taken out of its targets" if spec.sft_centre
                       else "") + ")")
            elif spec.extra_episodes:
                extra.setdefault(spec.extra_episodes, []).append(_NAMES.get(k, k))
        for n, names in extra.items():
            who = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
            parts.append(f"{who} drew {n} more training episodes per update"
                         f"{' each' if len(names) > 1 else ''}, what RL's step credit spends "
                         "on rollouts")
        return " " + "; ".join(parts) + "." if parts else ""

    def verify_note(self, methods: tuple[str, ...]) -> str:
        """A sentence giving how many of each method's updates its verification mazes kept
        (`maze.verify`), over every seed, where the runs verified; or ''."""
        parts, mazes = [], set()
        for k in methods:
            checks = [d["kept"] for r in (self.runs, *self.more) if k in r
                      for d in r[k].updates if "kept" in d]
            if checks:
                mazes.add(getattr(self.runs[k].config, "verify", 0))
                parts.append(f"{_NAMES.get(k, k)} {int(sum(checks))} of {len(checks)}")
        if not parts:
            return ""
        return (f" Verified training with rollback ({'/'.join(map(str, sorted(mazes)))} "
                "verification mazes, played greedily after each update, their episodes counted "
                "as spent; an update that lowered their score was undone), updates kept: "
                + "; ".join(parts) + ".")

    def finals(self) -> dict[str, IterationResult]:
        return {m: r.iterations[-1] for m, r in self.runs.items() if m != "tabular"}

    def config(self) -> dict[str, object]:
        any_run = next(iter(self.runs.values()))
        return {
            "spec": any_run.config.model_dump(),
            "samples_used": {k: r.iterations[-1].samples_used for k, r in self.runs.items()},
            "models": {k: r.model for k, r in self.runs.items()},
            "seeds": [getattr(next(iter(r.values())).config, "seed", None)
                      for r in (self.runs, *self.more)],
            "rates": {k: r.config.lr for k, r in self.runs.items()  # type: ignore[attr-defined]
                      if getattr(r.config, "trains", False)},
            "rate_sweep": {k: r.rate_sweep for k, r in self.runs.items() if r.rate_sweep}
            or "none in this run: each learner trains at maze.compare.CURVE_RATES, chosen "
            "from learning curves (docs/results.md)",
            "shared_run": f"{SHARED}: one comparison run read by every prompting.* method claim",
        }


# --- very poor man's RL: few-shot from the model's own best samples -------------------------

VERY_POOR_METHODS = ("random", "heuristic", "zero-shot", "best-of-n", "few-shot",
                     "oracle-few-shot", "oracle-bc")


def measure_very_poor(ctx: RunContext, sizes: CompareSizes) -> Runs:
    return shared_compare(ctx, sizes, VERY_POOR_METHODS)


def judge_very_poor(m: Runs) -> Verdict:
    """Few-shot minus zero-shot on the same held-out mazes: the paired 95% interval above 0
    holds, below 0 fails, across 0 is inconclusive."""
    return improvement(m.at("few-shot"), m.at("zero-shot"))


def describe_very_poor(m: Runs, v: Verdict) -> str:
    few, zero = m.final("few-shot"), m.final("zero-shot")
    d = paired(m.at("few-shot"), m.at("zero-shot"))
    outcome = {
        Verdict.HOLDS: "the examples help.",
        Verdict.FAILS: "the examples hurt.",
        Verdict.INCONCLUSIVE: "the interval spans 0: no effect shown at this budget.",
    }[v]
    return (
        f"Few-shot from the model's own best samples reaches {_fmt(few)} after "
        f"{few.iteration} iterations vs zero-shot {_fmt(zero)}; paired over {d.n} held-out "
        f"mazes, few-shot minus zero-shot {d}: {outcome} Few-shot "
        f"{placement(few, m.finals())}; best-of-N {m.final('best-of-n').mean:.2f}, "
        f"nearest-coin walk {m.final('heuristic').mean:.2f}."
    ) + ceiling_note(m) + m.verify_note(("few-shot",))


def ceiling_note(m: Runs) -> str:
    """Prompting's ceiling on the same mazes: the prompt of optimal moves (`oracle-few-shot`)
    against zero-shot, so a flat few-shot reads against what any prompt of this size did."""
    if "oracle-few-shot" not in m.runs:
        return ""
    top = m.final("oracle-few-shot")
    d = paired(m.at("oracle-few-shot"), m.at("zero-shot"))
    return (
        f" Prompting's ceiling here, {top.examples} optimal moves from the training mazes as "
        f"the examples: {_fmt(top)}, minus zero-shot {d}"
        + (" (no better than no examples)." if d.lo <= 0 else ".")
    )


def show_very_poor(m: Runs) -> Shown:
    few, zero = m.final("few-shot"), m.final("zero-shot")
    trends = tuple(
        _trend(k, r, ("few-shot", "zero-shot")) for k, r in m.runs.items() if k != "tabular"
    )
    return Shown(f"few-shot {few.mean:.2f} vs zero-shot {zero.mean:.2f}", trends, m.config())


VERY_POOR = Experiment(COMPARE_SIZES, measure_very_poor, judge_very_poor, describe_very_poor,
                       show_very_poor)


# --- poor man's RL: SFT on the best samples ------------------------------------------------

POOR_METHODS = ("random", "heuristic", "zero-shot", "oracle-bc", "sft-iter")


def measure_poor(ctx: RunContext, sizes: CompareSizes) -> Runs:
    return shared_compare(ctx, sizes, POOR_METHODS)


def judge_poor(m: Runs) -> Verdict:
    """Poor man's RL's last iteration minus its iteration 0 on the same held-out mazes: the
    paired 95% interval above 0 holds, below 0 fails, across 0 is inconclusive."""
    return improvement(m.at("sft-iter", -1), m.at("sft-iter", 0))


def describe_poor(m: Runs, v: Verdict) -> str:
    sft = m.runs["sft-iter"].iterations
    first, last = sft[0], sft[-1]
    d = paired(m.at("sft-iter", -1), m.at("sft-iter", 0))
    outcome = {
        Verdict.HOLDS: "an improvement.",
        Verdict.FAILS: "worse.",
        Verdict.INCONCLUSIVE: "the interval spans 0: no change shown at this budget.",
    }[v]
    spec = m.runs["sft-iter"].config
    what = ("the move that led to the most coins at each visited state"
            if getattr(spec, "select", "episode") == "step"
            else "each training maze's best of N samples")
    return (
        f"SFT on {what} takes held-out coins from "
        f"{_fmt(first)} to {_fmt(last)} after {last.iteration} iteration(s); paired over "
        f"{d.n} held-out mazes, the change is {d}: {outcome} "
        f"Final interval {placement(last, m.finals())}."
    ) + m.credit_note(("sft-iter",)) + m.verify_note(("sft-iter",)) + m.collapse_note(
        ("sft-iter",)) + m.one_move_note(("sft-iter",)) + m.shift_note(("sft-iter", "rl"))


def show_poor(m: Runs) -> Shown:
    sft = m.runs["sft-iter"].iterations
    trends = tuple(
        _trend(k, r, ("sft-iter",))
        for k, r in m.runs.items()
        if k in ("sft-iter", "oracle-bc", "random")
    )
    return Shown(f"{sft[0].mean:.2f} -> {sft[-1].mean:.2f} coins", trends, m.config())


POOR = Experiment(COMPARE_SIZES, measure_poor, judge_poor, describe_poor, show_poor)


# --- RL vs poor man's RL vs prompting: the comparison --------------------------------------

COMPARED = ("rl", "sft-iter", "few-shot")
LINKS = (("rl", "sft-iter"), ("sft-iter", "few-shot"))
"""The take's chain: RL ~ poor man's RL, and poor man's RL ~ prompting."""


def gain(m: Runs, method: str) -> Paired:
    """What `method` learned: its final scores minus its start (`compare.start`, the base
    model on the same mazes), at every seed."""
    return paired(m.at(method), [start(r, method) for r in (m.runs, *m.more)])


def standard_error(d: Paired, level: float = 0.95) -> float:
    """The standard error behind a paired interval: its half-width over Student's t."""
    from scipy import stats

    return (d.hi - d.lo) / 2 / float(stats.t.ppf(0.5 + level / 2, max(d.n - 1, 1)))


def margin(m: Runs) -> float:
    """How close is "close": a share of what this model can learn here (oracle BC's paired
    gain), never below the floor."""
    return max(MARGIN_FLOOR, MARGIN_SHARE * gain(m, "oracle-bc").mean)


def closeness(d: Paired, e: float) -> str:
    """'equivalent' (the 90% interval of a - b inside +-e: two one-sided tests at 5%),
    'different' (the interval wholly outside the margin), else 'unresolved'."""
    if -e < d.lo and d.hi < e:
        return "equivalent"
    if d.lo >= e or d.hi <= -e:
        return "different"
    return "unresolved"


def link(m: Runs, a: str, b: str) -> tuple[str, Paired, Paired]:
    """How close a and b are, learning before likeness.

    Both learned (`learned`): read twice, at the last checkpoint and on the area under the
    curve (`area`), each a paired difference tested against the margin (`closeness`):
    'equivalent' when both readings are; 'different' when one is and the other is not
    'equivalent' (apart at the end, or along the way); else 'unresolved'.

    One learned and the other did not: 'different' when the learner ends above the other
    (paired 95% interval of the final difference above 0: both start from the same base
    model on the same mazes, so that is the difference of their gains). A method that
    learned nothing is not close to one that did, however small the margin makes the gap.

    Neither learned: 'unresolved' (alike only because nothing moved)."""
    e = margin(m)
    final = paired(m.at(a), m.at(b), EQUIVALENCE_LEVEL)
    curve = paired(m.areas(a), m.areas(b), EQUIVALENCE_LEVEL)
    la, lb = learned(m, a), learned(m, b)
    if la != lb:
        winner, loser = (a, b) if la else (b, a)
        return ("different" if paired(m.at(winner), m.at(loser)).lo > 0 else "unresolved",
                final, curve)
    if not la:
        return "unresolved", final, curve
    states = {closeness(final, e), closeness(curve, e)}
    if states == {"equivalent"}:
        return "equivalent", final, curve
    if "different" in states and "equivalent" not in states:
        return "different", final, curve
    return "unresolved", final, curve


def learned(m: Runs, method: str) -> bool:
    """The paired 95% interval of the method's gain (`gain`) lies above 0."""
    return gain(m, method).lo > 0


def not_learned(m: Runs) -> list[str]:
    return [k for k in COMPARED if not learned(m, k)]


def judge_rl_vs(m: Runs) -> Verdict:
    """Both links of the take's chain (`LINKS`), each judged learning before likeness
    (`link`): both equivalent holds, both different fails, one of each is partly, and a
    link left unresolved (neither method learned, or the intervals are too wide) leaves the
    claim inconclusive."""
    links = [link(m, a, b)[0] for a, b in LINKS]
    if links == ["equivalent", "equivalent"]:
        return Verdict.HOLDS
    if links == ["different", "different"]:
        return Verdict.FAILS
    if sorted(links) == ["different", "equivalent"]:
        return Verdict.PARTLY
    return Verdict.INCONCLUSIVE


_NAMES = {"rl": "RL", "sft-iter": "poor man's RL", "few-shot": "few-shot",
          "oracle-bc": "oracle BC"}
ONE_MOVE = 0.95
"""A policy that plays its commonest move at this share of held-out moves or more plays one
move whatever it reads (the embedded model's greedy play on the 7x7 maze: always "D")."""


def describe_rl_vs(m: Runs, v: Verdict) -> str:
    gains = "; ".join(f"{_NAMES[k]} {gain(m, k)}" for k in COMPARED)
    links = "; ".join(
        f"{_NAMES[a]} - {_NAMES[b]} {d} at the end, {curve} over the curve ({state})"
        for (a, b), (state, d, curve) in ((ab, link(m, *ab)) for ab in LINKS)
    )
    text = (
        f"Paired over {gain(m, 'rl').n} held-out mazes, learned (final minus start, 95%): "
        f"{gains}; oracle BC {gain(m, 'oracle-bc')}. Differences ({EQUIVALENCE_LEVEL:.0%} "
        f"intervals, margin ±{margin(m):.2f}, at matched training episodes): {links}."
    )
    missing = not_learned(m)
    if missing:
        text += (
            f" {', '.join(_NAMES[k] for k in missing)} did not learn in this run: a link "
            "between two methods that did not learn says nothing about the take, and one "
            "that learned is different from one that did not where it ends above it."
        )
    learners = "; ".join(
        f"{_NAMES[k]} {placement(m.final(k), m.finals())}" for k in COMPARED
    )
    return (text + f" Placed: {learners}." + ceiling_note(m)
            + m.credit_note((*COMPARED, "oracle-bc"))
            + m.verify_note((*COMPARED, "oracle-bc"))
            + m.collapse_note(("rl", "sft-iter", "oracle-bc"))
            + m.one_move_note(("rl", "sft-iter", "oracle-bc"))
            + m.shift_note(("rl", "sft-iter", "oracle-bc")))


def measure_rl_vs(ctx: RunContext, sizes: CompareSizes) -> Runs:
    from quicktakes.maze.compare import METHODS

    return shared_compare(ctx, sizes, METHODS)


def show_rl_vs(m: Runs) -> Shown:
    from quicktakes.maze.compare import comparison_trends

    missing = not_learned(m)
    measured = (
        f"RL~PMRL: {link(m, 'rl', 'sft-iter')[0]}; PMRL~few-shot: "
        f"{link(m, 'sft-iter', 'few-shot')[0]}"
        + (f"; did not learn: {', '.join(missing)}" if missing else "")
    )
    config = m.config() | {
        "margin": round(margin(m), 4),
        "gains": {k: str(gain(m, k)) for k in (*COMPARED, "oracle-bc")},
        "gain_standard_errors": {k: round(standard_error(gain(m, k)), 4)
                                 for k in (*COMPARED, "oracle-bc")},
    }
    return Shown(measured, tuple(comparison_trends(m.runs)), config)


RL_VS_RULE = (
    f"learned = paired 95% gain interval above 0; per link, both learned: equivalent = "
    f"paired {EQUIVALENCE_LEVEL:.0%} interval within ±margin (TOST), both at the last "
    f"checkpoint and on the area under the curve over training episodes; one learned: "
    f"different where it ends above the other (paired 95%); neither: unresolved; margin = "
    f"max({MARGIN_FLOOR:g}, {MARGIN_SHARE:.2g} x oracle BC's paired gain)"
)
RL_VS = Experiment(COMPARE_SIZES, measure_rl_vs, judge_rl_vs, describe_rl_vs, show_rl_vs,
                   rule=RL_VS_RULE)


# --- the footnote: updates alike, behaviour alike ------------------------------------------

class AlikeSizes(BaseModel):
    """prompting.updates-alike's sizes per budget (the rest of `AlikeSpec` at its
    defaults)."""

    reps: int
    train_mazes: int
    samples: int
    probes: int
    test_mazes: int


ALIKE_SIZES = {
    Budget.FAST: AlikeSizes(reps=3, train_mazes=2, samples=4, probes=24, test_mazes=6),
    Budget.FULL: AlikeSizes(reps=10, train_mazes=2, samples=4, probes=48, test_mazes=12),
}
"""Each repetition samples a batch, takes four gradients on it, their function-space changes,
and one few-shot-vs-SFT comparison (about a minute on two cores at `fast`'s batch)."""
NULLS = {"rl permuted": "sft~rl permuted", "sft random": "sft random~rl"}
"""What cos(SFT, RL) must beat: RL with its advantages permuted (no reward in it) and SFT on
a random episode (no selection in it)."""
WEIGHT_MARGIN = 0.05
"""'Not alike' once cos(SFT, RL) is shown to exceed a null by less than this."""
BEHAVIOUR_SHARE = 0.1
"""'Not alike' once the right examples bring the prompt closer to SFT than random ones do by
less than this share of the distance SFT moved the base model."""


@dataclass(frozen=True)
class Alike:
    """Measured, over repetitions: each space's cosines, the paired margins over the nulls,
    the KLs and the behaviour margin (random prompt's KL minus the right prompt's)."""

    cos: dict[str, dict[str, Paired]]
    over_null: dict[str, dict[str, Paired]]
    kl: dict[str, Paired]
    behaviour: Paired
    dim: int
    running: dict[str, dict[str, list[Paired]]]
    """space -> pair -> the summary after 2, 3, ... repetitions (the trends); space "kl" holds
    the KLs to SFT."""
    skipped: int = 0
    """Batches drawn without coins to learn from, and drawn again."""
    setup: dict[str, object] = field(default_factory=dict)
    """What decides the numbers: the measurement's config and the pairs each loss read."""

    def ceiling_share(self, space: str) -> float | None:
        """cos(SFT, RL) across batches as a share of what each method reaches with itself
        across batches (sqrt of the two ceilings); None until both ceilings are shown above
        0."""
        c = self.cos[space]
        if not all(c[k].lo > 0 for k in ("sft~sft'", "rl~rl'")):
            return None  # a ceiling not shown above 0 makes the share meaningless
        ceiling = c["sft~sft'"].mean * c["rl~rl'"].mean
        return c["sft~rl'"].mean / ceiling**0.5


def summary(
    values: list[float], bounds: tuple[float, float] = (-1.0, 1.0), level: float = 0.95
) -> Paired:
    """Mean and Student-t interval over repetitions (the unit that is independent), within
    what the quantity can be (`bounds`: a cosine's [-1, 1], a difference of two [-2, 2]);
    under two values the interval is all of `bounds`: one value shows no spread."""
    from quicktakes.stats import mean_ci

    if len(values) < 2:
        m = float(values[0]) if values else 0.0
        return Paired(m, bounds[0], bounds[1], len(values))
    m, lo, hi = mean_ci(np.array(values), level)
    return Paired(m, max(lo, bounds[0]), min(hi, bounds[1]), len(values))


def alike_measured(res: AlikeResult) -> Alike:
    from quicktakes.maze.alike import DISTANCES, PAIRS, SPACES

    cos, over, running = {}, {}, {}
    for space in SPACES:
        cos[space] = {k: summary(res.values(space, k)) for k in PAIRS}
        main = res.values(space, "sft~rl")
        over[space] = {
            null: summary([a - b for a, b in zip(main, res.values(space, pair), strict=True)],
                          (-2.0, 2.0))
            for null, pair in NULLS.items()
        }
        running[space] = {
            k: [summary(v[:n]) for n in range(2, len(v) + 1)]
            for k in PAIRS if len(v := res.values(space, k)) >= 2
        }
    kl = {k: summary(res.kls(k), (0.0, math.inf)) for k in DISTANCES}
    running["kl"] = {
        k: [summary(v[:n], (0.0, math.inf)) for n in range(2, len(v) + 1)]
        for k in ("few-shot~sft", "random few-shot~sft", "base~sft")
        if len(v := res.kls(k)) >= 2
    }
    gap = [a - b for a, b in zip(res.kls("random few-shot~sft"), res.kls("few-shot~sft"),
                                 strict=True)]
    return Alike(cos, over, kl, summary(gap, (-math.inf, math.inf)), res.dim, running,
                 res.skipped)


def measure_alike_claim(ctx: RunContext, sizes: AlikeSizes) -> Alike:
    from quicktakes.maze.alike import AlikeSpec, measure_alike

    cfg = AlikeSpec(seed=ctx.subseed("alike"), **sizes.model_dump())
    res = measure_alike(cfg, ctx.note)
    pairs = {k: [r.pairs.get(k, 0) for r in res.reps] for k in ("sft", "sft random", "rl")}
    return replace(alike_measured(res),
                   setup=cfg.model_dump() | {"pairs per loss, per batch": pairs})


def _outcome(yes: bool, no: bool) -> str:
    return "yes" if yes else ("no" if no else "unresolved")


PARTS_RULE = (
    "Weights, on the raw gradients (no optimizer): 'yes' if cos(SFT, RL) on the same batch "
    "beats both nulls, RL with permuted advantages and SFT on a random episode (the paired "
    "difference over batches, 95% interval above 0), and lies above the random-direction "
    f"band; 'no' if it beats some null by less than {WEIGHT_MARGIN:g} (that difference's "
    "upper end below it). Behaviour: 'yes' if few-shot with the very examples SFT trained on "
    "lands closer to the SFT model than a prompt of as many random sampled examples (KL, "
    "paired over batches, interval above 0); 'no' if closer by less than "
    f"{BEHAVIOUR_SHARE:g} x KL(base || SFT)."
)


def alike_parts(m: Alike) -> tuple[str, str]:
    """(weights, behaviour), each 'yes' / 'no' / 'unresolved', by `PARTS_RULE`."""
    from quicktakes.maze.alike import random_band

    g = m.over_null["gradient"].values()
    above_band = m.cos["gradient"]["sft~rl"].lo > random_band(max(m.dim, 1))
    weights = _outcome(all(d.lo > 0 for d in g) and above_band,
                       any(d.hi < WEIGHT_MARGIN for d in g))
    b, scale = m.behaviour, m.kl["base~sft"].mean
    behaviour = _outcome(b.lo > 0, b.hi < BEHAVIOUR_SHARE * scale)
    return weights, behaviour


def judge_alike(m: Alike) -> Verdict:
    """holds if weights and behaviour are both alike ('yes'), fails if both are 'no', partly
    if one of each, inconclusive while either is unresolved (each part's rule: `PARTS_RULE`,
    config.parts)."""
    parts = alike_parts(m)
    if parts == ("yes", "yes"):
        return Verdict.HOLDS
    if parts == ("no", "no"):
        return Verdict.FAILS
    if set(parts) == {"yes", "no"}:
        return Verdict.PARTLY
    return Verdict.INCONCLUSIVE


def _space(m: Alike, space: str) -> str:
    c, d = m.cos[space], m.over_null[space]
    share = m.ceiling_share(space)
    text = (
        f"cos(SFT, RL) {c['sft~rl']}, over permuted advantages {d['rl permuted']}, over SFT "
        f"on a random episode {d['sft random']}"
    )
    across, sft, rl = c["sft~rl'"], c["sft~sft'"], c["rl~rl'"]
    text += f"; across batches {across} against ceilings SFT {sft}, RL {rl}"
    if share is not None:
        return text + f": {share:.2f} of the ceiling"
    return text + " (a ceiling not shown above 0: no share)"


def describe_alike(m: Alike, v: Verdict) -> str:
    from quicktakes.maze.alike import random_band

    weights, behaviour = alike_parts(m)
    n = m.cos["gradient"]["sft~rl"].n
    kl = m.kl
    if n == 0:
        return (
            "No batch had coins to learn from (SFT needs a best episode with coins, RL a "
            "difference in coins), so nothing was compared: alike = unresolved."
        )
    redrawn = f" ({m.skipped} more drawn without coins, set aside)" if m.skipped else ""
    return (
        f"Over {n} independent batches{redrawn}, at the base model. Raw gradients of the "
        f"{m.dim:,} weights LoRA targets: {_space(m, 'gradient')} (random directions within "
        f"±{random_band(max(m.dim, 1)):.4f}): alike = {weights}. AdamW's first step: "
        f"{_space(m, 'adam step')}. LoRA's first AdamW step, as ΔW: "
        f"{_space(m, 'lora adam step')}. Change of log π on held-out probes: "
        f"{_space(m, 'function')}. Behaviour, KL to SFT on the same K examples: few-shot "
        f"{kl['few-shot~sft']}, random examples {kl['random few-shot~sft']}, base "
        f"{kl['base~sft']}; random minus few-shot {m.behaviour}: few-shot moves toward "
        f"SFT = {behaviour}."
    )


def alike_trends(m: Alike) -> tuple[Trend, ...]:
    labels = {
        "gradient": "cosine of raw gradients",
        "adam step": "cosine of AdamW first steps",
        "lora adam step": "cosine of LoRA AdamW first steps (ΔW)",
        "function": "cosine of changes in log π",
        "kl": "KL to SFT on the same examples (nats)",
    }
    names = {"sft~rl": "SFT ~ RL", "sft~rl permuted": "SFT ~ RL, permuted advantages",
             "sft random~rl": "SFT on a random episode ~ RL", "sft~sft'": "SFT ~ SFT' (ceiling)",
             "rl~rl'": "RL ~ RL' (ceiling)", "sft~rl'": "SFT ~ RL'",
             "few-shot~sft": "few-shot, the same examples", "random few-shot~sft":
             "few-shot, random examples", "base~sft": "base model"}
    x = "independent batches"
    out = []
    for space, series in m.running.items():
        for pair, rows in series.items():
            pts = [Point(k + 2, r.mean, r.lo, r.hi, r.n) for k, r in enumerate(rows)]
            meta = {"compared": True} if pair in ("sft~rl", "few-shot~sft") else {}
            out.append(Trend.of(names[pair], x, labels[space], pts, meta=meta))
    if not out:  # fewer than two batches measured: show how many there were
        out.append(Trend.of("batches with coins to learn from", x, "batches",
                            [Point.exact(1, m.cos["gradient"]["sft~rl"].n)], interval="exact"))
    return tuple(out)


def show_alike(m: Alike) -> Shown:
    weights, behaviour = alike_parts(m)
    config = m.setup | {
        "parts": PARTS_RULE,
        "ceiling share": {s: m.ceiling_share(s) for s in m.cos},
    }
    return Shown(f"weights alike: {weights}; behaviour alike: {behaviour}", alike_trends(m),
                 config)


ALIKE = Experiment(ALIKE_SIZES, measure_alike_claim, judge_alike, describe_alike, show_alike)
