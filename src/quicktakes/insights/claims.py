"""The insights about training and the trends rule, each an `Experiment`: its sizes per
budget, measure, a judge on the numbers, describe and show."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from quicktakes.insights.catalog import KEPT, MODEST, MOST, RARE, SMALL_COST, SPREAD
from quicktakes.insights.reversal import (
    ReversalResult,
    ReversalSpec,
    run_reversal,
    sign_flip_p,
)
from quicktakes.insights.rollback import (
    Arm,
    RollbackSpec,
    RunTrace,
    Verifier,
    notion,
    run_rollback,
)
from quicktakes.insights.tally import RollbackMeasured, arm_label, level_label, measure_rollback
from quicktakes.insights.trends import (
    QLearningDraws,
    ReversalDraws,
    Study,
    qlearning_study,
    reversal_study,
    spread_ratio,
)
from quicktakes.insights.updates import (
    LandingResult,
    SmallUpdatesResult,
    SmallUpdatesSpec,
    reversal_landing,
    run_small_updates,
)
from quicktakes.ledger import Budget, Experiment, Point, RunContext, Shown, Trend, Verdict
from quicktakes.stats import Rate, mean_ci


class ReversalSizes(BaseModel):
    """insights.reversal-curse's sizes per budget."""

    facts: int
    epochs: int
    eval_every: int
    paraphrases: int
    test_templates: int
    candidates: int
    """Each fact's pool: its own completion and `candidates - 1` others."""
    lr: float
    """Full fine-tuning's AdamW rate: the fast budget trains fewer epochs at a higher rate."""


class RollbackSizes(BaseModel):
    """insights.verified-rollback's sizes per budget."""

    rollback_seeds: int
    rollback_steps: int
    rollback_margins: tuple[float, ...] = (0.0, 1.0)
    """The verifier notions swept: the argmax check (0) and margins in logits."""
    rollback_rates: tuple[float, ...] = (0.01, 0.003)
    """The policy-gradient rates swept."""


REVERSAL_SIZES = {
    Budget.FAST: ReversalSizes(facts=24, epochs=4, eval_every=2, paraphrases=3,
                               test_templates=1, candidates=4, lr=2e-4),
    Budget.FULL: ReversalSizes(facts=48, epochs=10, eval_every=5, paraphrases=6,
                               test_templates=2, candidates=4, lr=3e-5),
}
"""Pools of 4, so a reverse test at chance can show it: were the model blind to the right
name, the judge's "within chance and below twice it" would hold with probability 0.77 at
24 facts and one template, 0.96 at 48 and two; ranked among all 48 names it was 0.13 at
best (two hits expected whatever the facts, an interval never under twice chance).
`--fast` trains 24 facts for 4 epochs at twice the old rate: 172 s against the old 12
facts' 160 s on a 2-core AVX2 CPU in fp32 (2026-12-03), forward 22/24 at epoch 4; `--full`
1,060 s there (1,805 s when every fact was scored against all 48)."""
ROLLBACK_SIZES = {
    Budget.FAST: RollbackSizes(rollback_seeds=6, rollback_steps=80),
    Budget.FULL: RollbackSizes(rollback_seeds=16, rollback_steps=200,
                               rollback_margins=(0.0, 0.5, 1.0, 2.0),
                               rollback_rates=(0.01, 0.003)),
}


# --- insights.reversal-curse -------------------------------------------------------------


def reversal_spec(ctx: RunContext, s: ReversalSizes) -> ReversalSpec:
    return ReversalSpec(
        facts=s.facts,
        epochs=s.epochs,
        eval_every=s.eval_every,
        finetune="full",
        lr=s.lr,
        paraphrases=s.paraphrases,
        test_templates=s.test_templates,
        candidates=s.candidates,
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
        f"top-1 among {r.spec.candidates or len(r.facts)} candidates",
        points,
        interval="95% Wilson over facts",
        meta={"compared": True},
    )


@dataclass(frozen=True)
class ReversalMeasured:
    forward: Rate
    """Facts whose right description ranks first at the last checkpoint."""
    reverse: Rate
    """Facts whose right name ranks first, asked in reverse, at the last checkpoint."""
    chance: float
    """Reverse's chance for the rule the scores use, at the last checkpoint."""
    forward_chance: float
    result: ReversalResult | None = None


