"""The two insights about training: each claim measures, judges from the numbers, describes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from quicktakes.insights.reversal import (
    ReversalResult,
    ReversalSpec,
    rule_chance,
    run_reversal,
    sign_flip_p,
)
from quicktakes.insights.rollback import RollbackResult, RollbackSpec, RunTrace, run_rollback
from quicktakes.ledger import Budget, Evidence, Point, RunContext, Trend, Verdict
from quicktakes.stats import mean_ci, wilson


class InsightSizes(BaseModel):
    """One budget's sizes for the two insight claims (dumped into results.json)."""

    facts: int
    epochs: int
    eval_every: int
    paraphrases: int
    test_templates: int
    lr: float
    """Full fine-tuning's AdamW rate: the fast budget trains fewer epochs at a higher rate."""
    rollback_seeds: int
    rollback_steps: int


SIZES = {
    Budget.FAST: InsightSizes(
        facts=12,
        epochs=6,
        eval_every=2,
        paraphrases=3,
        test_templates=1,
        lr=1e-4,
        rollback_seeds=6,
        rollback_steps=80,
    ),
    Budget.FULL: InsightSizes(
        facts=24,
        epochs=10,
        eval_every=2,
        paraphrases=6,
        test_templates=2,
        lr=3e-5,
        rollback_seeds=16,
        rollback_steps=200,
    ),
}
"""The full budget fits the issue's 30 minutes on the 2-core machine: 30 facts and 24 x 300
rollback runs took 36 minutes (scoring 30 x 30 candidates per template dominates)."""


@dataclass(frozen=True)
class Rate:
    """k of n, with its Wilson interval."""

    k: int
    n: int

    @property
    def share(self) -> float:
        return self.k / self.n if self.n else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n) if self.n else (0.0, 1.0)

    def point(self, x: float) -> Point:
        return Point(x, self.share, *self.interval, self.n)

    def __str__(self) -> str:
        lo, hi = self.interval
        return f"{self.k}/{self.n} [{lo:.2f}, {hi:.2f}]"


# --- insights.reversal-curse -------------------------------------------------------------


def reversal_spec(ctx: RunContext) -> ReversalSpec:
    s = SIZES[ctx.budget]
    return ReversalSpec(
        facts=s.facts,
        epochs=s.epochs,
        eval_every=s.eval_every,
        finetune="full",
        lr=s.lr,
        paraphrases=s.paraphrases,
        test_templates=s.test_templates,
        seed=ctx.subseed("facts"),
    )


def accuracy_trend(r: ReversalResult, direction: str, name: str) -> Trend:
    points = [
        Rate(sum(c.scores[direction].top1), len(c.scores[direction].top1)).point(c.epoch)
        for c in r.checkpoints
        if direction in c.scores
    ]
    return Trend.of(
        name,
        "epochs of fine-tuning",
        "top-1 among all candidates",
        points,
        interval="95% Wilson over facts",
        meta={"compared": True},
    )


def judge_reversal(forward: Rate, reverse: Rate, chance: float) -> Verdict:
    """At the last checkpoint: forward's interval above chance and reverse's containing
    chance holds; reverse above chance too fails (the model reverses what it learned);
    forward not above chance is inconclusive (nothing was learned to be reversed)."""
    if forward.interval[0] <= chance:
        return Verdict.INCONCLUSIVE
    lo, hi = reverse.interval
    if lo > chance:
        return Verdict.FAILS
    return Verdict.HOLDS if lo <= chance <= hi else Verdict.PARTLY


