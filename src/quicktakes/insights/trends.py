"""The take's rule for reading results, "trends are meaningful, individual data points are
not", as a measurement on the project's own experiments.

Each study repeats one experiment under draws of factors that should not matter (which
rivals a fact is ranked among, the wording of the test prompt, the training seed; the random
MDPs and the Q-learning seed) and keeps, per draw, its *levels* (single readings: "forward
accuracy is 0.92") and its *contrasts* (a difference read inside one draw: "forward beats
reverse by 0.6", "the share learned rises by 0.3 with more updates"). The rule predicts that
levels move more than contrasts, relative to their size, and that contrasts keep their sign.
A third number reads single points the way the rule warns against: level A of one draw
against level B of another, and how often that comparison points the wrong way.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from quicktakes.insights.facts import FORWARD_TESTS, REVERSE_TESTS
from quicktakes.insights.reversal import (
    ReversalSpec,
    candidate_pools,
    run_reversal,
    score_direction,
)
from quicktakes.reward import design
from quicktakes.reward.mdp import random_mdps
from quicktakes.reward.qlearning import QLearningConfig, q_learning

Kind = Literal["level", "contrast"]
Progress = Callable[[int, int], None]


def _sd(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def relative_spread(values: np.ndarray) -> float:
    """The standard deviation over draws over |mean| (inf at a mean of 0)."""
    mean = abs(float(values.mean()))
    return _sd(values) / mean if mean else float("inf")


@dataclass(frozen=True)
class Reading:
    """One quantity read once per nuisance draw."""

    name: str
    kind: Kind
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def sd(self) -> float:
        return _sd(np.asarray(self.values))

    @property
    def relative(self) -> float:
        """Spread relative to size: the standard deviation over draws over |mean|."""
        return relative_spread(np.asarray(self.values))

    @property
    def sign_kept(self) -> float:
        """Share of draws whose sign is the mean's (0 when the mean is 0: no sign to keep)."""
        if not self.mean:
            return 0.0
        return float(np.mean(np.sign(self.values) == np.sign(self.mean)))


@dataclass(frozen=True)
class Study:
    """One experiment's readings over the same nuisance draws."""

    name: str
    nuisance: str
    unit: str
    readings: tuple[Reading, ...]
    crossed: tuple[str, str]
    """The two levels whose contrast is the study's: compared across draws by `cross_flips`."""

    @property
    def draws(self) -> int:
        return len(self.readings[0].values)

    def of(self, kind: Kind) -> list[Reading]:
        return [r for r in self.readings if r.kind == kind]

    def reading(self, name: str) -> Reading:
        return next(r for r in self.readings if r.name == name)

    def cross_flips(self) -> float:
        """Share of pairs of different draws (i, j) where level A read in draw i and level B
        read in draw j order the wrong way round (against the order of their means; a tie
        counts half): two single points from two runs, as a reader compares them."""
        a, b = (np.asarray(self.reading(n).values) for n in self.crossed)
        sign = np.sign(a.mean() - b.mean())
        pairs = list(itertools.permutations(range(len(a)), 2))
        if not pairs or not sign:
            return float("nan")
        return float(np.mean([
            0.5 if a[i] == b[j] else float(np.sign(a[i] - b[j]) != sign) for i, j in pairs
        ]))

    def to_dict(self) -> dict[str, object]:
        return {
            "nuisance": self.nuisance,
            "unit": self.unit,
            "draws": self.draws,
            "cross_draw_flips": round(self.cross_flips(), 4),
            "readings": {
                r.name: {"kind": r.kind, "mean": round(r.mean, 4), "sd": round(r.sd, 4),
                         "relative": round(r.relative, 4), "sign_kept": r.sign_kept,
                         "values": [round(v, 4) for v in r.values]}
                for r in self.readings
            },
        }


# --- the reversal curse, read under other pools, prompts and training seeds ----------------


class ReversalDraws(BaseModel):
    """The reversal-curse experiment, trained `trainings` times, each read under `pools`
    draws of each fact's rivals and of the test prompt's wording."""

    facts: int = Field(24, ge=4)
    epochs: int = Field(4, ge=1)
    lr: float = Field(2e-4, gt=0)
    paraphrases: int = Field(3, ge=1)
    candidates: int = Field(4, ge=2)
    trainings: int = Field(1, ge=1)
    pools: int = Field(8, ge=2)
    seed: int = 0
    precision: str | None = None


def top1_share(table: np.ndarray, pool: np.ndarray) -> float:
    """Share of facts whose right completion no rival in its pool beats (ties count first,
    as the reversal claim's rule does)."""
    right = np.diag(table)
    rivals = pool & ~np.eye(len(table), dtype=bool)
    return float((((table > right[:, None]) & rivals).sum(axis=1) == 0).mean())