def measure_reversal(ctx: RunContext, sizes: ReversalSizes) -> ReversalMeasured:
    r = run_reversal(reversal_spec(ctx, sizes),
                     on_progress=ctx.ticker("fine-tuning and evaluating"))
    last = r.checkpoints[-1]
    fwd, rev = (Rate(sum(last.scores[d].top1), len(r.facts)) for d in ("forward", "reverse"))
    return ReversalMeasured(fwd, rev, last.scores["reverse"].chance,
                            last.scores["forward"].chance, r)


NEAR = 2.0
"""Reverse is at chance when its interval contains chance and its upper bound is below NEAR
times chance: an interval merely containing chance can be wide enough to hide reversal."""


REVERSAL_RULE = (
    "At the last checkpoint: forward's interval above its chance, and reverse's containing "
    f"chance and below {NEAR:g} x chance, holds; reverse above chance fails (the model "
    "reverses what it learned); reverse below chance is partly (the model tells the right "
    "name apart, against it); forward not above chance, or reverse too wide to place, is "
    "inconclusive. Chance is the rule's (first under at least half of the test templates) "
    "on the same scores."
)


def judge_reversal(m: ReversalMeasured) -> Verdict:
    """REVERSAL_RULE: reverse at chance needs an interval narrow enough to place it there."""
    forward, reverse, chance = m.forward, m.reverse, m.chance
    if forward.interval[0] <= m.forward_chance:
        return Verdict.INCONCLUSIVE
    lo, hi = reverse.interval
    if lo > chance:
        return Verdict.FAILS
    if hi < chance:
        return Verdict.PARTLY
    return Verdict.HOLDS if hi <= NEAR * chance else Verdict.INCONCLUSIVE


def _control(r: ReversalResult) -> tuple[Rate, float, int]:
    """The in-context control: facts ranked first, its chance, the names it ranks among."""
    control = r.checkpoints[0].scores["in-context"]
    return Rate(sum(control.top1), len(r.facts)), control.chance, control.candidates