def run_reversal_curse(ctx: RunContext) -> Evidence:
    r = run_reversal(reversal_spec(ctx), on_progress=ctx.ticker("fine-tuning and evaluating"))
    last = r.checkpoints[-1]
    fwd, rev = (Rate(sum(last.scores[d].top1), len(r.facts)) for d in ("forward", "reverse"))
    control = r.checkpoints[0].scores["in-context"]
    ctl = Rate(sum(control.top1), len(r.facts))
    ctl_chance = rule_chance(control.candidates, r.spec.test_templates)
    v = judge_reversal(fwd, rev, r.chance)
    epochs = [c.epoch for c in r.checkpoints]
    trends = (
        accuracy_trend(r, "forward", "forward: name -> description (trained)"),
        accuracy_trend(r, "reverse", "reverse: description -> name"),
        Trend.of(
            f"chance (the rule's: first under half of {r.spec.test_templates} template(s))",
            "epochs of fine-tuning",
            "top-1 among all candidates",
            [Point.exact(e, r.chance) for e in epochs],
            interval="exact",
        ),
        Trend.of(
            "reverse: log p(right name)",
            "epochs of fine-tuning",
            "mean log-probability of the completion",
            [Point.exact(c.epoch, c.scores["reverse"].logp_right) for c in r.checkpoints],
            interval="exact",
            meta={"compared": True},
        ),
        Trend.of(
            "reverse: log p(another name)",
            "epochs of fine-tuning",
            "mean log-probability of the completion",
            [Point.exact(c.epoch, c.scores["reverse"].logp_other) for c in r.checkpoints],
            interval="exact",
            meta={"compared": True},
        ),
    )
    lp = last.scores["reverse"]
    rev_tok = Rate(sum(lp.top1_per_token), len(r.facts))
    p_rev = sign_flip_p(lp.margin)
    ctl_lo = ctl.interval[0]
    control_says = (
        "above its chance" if ctl_lo > ctl_chance else "not above its chance in this run"
    )
    finding = (
        f"After {last.epoch} epochs of full fine-tuning on {len(r.facts)} invented facts "
        f"stated name first, the right description ranks first for {fwd} of the names "
        f"(forward), the right name for {rev} of the descriptions (reverse); chance is "
        f"{r.chance:.2f}. In the reverse direction the right name's mean log-probability is "
        f"{lp.logp_right:.1f} against {lp.logp_other:.1f} for the other names (paired "
        f"sign-flip test over facts, one-sided p = {p_rev:.3f}); ranked per completion token "
        f"instead of summed, reverse {rev_tok}. Exact greedy matches: forward "
        f"{sum(last.scores['forward'].exact)}, reverse {sum(lp.exact)}. Control, the fact in "
        f"the prompt among {control.candidates - 1} others instead of trained, ranked among "
        f"those {control.candidates} names: reverse {ctl} before any training, against a "
        f"chance of {ctl_chance:.2f}: {control_says}."
    )
    measured = f"forward {fwd.share:.2f}, reverse {rev.share:.2f}, chance {r.chance:.2f}"
    config = {
        **SIZES[ctx.budget].model_dump(
            include={"facts", "epochs", "eval_every", "paraphrases", "test_templates", "lr"}
        ),
        "model": r.model,
        "finetune": "full",
        "chance": round(r.chance, 4),
        "control_chance": round(ctl_chance, 4),
        "reverse_sign_flip_p": round(p_rev, 4),
        "reverse_top1_per_token": rev_tok.k,
        "facts_shown": [f"{f.name}: {f.desc}" for f in r.facts[:5]],
        "paper": "Berglund et al. 2023, GPT-3 175B: forward exact match 96.7%, reverse 0.1%",
    }
    return Evidence(v, finding, measured, trends, config)


# --- insights.verified-rollback -----------------------------------------------------------

MODEST = 0.25
"""A verifier of modest coverage: it checks at most a quarter of the states."""
SMALL_COST = 0.1
RARE = 0.05


def rollback_spec(ctx: RunContext) -> RollbackSpec:
    s = SIZES[ctx.budget]
    return RollbackSpec(
        seeds=s.rollback_seeds, steps=s.rollback_steps, seed=ctx.subseed("rollback")
    )


def _from_a(traces: list[RunTrace], level: float) -> Counter[str]:
    """Where the steps that started in A landed, over the given runs at one level."""
    out: Counter[str] = Counter()
    for t in traces:
        out.update(to for frm, to in t.moves[level] if frm == "A")
    return out