def reversal_study(spec: ReversalDraws, on_progress: Progress | None = None) -> Study:
    from quicktakes.llm.hf import HFBackend

    tick = on_progress or (lambda d, t: None)
    templates = min(len(FORWARD_TESTS), len(REVERSE_TESTS))
    total = spec.trainings * 3
    backend = HFBackend(finetune="full", seed=spec.seed, precision=spec.precision)
    fwd: list[float] = []
    rev: list[float] = []
    done = 0
    for t in range(spec.trainings):
        seed = spec.seed + 1000 * t
        rs = ReversalSpec(facts=spec.facts, epochs=spec.epochs, eval_every=spec.epochs,
                          finetune="full", lr=spec.lr, paraphrases=spec.paraphrases,
                          test_templates=1, candidates=spec.candidates, seed=seed)
        r = run_reversal(rs, backend)
        done += 1
        tick(done, total)
        # every fact against every fact's completion, under each wording: any pool is read
        # from these tables without scoring again
        tables = {}
        for direction in ("forward", "reverse"):
            score = score_direction(backend, r.facts, direction, templates=templates)
            assert score.table is not None
            tables[direction] = score.table
            done += 1
            tick(done, total)
        for d in range(spec.pools):
            pool = candidate_pools(spec.facts, spec.candidates,
                                   np.random.default_rng([seed, 7, d]))
            k = d % templates
            fwd.append(top1_share(tables["forward"][k], pool))
            rev.append(top1_share(tables["reverse"][k], pool))
    f, r_ = np.array(fwd), np.array(rev)
    return Study(
        "reversal curse",
        f"{spec.trainings} training seed(s) x {spec.pools} draws of each fact's "
        f"{spec.candidates - 1} rivals, alternating {templates} test wordings",
        f"top-1 among {spec.candidates} candidates",
        (
            Reading("forward accuracy", "level", tuple(f)),
            Reading("reverse accuracy", "level", tuple(r_)),
            Reading("forward minus reverse", "contrast", tuple(f - r_)),
        ),
        ("forward accuracy", "reverse accuracy"),
    )


# --- Q-learning on random MDPs, read at two budgets ----------------------------------------


class QLearningDraws(BaseModel):
    """Q-learning on `mdps` random MDPs per draw toward the seed's reward 1{a = pi*(s)}, read
    after `early` and after `updates` updates per pair: budgets where the share learned is
    still moving (on 200 such MDPs it is 0.34 after 5 updates per pair, 0.87 after 12, 0.99
    after 20)."""

    draws: int = Field(8, ge=2)
    mdps: int = Field(40, ge=1)
    states: int = Field(10, ge=2)
    actions: int = Field(4, ge=2)
    early: int = Field(4, ge=1)
    updates: int = Field(10, ge=2)
    """Q-learning updates per (state, action) pair."""
    gamma: float = 0.9
    seed: int = 0


def qlearning_study(spec: QLearningDraws, on_progress: Progress | None = None) -> Study:
    tick = on_progress or (lambda d, t: None)
    if spec.early >= spec.updates:
        raise ValueError(f"early ({spec.early}) must be below updates ({spec.updates})")
    early_at = spec.early
    early: list[float] = []
    late: list[float] = []
    construction = design.CONSTRUCTIONS["seed"]
    for d in range(spec.draws):
        rng = np.random.default_rng([spec.seed, d])
        mdp = random_mdps(spec.mdps, spec.states, spec.actions, rng)
        policy = rng.integers(spec.actions, size=(spec.mdps, spec.states))
        R = construction.build(mdp, policy, spec.gamma)
        pairs = spec.states * spec.actions
        shares: dict[int, float] = {}

        def record(step: int, Q: np.ndarray, shares: dict[int, float] = shares,
                   policy: np.ndarray = policy, active: np.ndarray = mdp.active) -> None:
            shares[step] = float((design.matches(Q, policy, active) == 1.0).mean())

        steps = spec.updates * pairs
        q_learning(mdp, R, steps, QLearningConfig(gamma=spec.gamma), rng,
                   [early_at * pairs, steps], record)
        early.append(shares[early_at * pairs])
        late.append(shares[steps])
        tick(d + 1, spec.draws)
    e, la = np.array(early), np.array(late)
    return Study(
        "Q-learning",
        f"{spec.draws} draws of {spec.mdps} random MDPs, their targets and the learner's seed",
        "share of MDPs whose greedy policy is pi* in every state",
        (
            Reading(f"learned after {early_at} updates per pair", "level", tuple(e)),
            Reading(f"learned after {spec.updates} updates per pair", "level", tuple(la)),
            Reading(f"gain from {early_at} to {spec.updates} updates", "contrast",
                    tuple(la - e)),
        ),
        (f"learned after {spec.updates} updates per pair",
         f"learned after {early_at} updates per pair"),
    )


def spread_ratio(
    study: Study, rng: np.random.Generator, resamples: int = 2000
) -> tuple[float, float, float]:
    """The contrast's spread relative to its size over the levels' (their median), with a 95%
    percentile interval from resampling the draws: below 1, the contrast is the steadier
    reading. (The first contrast; each study here has one.)"""
    contrast = np.asarray(study.of("contrast")[0].values)
    levels = [np.asarray(r.values) for r in study.of("level")]

    def ratio(idx: np.ndarray) -> float:
        den = float(np.median([relative_spread(v[idx]) for v in levels]))
        num = relative_spread(contrast[idx])
        return num / den if den else float("inf")

    n = len(contrast)
    point = ratio(np.arange(n))
    boots = np.array([ratio(rng.integers(n, size=n)) for _ in range(resamples)])
    boots = boots[np.isfinite(boots)]
    if not len(boots):
        return point, float("inf"), float("inf")
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return point, float(lo), float(hi)
