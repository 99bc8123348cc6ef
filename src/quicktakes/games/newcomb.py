"""Iterated Newcomb's problem against a predictor that only knows your past choices.

Each round the opaque box holds `big` if the predictor predicted one-boxing; the clear box
always holds `small`. The predictor has no information in round 1 (a fair coin) and from then
on predicts from the history, right with probability `accuracy`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from quicktakes.errors import UnknownNameError

Plan = np.ndarray  # bool per round: True = one-box


class NewcombSpec(BaseModel):
    rounds: int = Field(10, ge=1, le=1000, description="rounds in the iterated game")
    accuracy: float = Field(0.99, ge=0.0, le=1.0, description="P(the predictor's rule is right)")
    big: float = Field(1_000_000, gt=0, description="opaque box when one-boxing is predicted")
    small: float = Field(1_000, gt=0, description="clear box, always there")
    predictor: Literal["last", "majority"] = Field("last", description="what it predicts from")


def one_shot_threshold(big: float = 1_000_000, small: float = 1_000) -> float:
    """Accuracy above which one-boxing has the higher expected value against a real predictor.

    EV(one-box) = a*big and EV(two-box) = (1 - a)*big + small, equal at a = (big + small)/(2 big).
    """
    return (big + small) / (2 * big)


def p_predict_one(cfg: NewcombSpec, t: int, ones: int, last: int) -> float:
    """P(prediction = one-box) in round t (0-based), given `ones` one-boxes so far and the last."""
    if t == 0:
        return 0.5
    a = cfg.accuracy
    if cfg.predictor == "last":
        return a if last == 1 else 1 - a
    twos = t - ones
    if ones == twos:
        return 0.5
    return a if ones > twos else 1 - a


def _always(one: bool) -> Callable[[NewcombSpec], Plan]:
    return lambda cfg: np.full(cfg.rounds, one)


def contents_fixed(cfg: NewcombSpec) -> Plan:
    """The causal-decision-theory player, by definition: "the boxes are already filled, so take
    both" in every round. It is a definition, not a derivation: the reasoning never asks whether
    today's choice moves tomorrow's prediction."""
    return np.zeros(cfg.rounds, dtype=bool)


def defect_at_end(cfg: NewcombSpec) -> Plan:
    plan = np.ones(cfg.rounds, dtype=bool)
    plan[-1] = False
    return plan


def optimal_plan(cfg: NewcombSpec) -> Plan:
    """Backward induction against the predictor's actual rule: dynamic programming.

    State = (round, one-boxes so far, last choice); the value counts the effect of today's
    choice on the next predictions. The state follows from the choices alone, so the policy
    reduces to a plan, the best of all 2^n plans.
    """
    n = cfg.rounds
    value = np.zeros((n + 1, n + 2, 2))
    best = np.zeros((n, n + 1, 2), dtype=bool)
    for t in reversed(range(n)):
        for ones in range(t + 1):
            for last in (0, 1):
                q1 = p_predict_one(cfg, t, ones, last) * cfg.big
                v_one = q1 + value[t + 1, ones + 1, 1]
                v_two = q1 + cfg.small + value[t + 1, ones, 0]
                best[t, ones, last] = v_one > v_two
                value[t, ones, last] = max(v_one, v_two)
    plan = np.empty(n, dtype=bool)
    ones, last = 0, 0
    for t in range(n):
        plan[t] = best[t, ones, last]
        ones += int(plan[t])
        last = int(plan[t])
    return plan


PLAYERS: dict[str, Callable[[NewcombSpec], Plan]] = {
    "one-boxer": _always(True),
    "contents-fixed": contents_fixed,
    "one-box-then-defect": defect_at_end,
    "backward-induction": optimal_plan,
}
"""`one-boxer` commits to one-boxing; `contents-fixed` two-boxes every round by definition;
`backward-induction` is dynamic programming against the predictor (the best plan of all)."""


def plan_for(player: str, cfg: NewcombSpec) -> Plan:
    try:
        return PLAYERS[player](cfg)
    except KeyError:
        raise UnknownNameError(f"unknown player {player!r}; valid: {', '.join(PLAYERS)}") from None


def _prediction_probs(cfg: NewcombSpec, plan: Plan) -> np.ndarray:
    ones = np.concatenate([[0], np.cumsum(plan)[:-1]]).astype(int)
    last = np.concatenate([[0], plan[:-1]]).astype(int)
    return np.array([p_predict_one(cfg, t, ones[t], last[t]) for t in range(cfg.rounds)])


def expected_total(cfg: NewcombSpec, plan: Plan) -> float:
    """Exact expected total payoff of a fixed plan."""
    q = _prediction_probs(cfg, plan)
    return float(np.sum(q * cfg.big + np.where(plan, 0.0, cfg.small)))


def simulate(cfg: NewcombSpec, plan: Plan, episodes: int, rng: np.random.Generator) -> np.ndarray:
    """Mean payoff per round of each of `episodes` simulated games."""
    q = _prediction_probs(cfg, plan)
    predicted_one = rng.random((episodes, cfg.rounds)) < q
    payoff = predicted_one * cfg.big + np.where(plan, 0.0, cfg.small)
    return np.asarray(payoff.mean(axis=1), dtype=float)


def commit_gain(cfg: NewcombSpec) -> float:
    """Exact expected total of always one-boxing minus always two-boxing."""
    one = expected_total(cfg, _always(True)(cfg))
    return one - expected_total(cfg, contents_fixed(cfg))


def threshold_accuracy(cfg: NewcombSpec) -> float | None:
    """The accuracy above which committing to one-box pays over `cfg.rounds` rounds (None if
    no accuracy does). The gain is affine in the accuracy for both predictor rules."""
    from scipy.optimize import brentq

    def gain(a: float) -> float:
        return commit_gain(cfg.model_copy(update={"accuracy": a}))

    if gain(1.0) <= 0:
        return None
    if gain(0.5) > 0:
        return 0.5
    return float(brentq(gain, 0.5, 1.0, xtol=1e-12))


def rounds_needed(cfg: NewcombSpec, most: int = 1000) -> int | None:
    """The fewest rounds from which committing to one-box pays at `cfg.accuracy` (None if it
    does not pay by `most` rounds). The gain grows with the rounds once it is positive."""
    lo, hi = 1, most
    if commit_gain(cfg.model_copy(update={"rounds": hi})) <= 0:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if commit_gain(cfg.model_copy(update={"rounds": mid})) > 0:
            hi = mid
        else:
            lo = mid + 1
    return lo


def plan_text(plan: Plan) -> str:
    return "".join("1" if b else "2" for b in plan)


@dataclass(frozen=True)
class PlayerOutcome:
    player: str
    plan: str
    expected_per_round: float
    simulated_per_round: float
    lo: float
    hi: float


def play_all(cfg: NewcombSpec, episodes: int, rng: np.random.Generator) -> list[PlayerOutcome]:
    from quicktakes.stats import mean_ci

    out = []
    for name in PLAYERS:
        plan = plan_for(name, cfg)
        m, lo, hi = mean_ci(simulate(cfg, plan, episodes, rng))
        out.append(
            PlayerOutcome(
                name,
                plan_text(plan),
                expected_total(cfg, plan) / cfg.rounds,
                m,
                lo,
                hi,
            )
        )
    return out