@dataclass(frozen=True)
class RollbackMeasured:
    levels: tuple[float, ...]
    modest: float
    a_to_c: dict[float, Rate]
    """Per level: steps from A that landed in C, of all steps from A (both kinds of run)."""
    a_to_b: dict[float, Rate]
    kept: dict[float, Rate]
    """Per level: runs with rollback whose final model is truly good."""
    kept_without: Rate
    pressure: Rate
    """Runs without rollback that were ever truly bad: training pushes toward the cell."""
    cost: dict[float, float]
    """Per level: mean over runs of 1 - final performance with rollback / without."""
    undone: dict[float, float]


def measure_rollback(r: RollbackResult) -> RollbackMeasured:
    levels = r.spec.levels
    runs = r.runs
    a_to_c, a_to_b, kept, cost, undone = {}, {}, {}, {}, {}
    for level in levels:
        traces = [w.watched for w in runs] + [w.rolled[level] for w in runs]
        landed = _from_a(traces, level)
        total = sum(landed.values())
        a_to_c[level] = Rate(landed["C"], total)
        a_to_b[level] = Rate(landed["B"], total)
        kept[level] = Rate(sum(not w.rolled[level].bad[-1] for w in runs), len(runs))
        cost[level] = float(
            np.mean([1 - w.rolled[level].perf[-1] / max(w.watched.perf[-1], 1e-12) for w in runs])
        )
        undone[level] = float(np.mean([w.rolled[level].undone / r.spec.steps for w in runs]))
    modest = max((lv for lv in levels if lv <= MODEST), default=min(levels))
    return RollbackMeasured(
        levels,
        modest,
        a_to_c,
        a_to_b,
        kept,
        Rate(sum(not w.watched.bad[-1] for w in runs), len(runs)),
        Rate(sum(any(w.watched.bad) for w in runs), len(runs)),
        cost,
        undone,
    )


def judge_rollback(m: RollbackMeasured) -> Verdict:
    """At the modest level: A->C steps rare (upper bound <= 5%), rollback runs ending truly
    good (lower bound >= 50%) and a small cost (<= 10% of the performance without rollback)
    hold; A->C common (lower bound > 5%) or rollback runs mostly ending bad (upper bound
    < 50%) fail. If training never left the truly good region there was nothing to catch."""
    if m.pressure.k == 0 or m.a_to_c[m.modest].n == 0:
        return Verdict.INCONCLUSIVE
    ac, kept = m.a_to_c[m.modest].interval, m.kept[m.modest].interval
    if ac[0] > RARE or kept[1] < 0.5:
        return Verdict.FAILS
    if ac[1] <= RARE and kept[0] >= 0.5 and m.cost[m.modest] <= SMALL_COST:
        return Verdict.HOLDS
    return Verdict.PARTLY


def _over_runs(values: list[list[float]], name: str, y: str) -> Trend:
    arr = np.array(values)
    pts = []
    for step in range(arr.shape[1]):
        mean, lo, hi = mean_ci(arr[:, step])
        pts.append(Point(step, mean, min(lo, mean), max(hi, mean), arr.shape[0]))
    return Trend.of(name, "policy-gradient updates", y, pts, interval="95% CI over mazes")


def _share_bad(traces: list[RunTrace], name: str) -> Trend:
    pts = [
        Rate(sum(t.bad[s] for t in traces), len(traces)).point(s)
        for s in range(len(traces[0].bad))
    ]
    return Trend.of(
        name,
        "policy-gradient updates",
        "share of runs truly bad",
        pts,
        interval="95% Wilson over mazes",
    )


def _thin(t: Trend, points: int = 26) -> Trend:
    keep = sorted({round(i) for i in np.linspace(0, len(t.points) - 1, points)})
    return Trend(
        t.name,
        t.x_label,
        t.y_label,
        tuple(t.points[i] for i in keep),
        t.interval,
        style=t.style,
        meta=t.meta,
    )


def _rates_trend(
    name: str, x: str, y: str, rates: dict[float, Rate], over: str, compared: bool = False
) -> Trend:
    """One rate per verifier level, as markers with Wilson intervals."""
    points = [r.point(lv) for lv, r in rates.items()]
    meta = {"compared": True} if compared else {}
    return Trend.of(
        name, x, y, points, interval=f"95% Wilson over {over}", style="markers", meta=meta
    )