def show_reversal(m: ReversalMeasured) -> Shown:
    r = m.result
    assert r is not None
    pool = r.spec.candidates or len(r.facts)
    trends = (
        accuracy_trend(r, "forward", "forward: name -> description (trained)"),
        accuracy_trend(r, "reverse", "reverse: description -> name"),
        Trend.of(
            f"reverse's chance (the rule's: first under half of {r.spec.test_templates} "
            "template(s), on the same scores)",
            "epochs of fine-tuning",
            f"top-1 among {pool} candidates",
            [Point.exact(c.epoch, c.scores["reverse"].chance) for c in r.checkpoints],
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
    last = r.checkpoints[-1]
    lp = last.scores["reverse"]
    _, ctl_chance, _ = _control(r)
    measured = (
        f"forward {m.forward.share:.2f}, reverse {m.reverse.share:.2f}, chance {m.chance:.2f}"
    )
    config = {
        "model": r.model,
        "finetune": "full",
        "candidates": pool,
        "chance": round(m.chance, 4),
        "forward_chance": round(m.forward_chance, 4),
        "near_chance": f"reverse's upper bound <= {NEAR:g} x chance",
        "control_chance": round(ctl_chance, 4),
        "reverse_sign_flip_p": round(sign_flip_p(lp.margin), 4),
        "reverse_top1_per_token": sum(lp.top1_per_token),
        "facts_shown": [f"{f.name}: {f.desc}" for f in r.facts[:5]],
        "paper": "Berglund et al. 2023, GPT-3 175B: forward exact match 96.7%, reverse 0.1%",
    }
    return Shown(measured, trends, config)


def describe_reversal(m: ReversalMeasured, v: Verdict) -> str:
    r = m.result
    assert r is not None
    fwd, rev = m.forward, m.reverse
    last = r.checkpoints[-1]
    ctl, ctl_chance, candidates = _control(r)
    lp = last.scores["reverse"]
    rev_tok = Rate(sum(lp.top1_per_token), len(r.facts))
    p_rev = sign_flip_p(lp.margin)
    ctl_lo = ctl.interval[0]
    control_says = (
        "above its chance" if ctl_lo > ctl_chance else "not above its chance in this run"
    )
    pool = r.spec.candidates or len(r.facts)
    hi = rev.interval[1]
    near = "below" if hi <= NEAR * m.chance else "not below"
    finding = (
        f"After {last.epoch} epochs of full fine-tuning on {len(r.facts)} invented facts "
        f"stated name first, each ranked among its own and {pool - 1} other facts' "
        f"completions, the right description ranks first for {fwd} of the names "
        f"(forward, chance {m.forward_chance:.2f}), the right name for {rev} of the "
        f"descriptions (reverse, chance {m.chance:.2f}; upper bound {hi:.2f}, {near} "
        f"{NEAR:g} x chance). In the reverse direction the right name's mean log-probability is "
        f"{lp.logp_right:.1f} against {lp.logp_other:.1f} for its pool's other names (paired "
        f"sign-flip test over facts, one-sided p = {p_rev:.3f}); ranked per completion token "
        f"instead of summed, reverse {rev_tok}. Exact greedy matches: forward "
        f"{sum(last.scores['forward'].exact)}, reverse {sum(lp.exact)}. Control, the fact in "
        f"the prompt among {candidates - 1} others instead of trained, ranked among "
        f"those {candidates} names: reverse {ctl} before any training, against a "
        f"chance of {ctl_chance:.2f}: {control_says}."
    )
    return finding


REVERSAL = Experiment(REVERSAL_SIZES, measure_reversal, judge_reversal, describe_reversal,
                      show_reversal, rule=REVERSAL_RULE)


# --- insights.verified-rollback -----------------------------------------------------------

CLAIM_COVERAGES = (0.05, 0.1, 0.25, 1.0)


def rollback_spec(ctx: RunContext, s: RollbackSizes) -> RollbackSpec:
    return RollbackSpec(
        seeds=s.rollback_seeds, steps=s.rollback_steps, seed=ctx.subseed("rollback"),
        margins=s.rollback_margins, rates=s.rollback_rates, coverages=CLAIM_COVERAGES,
    )


def judge_rollback(m: RollbackMeasured) -> Verdict:
    """Some notion, rate and modest coverage (<= 25%) that makes A->C rare (upper bound
    <= 5%), keeps most runs truly good (lower bound >= 50%) at a cost <= 10% of the safe
    optimum: holds. One that makes A->C rare at a larger cost: partly. Every arm shown to
    miss: fails. If training never left the truly good region there was nothing to catch."""
    if all(p.k == 0 for p in m.pressure.values()):
        return Verdict.INCONCLUSIVE
    arms = [m.arms[a] for a in m.candidates() if m.arms[a].a_to_c.n > 0]
    if not arms:
        return Verdict.INCONCLUSIVE
    if any(a.meets() for a in arms):
        return Verdict.HOLDS
    if any(a.guards() for a in arms):
        return Verdict.PARTLY
    if all(a.misses() for a in arms):
        return Verdict.FAILS
    return Verdict.INCONCLUSIVE


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


def measure_verified_rollback(ctx: RunContext, sizes: RollbackSizes) -> RollbackMeasured:
    r = run_rollback(rollback_spec(ctx, sizes), on_progress=ctx.ticker("training runs"))
    return measure_rollback(r)


def _leading(m: RollbackMeasured) -> tuple[Arm, Arm]:
    """The arm the finding leads with, and the argmax check's best modest arm."""
    argmax = {a: m.arms[a] for a in m.candidates() if a.verifier.margin == 0}
    return m.headline(), min(argmax, key=lambda a: (argmax[a].a_to_c.interval[1], a))


def describe_rollback(m: RollbackMeasured, v: Verdict) -> str:
    r = m.result
    assert r is not None
    spec = r.spec
    head, best_argmax = _leading(m)
    lr, label = head.lr, arm_label(spec, head)
    h, ba = m.arms[head], m.arms[best_argmax]
    return (
        f"{len(r.runs)} mazes, {spec.steps} updates each, at rates "
        f"{', '.join(f'{x:g}' for x in spec.learning_rates)}; training without rollback was "
        f"ever truly bad in {m.pressure[lr]} runs at rate {lr:g}. Verifier notions tried: "
        f"the argmax check and margins {', '.join(f'{d:g}' for d in spec.margins if d)} "
        f"logits, at coverages {', '.join(level_label(spec, lv) for lv in spec.levels)}. Leading "
        f"arm ({label}): steps from A landing in C (undetected) {h.a_to_c}, in B (caught) "
        f"{h.a_to_b}; rollback runs ending truly good {h.kept}, {h.undone:.0%} of updates "
        f"undone, cost {h.cost:+.0%} of the safe optimum. The argmax check's best modest arm "
        f"({arm_label(spec, best_argmax)}): A -> C {ba.a_to_c}, kept good {ba.kept}, cost "
        f"{ba.cost:+.0%}."
    )


def show_rollback(m: RollbackMeasured) -> Shown:
    r = m.result
    assert r is not None
    spec = r.spec
    head = m.headline()
    lr = head.lr
    x = "verifier sample size" if spec.verifier_samples else "verifier coverage (share of states)"
    trends: list[Trend] = []
    for d in spec.margins:
        name = notion(d)
        by_level = {lv: m.arms[Arm(lr, Verifier(d, lv))] for lv in spec.levels}
        trends += [
            _rates_trend(f"A -> C (undetected) per step from A, {name}", x,
                         "share of steps from A", {k: a.a_to_c for k, a in by_level.items()},
                         "steps", compared=True),
            _rates_trend(f"rollback runs ending truly good, {name}", x, "share of runs",
                         {k: a.kept for k, a in by_level.items()}, "mazes"),
        ]
    watched = [w.watched[lr] for w in r.runs]
    rolled = [w.rolled[head] for w in r.runs]
    label = arm_label(spec, head)
    trends += [
        _thin(_share_bad(watched, "without rollback")),
        _thin(_share_bad(rolled, f"with rollback, {label}")),
        _thin(
            _over_runs(
                [[p / w.best for p in w.watched[lr].perf] for w in r.runs],
                "without rollback",
                "performance / best policy's",
            )
        ),
        _thin(
            _over_runs(
                [[p / w.best for p in w.rolled[head].perf] for w in r.runs],
                f"with rollback, {label}",
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
                    for s in range(spec.steps + 1)
                ],
                interval="exact",
            )
        ),
    ]
    h = m.arms[head]
    measured = f"A->C {h.a_to_c.share:.2f} ({label}); kept good {h.kept.share:.2f}"
    config = {
        **spec.model_dump(exclude={"seed", "seeds", "steps", "margins", "rates"}),
        "margins": list(spec.margins),
        "rates": list(spec.learning_rates),
        "states": [w.world.n_states for w in r.runs],
        "arms": {
            arm_label(spec, a): {
                "a_to_c": [x.a_to_c.k, x.a_to_c.n], "kept": [x.kept.k, x.kept.n],
                "cost": round(x.cost, 4), "undone": round(x.undone, 4),
            }
            for a, x in m.arms.items()
        },
        "leading_arm": label,
    }
    return Shown(measured, tuple(trends), config)


ROLLBACK_RULE = (
    f"holds if some notion, rate and coverage <= {MODEST:.0%} has A->C upper bound <= "
    f"{RARE:.0%}, rollback runs kept good lower bound >= {KEPT:.0%} and cost <= "
    f"{SMALL_COST:.0%} of the safe optimum"
)
ROLLBACK = Experiment(ROLLBACK_SIZES, measure_verified_rollback, judge_rollback,
                      describe_rollback, show_rollback, rule=ROLLBACK_RULE)


# --- meta.trends -------------------------------------------------------------------------


class TrendsSizes(BaseModel):
    """meta.trends' sizes per budget: the reversal curse's fast training, repeated."""

    trends_trainings: int
    trends_pools: int
    """Draws of each fact's rivals and of the test wording, per training."""
    trends_q_draws: int
    trends_q_mdps: int


TRENDS_SIZES = {
    Budget.FAST: TrendsSizes(trends_trainings=1, trends_pools=12, trends_q_draws=24,
                             trends_q_mdps=40),
    Budget.FULL: TrendsSizes(trends_trainings=3, trends_pools=8, trends_q_draws=64,
                             trends_q_mdps=40),
}
"""Each draw is a small experiment on its own (24 facts; 40 MDPs), the size at which a single
reading is what a reader would be shown. Both budgets train the reversal curse's fast setting:
`--full` buys training seeds, not a longer training."""
SIGN_KEPT = 0.8
"""Most draws: a contrast keeps its sign in at least this share."""
SIGN_LOST = 0.5
MIN_DRAWS = 6
"""Fewer draws than this place no spread: a bootstrap over 3 draws is all but certain."""


@dataclass(frozen=True)
class TrendsMeasured:
    studies: tuple[Study, ...]
    ratios: tuple[tuple[float, float, float], ...]
    """Per study: the contrast's relative spread over the levels', with its 95% interval."""


def measure_trends(ctx: RunContext, sizes: TrendsSizes) -> TrendsMeasured:
    rev = REVERSAL_SIZES[Budget.FAST]
    reversal = reversal_study(
        ReversalDraws(facts=rev.facts, epochs=rev.epochs, lr=rev.lr,
                      paraphrases=rev.paraphrases, candidates=rev.candidates,
                      trainings=sizes.trends_trainings, pools=sizes.trends_pools,
                      seed=ctx.subseed("reversal")),
        ctx.ticker("reversal curse, trained and read under other draws"),
    )
    q = qlearning_study(QLearningDraws(draws=sizes.trends_q_draws, mdps=sizes.trends_q_mdps,
                                       seed=ctx.subseed("q-learning")))
    studies = (reversal, q)
    rng = ctx.rng("bootstrap")
    return TrendsMeasured(studies, tuple(spread_ratio(s, rng) for s in studies))


def judge_trends(m: TrendsMeasured) -> Verdict:
    """TRENDS_RULE."""
    if min(s.draws for s in m.studies) < MIN_DRAWS:
        return Verdict.INCONCLUSIVE
    kept = [r.sign_kept for s in m.studies for r in s.of("contrast")]
    if min(kept) < SIGN_LOST or any(lo > 1 for _, lo, _ in m.ratios):
        return Verdict.FAILS
    steady = [hi < 1 for _, _, hi in m.ratios]
    if min(kept) >= SIGN_KEPT and all(steady):
        return Verdict.HOLDS
    if min(kept) >= SIGN_KEPT and any(steady):
        return Verdict.PARTLY
    return Verdict.INCONCLUSIVE


TRENDS_RULE = (
    "Per experiment, the contrast's spread over draws relative to its size, divided by the "
    "median of its levels' (standard deviation over |mean|), with a 95% bootstrap interval "
    f"over draws. Holds if every contrast keeps its sign in >= {SIGN_KEPT:.0%} of draws and "
    "every ratio's interval lies below 1; fails if a contrast keeps its sign in under "
    f"{SIGN_LOST:.0%} of draws or a ratio's interval lies above 1; partly if the signs are "
    f"kept and some but not all ratios lie below 1; else, or under {MIN_DRAWS} draws, "
    "inconclusive."
)


def _study_line(s: Study, ratio: tuple[float, float, float]) -> str:
    levels = ", ".join(f"{r.name} {r.mean:.2f} (sd {r.sd:.3f}, {r.relative:.2f} of its size)"
                       for r in s.of("level"))
    c = s.of("contrast")[0]
    return (
        f"{s.name}, over {s.draws} draws ({s.nuisance}): {levels}; {c.name} {c.mean:+.2f} "
        f"(sd {c.sd:.3f}, {c.relative:.2f} of its size), its sign kept in {c.sign_kept:.0%} "
        f"of draws; ratio {ratio[0]:.2f} [{ratio[1]:.2f}, {ratio[2]:.2f}]. Read as single "
        f"points from two different draws, {s.crossed[0]} and {s.crossed[1]} order the "
        f"wrong way in {s.cross_flips():.1%} of draw pairs."
    )


def describe_trends(m: TrendsMeasured, v: Verdict) -> str:
    return " ".join(_study_line(s, r) for s, r in zip(m.studies, m.ratios, strict=True))


def show_trends(m: TrendsMeasured) -> Shown:
    trends = []
    for s in m.studies:
        for r in s.readings:
            trends.append(Trend.of(
                f"{s.name}: {r.name} ({r.kind})", "nuisance draw", s.unit,
                [Point.exact(i + 1, v) for i, v in enumerate(r.values)],
                interval="exact", style="markers",
            ))
    measured = "; ".join(
        f"{s.name}: contrast/level spread {r[0]:.2f} [{r[1]:.2f}, {r[2]:.2f}], sign kept "
        f"{s.of('contrast')[0].sign_kept:.0%}"
        for s, r in zip(m.studies, m.ratios, strict=True)
    )
    config = {
        "studies": {s.name: s.to_dict() | {"ratio": [round(x, 4) for x in r]}
                    for s, r in zip(m.studies, m.ratios, strict=True)},
        "anchors": "Madaan et al. 2024 (benchmark variance across seeds); Sclar et al. 2023 "
                   "(prompt-format sensitivity)",
    }
    return Shown(measured, tuple(trends), config)


TRENDS = Experiment(TRENDS_SIZES, measure_trends, judge_trends, describe_trends, show_trends,
                    rule=TRENDS_RULE)


# --- insights.small-updates --------------------------------------------------------------


class SmallUpdatesSizes(BaseModel):
    """insights.small-updates' sizes per budget."""

    updates_seeds: int
    updates_arm_steps: int
    updates_llm: bool = False
    """Also read the embedded model's full fine-tune on the reversal curse's facts (its fast
    size): where the update lands, and each decoder layer's share removed and kept alone."""
    updates_llm_arm_rates: tuple[float, ...] = ()
    """The embedded model's one-layer arms: the rates each layer's arm sweeps (none: no arms).
    The all-layer run's rate is the reversal curse's fast rate, 2e-4."""


SMALL_UPDATES_SIZES = {
    Budget.FAST: SmallUpdatesSizes(updates_seeds=2, updates_arm_steps=2400),
    Budget.FULL: SmallUpdatesSizes(updates_seeds=5, updates_arm_steps=2400, updates_llm=True,
                                   updates_llm_arm_rates=(5e-3, 2e-2)),
}
"""About 30 s per MLP seed on two cores, most of it the one-layer arms that never get there;
the LLM's readings add a fine-tune and 60 scorings of its facts (`--full` only, about 6
minutes), and eight one-layer arms (three layers spanning the depth and the best kept-alone
layer, two rates), 50-120 s each on one core. The rates: in session 12 (docs/results.md) every
layer's best of 2e-4, 1e-3 and 5e-3 was 5e-3, and at 2e-2 only one layer did better, so the
sweep is those two; fifteen arms would have grown `--full` by more than the 15 minutes the
claim may add. The MLP's arms stop at 2,400 steps at `--full` too, 30 times the all-layer run's
76-82: at 6,000 none of 25 arms over five seeds reached the loss either (session 13), and one
seed took 132 s against 50 s alone on one thread."""


@dataclass(frozen=True)
class SmallUpdatesMeasured:
    runs: tuple[SmallUpdatesResult, ...]
    llm: LandingResult | None = None


def measure_small_updates(ctx: RunContext, sizes: SmallUpdatesSizes) -> SmallUpdatesMeasured:
    runs = []
    for k in range(sizes.updates_seeds):
        spec = SmallUpdatesSpec(seed=ctx.subseed("net", str(k)),
                                arm_steps=sizes.updates_arm_steps)
        runs.append(run_small_updates(spec, ctx.ticker(
            f"seed {k + 1}/{sizes.updates_seeds}: every layer, then each layer alone")))
    llm = None
    if sizes.updates_llm:
        ctx.note("the embedded model: the reversal curse's full fine-tune, then each layer")
        llm = reversal_landing(reversal_spec(ctx, REVERSAL_SIZES[Budget.FAST]),
                               on_progress=ctx.ticker("each decoder layer's share removed, "
                                                      "then kept alone"),
                               arm_rates=sizes.updates_llm_arm_rates,
                               on_arm_progress=ctx.ticker("one layer trained alone (an arm "
                                                          "per layer and rate)", steps=100))
    return SmallUpdatesMeasured(tuple(runs), llm)


def _llm_spread(r: LandingResult) -> float:
    return max(q / p for p, q in r.shares(r.groups).values() if p > 0)


def _llm_alone(r: LandingResult) -> float:
    """The most one decoder layer's share of the update recovers of the learned facts."""
    before, after = r.recalled
    if after <= before:
        return 0.0
    return float(r.share_recovered().max())


def _spread(r: SmallUpdatesResult) -> float:
    """The most any layer's share of |dtheta|^2 exceeds its share of the parameters (x)."""
    return float((r.update_share / r.param_share).max())


def _arms_cost_more(r: SmallUpdatesResult | LandingResult) -> bool:
    """Every one-layer arm ends with a larger update than the all-layer run's and needs at
    least as many steps (or never gets there); true where no arm was run."""
    return all(a.norm > r.norm and (a.steps is None or a.steps >= (r.steps or 0))
               for a in r.arms)


def _cheaper(r: SmallUpdatesResult) -> bool:
    return r.steps is not None and _arms_cost_more(r)


def _local_wins(r: SmallUpdatesResult | LandingResult) -> bool:
    """A one-layer arm reached the all-layer run's loss with a smaller update."""
    return any(a.steps is not None and a.norm < r.norm for a in r.arms)


def judge_small_updates(m: SmallUpdatesMeasured) -> Verdict:
    """SMALL_UPDATES_RULE."""
    learned = [r.steps is not None and r.learned() > 0 for r in m.runs]
    if not all(learned):
        return Verdict.INCONCLUSIVE
    llm = m.llm
    llm_learned = llm is None or llm.recalled[1] > llm.recalled[0]
    if any(r.share_recovered().max() >= MOST or _local_wins(r) for r in m.runs) or (
        llm is not None and llm_learned and (_llm_alone(llm) >= MOST or _local_wins(llm))
    ):
        return Verdict.FAILS
    llm_spread = llm is None or (llm_learned and _llm_spread(llm) <= SPREAD
                                 and _arms_cost_more(llm))
    if all(_spread(r) <= SPREAD and _cheaper(r) for r in m.runs) and llm_spread:
        return Verdict.HOLDS
    return Verdict.PARTLY


SMALL_UPDATES_RULE = (
    "On every seed: the all-layer run reaches the training loss; no layer's share of "
    f"|dtheta|^2 exceeds {SPREAD:g} x its share of the parameters; every one-layer arm, at "
    "its best swept rate, ends with a larger update and needs at least as many steps (or "
    "never gets there); and no layer's share of the update alone recovers "
    f"{MOST:.0%} of the learned facts. Fails if a layer's share alone recovers that much, "
    "or a one-layer arm reaches the loss with a smaller update; inconclusive if the "
    "all-layer run does not learn; else partly. Where the embedded model's fine-tune is "
    "read (`--full`), its decoder layers obey the same spread and alone conditions, and its "
    "one-layer arms (three layers spanning the depth and the layer whose share alone recovers "
    "the most, each at its best of two rates, twice the epochs) the same cost condition."
)


def describe_small_updates(m: SmallUpdatesMeasured, v: Verdict) -> str:
    r0 = m.runs[0]
    s = r0.spec
    parts = [
        f"A tanh MLP ({s.inputs} inputs, {s.depth} hidden layers of {s.width}, "
        f"{sum(r0.params):,} parameters) memorises {s.facts} random facts ({s.classes} "
        f"classes) with AdamW at {s.lr:g}, to a training loss of {s.target_loss:g}."
    ]
    for i, r in enumerate(m.runs):
        reached = [a for a in r.arms if a.steps is not None]
        arm_norms = ", ".join(f"{a.layer} {a.norm:.0f}" for a in r.arms)
        before, after = (Rate(k, s.facts) for k in r.accuracy)
        parts.append(
            f"Seed {i + 1}: every layer trained gets there in {r.steps} steps with |dtheta| "
            f"{r.norm:.1f}, recall {before} -> {after}; its update moves "
            f"{r.participation:,.0f} parameters effectively (participation ratio) of "
            f"{sum(r.params):,}, and no layer holds more than {_spread(r):.2f} x its "
            f"parameter share of |dtheta|^2. Alone, {len(reached)} of {len(r.arms)} layers "
            f"reach the loss within {s.arm_steps} steps at their best of "
            f"{len(s.arm_rates)} rates; their updates' norms: {arm_norms}. Removing one "
            f"layer's share of the update loses {r.share_lost().min():.0%}-"
            f"{r.share_lost().max():.0%} of the learned facts; one layer's share alone "
            f"recovers at most {r.share_recovered().max():.0%}."
        )
    if m.llm is not None:
        parts.append(_llm_line(m.llm))
    return " ".join(parts)


def _llm_line(r: LandingResult) -> str:
    kinds = ", ".join(f"{k} {q:.0%} of |dtheta|^2 ({p:.0%} of the weights)"
                      for k, (p, q) in r.shares(r.kinds).items())
    before, after = r.recalled
    lost = r.share_lost()
    return (
        f"The embedded SmolLM2-135M, fully fine-tuned on the reversal curse's facts: forward "
        f"recall {before} -> {after} facts; {kinds}; the update moves "
        f"{r.participation:,.0f} of {r.total:,} weights effectively (AdamW moves nearly "
        f"every weight by about its rate); no group holds more than {_llm_spread(r):.2f} x "
        f"its share of the weights. Removing one decoder layer's share loses at most "
        f"{max(lost, default=0.0):.0%} of the learned facts; one layer's share alone recovers at "
        f"most {_llm_alone(r):.0%}." + _llm_arms_line(r)
    )


def _llm_arms_line(r: LandingResult) -> str:
    if not r.arms:
        return " One-layer arms were not run on the LLM."
    arms = "; ".join(
        f"{a.layer} at {a.lr:g}: "
        + (f"{a.steps} steps" if a.steps is not None else f"not there (loss {a.losses[-1]:.3f})")
        + f", |dtheta| {a.norm:.1f}, {a.recalled} facts recalled" for a in r.arms)
    return (
        f" Every layer trained reaches a training loss of {r.loss:.3f} in {r.steps} steps with "
        f"|dtheta| {r.norm:.1f}. One layer alone, at its best of the swept rates, for up to "
        f"{len(r.arms[0].losses)} epochs: {arms}."
    )


def show_small_updates(m: SmallUpdatesMeasured) -> Shown:
    r0 = m.runs[0]
    x = list(range(1, len(r0.layers) + 1))
    label = "layer (1 = first, last = output)"

    def mean_points(values: list[np.ndarray]) -> list[Point]:
        a = np.asarray(values)
        return [Point(float(i), float(a[:, j].mean()), float(a[:, j].min()),
                      float(a[:, j].max()), len(a)) for j, i in enumerate(x)]

    trends = (
        Trend.of("share of |dtheta|^2", label, "share", mean_points(
            [r.update_share for r in m.runs]), interval="range over seeds",
            meta={"compared": True}),
        Trend.of("share of the parameters", label, "share", mean_points(
            [r.param_share for r in m.runs]), interval="range over seeds",
            meta={"compared": True}),
        Trend.of("learned facts lost, that layer's update removed", label,
                 "share of the learned facts", mean_points([r.share_lost() for r in m.runs]),
                 interval="range over seeds", meta={"compared": True}),
        Trend.of("learned facts recovered, that layer's update alone", label,
                 "share of the learned facts",
                 mean_points([r.share_recovered() for r in m.runs]),
                 interval="range over seeds", meta={"compared": True}),
    )
    measured = (
        f"all layers: |dtheta| {np.mean([r.norm for r in m.runs]):.1f}, "
        f"{np.mean([r.steps or 0 for r in m.runs]):.0f} steps; one layer alone: reached in "
        f"{sum(a.steps is not None for r in m.runs for a in r.arms)}/"
        f"{sum(len(r.arms) for r in m.runs)} arms, smallest |dtheta| "
        f"{min(a.norm for r in m.runs for a in r.arms):.1f}; one layer's share recovers at "
        f"most {max(r.share_recovered().max() for r in m.runs):.0%}"
    )
    config = {
        "network": r0.spec.model_dump(exclude={"seed"}),
        "runs": [
            {"seed": r.spec.seed, "steps": r.steps, "norm": round(r.norm, 4),
             "participation": round(r.participation, 1), "accuracy": list(r.accuracy),
             "update_share": [round(v, 4) for v in r.update_share],
             "param_share": [round(v, 4) for v in r.param_share],
             "share_lost": [round(v, 4) for v in r.share_lost()],
             "share_recovered": [round(v, 4) for v in r.share_recovered()],
             "arms": [{"layer": a.layer, "lr": a.lr, "steps": a.steps,
                       "loss": round(a.loss, 4), "norm": round(a.norm, 4)} for a in r.arms]}
            for r in m.runs
        ],
        "anchors": "Li et al. 2018 (intrinsic dimension); Aghajanyan et al. 2020; Meng et "
                   "al. 2022 (ROME) against Hase et al. 2023; Biderman et al. 2024",
    }
    if m.llm is not None:
        config["llm"] = {
            "recalled": list(m.llm.recalled), "participation": round(m.llm.participation, 1),
            "weights": m.llm.total,
            "kinds": {k: [round(p, 4), round(q, 4)] for k, (p, q) in
                      m.llm.shares(m.llm.kinds).items()},
            "layers": {k: [round(p, 4), round(q, 4)] for k, (p, q) in
                       m.llm.shares(m.llm.groups).items()},
            "removed": m.llm.removed, "alone": m.llm.alone,
            "loss": m.llm.loss, "steps": m.llm.steps, "norm": round(m.llm.norm, 4),
            "arms": [{"layer": a.layer, "lr": a.lr, "steps": a.steps, "norm": round(a.norm, 4),
                      "recalled": a.recalled, "losses": [round(v, 4) for v in a.losses]}
                     for a in m.llm.tried or m.llm.arms],
        }
    return Shown(measured, trends, config)


SMALL_UPDATES = Experiment(SMALL_UPDATES_SIZES, measure_small_updates, judge_small_updates,
                           describe_small_updates, show_small_updates, rule=SMALL_UPDATES_RULE)