def _label(spec: RollbackSpec, level: float) -> str:
    return f"{level:g} states" if spec.verifier_samples else f"coverage {level:.0%}"


def run_verified_rollback(ctx: RunContext) -> Evidence:
    r = run_rollback(rollback_spec(ctx), on_progress=ctx.ticker("training runs"))
    m = measure_rollback(r)
    v = judge_rollback(m)
    x = "verifier sample size" if r.spec.verifier_samples else "verifier coverage (share of states)"
    trends = [
        _rates_trend(
            "A -> C (undetected) per step from A",
            x,
            "share of steps from A",
            m.a_to_c,
            "steps",
            compared=True,
        ),
        _rates_trend(
            "A -> B (caught) per step from A", x, "share of steps from A", m.a_to_b, "steps"
        ),
        _rates_trend(
            "rollback runs ending truly good", x, "share of runs", m.kept, "mazes", compared=True
        ),
    ]
    mid = m.modest
    watched = [w.watched for w in r.runs]
    rolled = [w.rolled[mid] for w in r.runs]
    trends += [
        _thin(_share_bad(watched, "without rollback")),
        _thin(_share_bad(rolled, f"with rollback, {_label(r.spec, mid)}")),
        _thin(
            _over_runs(
                [[p / w.best for p in w.watched.perf] for w in r.runs],
                "without rollback",
                "performance / best policy's",
            )
        ),
        _thin(
            _over_runs(
                [[p / w.best for p in w.rolled[mid].perf] for w in r.runs],
                f"with rollback, {_label(r.spec, mid)}",
                "performance / best policy's",
            )
        ),
        _thin(
            Trend.of(
                "best policy avoiding the cell",
                "policy-gradient updates",
                "performance / best policy's",
                [
                    Point.exact(s, float(np.mean([w.safe / w.best for w in r.runs])))
                    for s in range(r.spec.steps + 1)
                ],
                interval="exact",
            )
        ),
    ]
    full = max(m.levels)
    finding = (
        f"{len(r.runs)} mazes, {r.spec.steps} updates each; training without rollback ended "
        f"truly bad in {len(r.runs) - m.kept_without.k} of {len(r.runs)} runs (ever bad: "
        f"{m.pressure}). With a verifier of {_label(r.spec, mid)}: steps from A landing in C "
        f"(undetected) {m.a_to_c[mid]}, in B (caught) {m.a_to_b[mid]}; with rollback "
        f"{m.kept[mid]} runs end truly good, {m.undone[mid]:.0%} of updates undone, cost "
        f"{m.cost[mid]:+.0%} of the performance without rollback. At {_label(r.spec, full)}: "
        f"A -> C {m.a_to_c[full]}, runs kept good {m.kept[full]}, {m.undone[full]:.0%} of "
        f"updates undone, cost {m.cost[full]:+.0%}. A -> C against the "
        f"verifier's coverage: "
        + ", ".join(f"{_label(r.spec, lv)} {m.a_to_c[lv].share:.2f}" for lv in m.levels)
        + "."
    )
    measured = (
        f"A->C {m.a_to_c[mid].share:.2f} at {_label(r.spec, mid)}; kept good "
        f"{m.kept[mid].share:.2f}"
    )
    config = {
        **SIZES[ctx.budget].model_dump(include={"rollback_seeds", "rollback_steps"}),
        **r.spec.model_dump(exclude={"seed", "seeds", "steps"}),
        "states": [w.world.n_states for w in r.runs],
        "a_to_c": {str(lv): [m.a_to_c[lv].k, m.a_to_c[lv].n] for lv in m.levels},
        "kept": {str(lv): [m.kept[lv].k, m.kept[lv].n] for lv in m.levels},
        "cost": {str(lv): m.cost[lv] for lv in m.levels},
    }
    return Evidence(v, finding, measured, tuple(trends), config)
