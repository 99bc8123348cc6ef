"""The three claims of the take on whether reward is a fine enough tool."""

from __future__ import annotations

import numpy as np
import torch

from quicktakes.ledger import Claim, Evidence, Point, RunContext, Trend, Verdict, register
from quicktakes.reward import design
from quicktakes.reward.mdp import MDPBatch, from_gymnasium, random_mdps
from quicktakes.reward.qlearning import QLearningConfig, q_learning, value_iteration
from quicktakes.reward.steering import SteeringConfig, steer

TAKE = "Is reward a fine enough tool? (Q-learning and a neural network)"
GAMMA = 0.9
GYM = ("FrozenLake-v1", "FrozenLake8x8-v1", "Taxi-v3", "CliffWalking-v0")


def _batches(ctx: RunContext, fast_random: int, full_random: int) -> list[tuple[str, MDPBatch]]:
    """Random MDPs (continuing and episodic) and the gymnasium toy-text environments."""
    rng = ctx.rng("mdps")
    n = fast_random if ctx.fast else full_random
    out = [
        ("random, continuing", random_mdps(n, 10, 4, rng)),
        ("random, episodic", random_mdps(n, 10, 4, rng, p_terminate=0.1)),
    ]
    copies = {"FrozenLake-v1": 64, "FrozenLake8x8-v1": 16, "Taxi-v3": 8, "CliffWalking-v0": 32}
    for name in GYM:
        out.append((name, from_gymnasium(name).repeat(copies[name])))
    return out


def _updates_per_pair(ctx: RunContext, mdp: MDPBatch) -> int:
    pairs = int(mdp.active[0].sum()) * mdp.shape[2]
    budget = 600 if ctx.fast else 3_000
    if pairs > 1_000:  # Taxi: 3,000 pairs, few copies; fewer updates keep the fast run short
        budget //= 3
    return budget


def _checkpoints(total: int, points: int = 12) -> list[int]:
    return sorted({int(c) for c in np.geomspace(max(1, total // 300), total, points)})


def _targets(mdp: MDPBatch, rng: np.random.Generator) -> np.ndarray:
    """Random target policies; in gymnasium batches the first is the environment's worst."""
    B, S, A = mdp.shape
    policy = rng.integers(A, size=(B, S))
    if mdp.name != "random":
        worst = value_iteration(mdp, -mdp.R[:1], GAMMA).argmax(axis=2)
        policy[0] = worst[0]
    return policy


def _policy_trend(
    label: str, mdp: MDPBatch, R: np.ndarray, policy: np.ndarray, ctx: RunContext, tag: str
) -> tuple[Trend, float]:
    B, S, A = mdp.shape
    per_pair = _updates_per_pair(ctx, mdp)
    pairs = int(mdp.active[0].sum()) * A
    steps = per_pair * pairs
    pts: list[Point] = []

    def record(step: int, Q: np.ndarray) -> None:
        worst = float(design.matches(Q, policy, mdp.active).min())
        pts.append(Point(step / pairs, worst, worst, worst, B))

    q_learning(
        mdp,
        R,
        steps,
        QLearningConfig(gamma=GAMMA),
        ctx.rng("q", tag, label),
        _checkpoints(steps),
        record,
    )
    trend = Trend.of(
        f"{label}, worst of {B} ({tag})",
        "updates per (s, a) pair",
        f"{tag} reward: fraction of states greedy = pi*",
        pts,
        interval="worst case over batch",
        log_x=True,
    )
    return trend, pts[-1].y


def run_policy(ctx: RunContext) -> Evidence:
    trends: list[Trend] = []
    seed_final: dict[str, float] = {}
    fix_final: dict[str, float] = {}
    vi_seed_ok: dict[str, bool] = {}
    target_quality = []
    rng = ctx.rng("targets")
    for label, mdp in _batches(ctx, fast_random=1000, full_random=4000):
        B, S, A = mdp.shape
        policy = _targets(mdp, rng)
        R_seed = design.reward_for_policy(policy, A)
        vi = value_iteration(mdp, R_seed, GAMMA)
        vi_seed_ok[label] = bool((design.matches(vi, policy, mdp.active) == 1.0).all())
        t, seed_final[label] = _policy_trend(label, mdp, R_seed, policy, ctx, "r=1{a=pi*}")
        trends.append(t)
        if label != "random, continuing":
            R_fix = design.reward_for_values(mdp, design.values_for_policy(policy, A), GAMMA)
            t, fix_final[label] = _policy_trend(label, mdp, R_fix, policy, ctx, "inverse Bellman")
            trends.append(t)
        if mdp.name != "random":
            target_quality.append(_env_return_ratio(mdp, policy))
    continuing_ok = seed_final["random, continuing"] == 1.0
    seed_all = all(v == 1.0 for v in seed_final.values())
    fix_all = all(v == 1.0 for v in fix_final.values())
    failing = [k for k, ok in vi_seed_ok.items() if not ok]
    if seed_all:
        verdict = Verdict.HOLDS
    elif continuing_ok and fix_all:
        verdict = Verdict.PARTLY
    else:
        verdict = Verdict.FAILS
    worst_ratio = min(q for q in target_quality)
    finding = (
        f"r=1{{a=pi*}} makes Q-learning's greedy policy pi* in every state of "
        f"{sum(v == 1.0 for v in seed_final.values())}/{len(seed_final)} batches; exact value "
        f"iteration says it cannot where actions end episodes ({', '.join(failing) or 'none'}): "
        f"a wrong action that avoids termination earns more later. The inverse-Bellman reward "
        f"reaches pi* in {sum(v == 1.0 for v in fix_final.values())}/{len(fix_final)}. Targets "
        f"include policies as bad as {max(worst_ratio, 0.0):.0%} of the way from the worst to "
        f"the best return under the environment's own reward."
    )
    measured = (
        f"seed's reward: {sum(v == 1.0 for v in seed_final.values())}/{len(seed_final)} batches "
        f"all-states; inverse Bellman: {sum(v == 1.0 for v in fix_final.values())}/"
        f"{len(fix_final)}"
    )
    config = {
        "gamma": GAMMA,
        "exploration": "uniform over (s, a)",
        "lr": "(1+n)^-0.7",
        "batches": list(seed_final),
        "final_worst_fraction_seed_reward": seed_final,
        "final_worst_fraction_inverse_bellman": fix_final,
        "value_iteration_seed_reward_exact": vi_seed_ok,
    }
    return Evidence(verdict, finding, measured, tuple(trends), config)


def _env_return_ratio(mdp: MDPBatch, policy: np.ndarray) -> float:
    """Worst target's expected discounted return under the env's own reward, as a fraction of
    the range from the worst to the best policy (0 = the environment's worst policy)."""
    S = mdp.shape[1]
    rows = np.arange(S)[None, :]
    P_pi = mdp.P[0][rows, policy]  # (B, S, S)
    r_pi = mdp.R[0][rows, policy]  # (B, S)
    V = np.linalg.solve(np.eye(S)[None] - GAMMA * P_pi, r_pi[..., None])[..., 0]
    start = mdp.start[0]
    best = float(value_iteration(mdp, mdp.R[:1], GAMMA).max(axis=2)[0] @ start)
    worst = float(-value_iteration(mdp, -mdp.R[:1], GAMMA).max(axis=2)[0] @ start)
    ours = V @ start
    return float((ours.min() - worst) / (best - worst)) if best > worst else 0.0


FALLING_SLOPE = -0.2
"""'Converges' on a finite budget: the worst-case error's log-log slope over the last half of
the checkpoints is below this (a plateau has slope ~0)."""


def _late_slope(points: list[Point]) -> float:
    half = points[len(points) // 2 :]
    x = np.log([p.x for p in half])
    y = np.log([max(p.y, 1e-300) for p in half])
    return float(np.polyfit(x, y, 1)[0])


def _values_trends(
    label: str, mdp: MDPBatch, Q_star: np.ndarray, ctx: RunContext
) -> tuple[Trend, Trend, float]:
    """Median and worst relative error of Q-learning on the inverse-Bellman reward; VI error."""
    B, S, A = mdp.shape
    R = design.reward_for_values(mdp, Q_star, GAMMA)
    vi_error = float(
        design.relative_error(value_iteration(mdp, R, GAMMA), Q_star, mdp.active).max()
    )
    pairs = int(mdp.active[0].sum()) * A
    steps = (1_000 if ctx.fast else 10_000) * pairs
    med: list[Point] = []
    worst: list[Point] = []

    def record(step: int, Q: np.ndarray) -> None:
        err = design.relative_error(Q, Q_star, mdp.active)
        lo, m, hi = (float(v) for v in np.quantile(err, [0.05, 0.5, 0.95]))
        med.append(Point(step / pairs, m, lo, hi, B))
        w = float(err.max())
        worst.append(Point(step / pairs, w, w, w, B))

    cfg = QLearningConfig(gamma=GAMMA)
    q_learning(mdp, R, steps, cfg, ctx.rng("q", label), _checkpoints(steps), record)
    y, x = "max|Q - Q*| / max|Q*|", "updates per (s, a) pair"
    return (
        Trend.of(f"{label}: median", x, y, med, interval="5-95% of batch", log_x=True, log_y=True),
        Trend.of(
            f"{label}: worst", x, y, worst, interval="worst case over batch", log_x=True, log_y=True
        ),
        vi_error,
    )


def run_values(ctx: RunContext) -> Evidence:
    trends: list[Trend] = []
    vi_err: dict[str, float] = {}
    slope: dict[str, float] = {}
    final: dict[str, float] = {}
    rng = ctx.rng("targets")
    for label, mdp in _batches(ctx, fast_random=200, full_random=1000):
        if label in ("Taxi-v3", "FrozenLake8x8-v1"):
            continue  # covered by reward.policy; keeps the fast budget
        Q_star = rng.uniform(-1, 1, size=mdp.shape)
        med, worst, vi_err[label] = _values_trends(label, mdp, Q_star, ctx)
        trends += [med, worst]
        slope[label] = _late_slope(list(worst.points))
        final[label] = worst.last().y
    vi_exact = max(vi_err.values()) < 1e-9
    still_falling = all(s < FALLING_SLOPE for s in slope.values())
    if vi_exact and still_falling:
        verdict = Verdict.HOLDS
    elif vi_exact:
        verdict = Verdict.PARTLY
    else:
        verdict = Verdict.FAILS
    finding = (
        f"Value iteration on the inverse-Bellman reward returns Q* to {max(vi_err.values()):.1e}; "
        f"sampled Q-learning's worst relative error is {max(final.values()):.3f} at the end of "
        f"the budget and still falling as updates^{max(slope.values()):.2f} or faster "
        f"(log-log slope over the last half)."
    )
    measured = f"VI error {max(vi_err.values()):.0e}; Q-learning worst {max(final.values()):.3f}"
    config = {"gamma": GAMMA, "Q*": "uniform(-1, 1)", "vi_error": vi_err, "final_worst": final}
    return Evidence(verdict, finding, measured, tuple(trends), config)


STEERING_SIZES: tuple[tuple[int, ...], ...] = ((), (4,), (8, 8))


def run_steering(ctx: RunContext) -> Evidence:
    torch.manual_seed(ctx.subseed("torch"))
    rounds = 25 if ctx.fast else 200
    trends, reached, notes = [], {}, []
    for positive in (False, True):
        for hidden in STEERING_SIZES:
            cfg = SteeringConfig(hidden=hidden, inputs=2, rounds=rounds, positive_rates=positive)
            gen = torch.Generator().manual_seed(ctx.subseed("steer", str(hidden), str(positive)))
            res = steer(cfg, gen)
            kind = "positive rates" if positive else "signed rates"
            name = f"{kind}, hidden={list(hidden)} (P={res.parameters})"
            pts = [Point.exact(i, max(d, 1e-16)) for i, d in enumerate(res.distance)]
            trends.append(
                Trend.of(
                    name,
                    "round",
                    "||theta - theta*|| / ||theta_0 - theta*||",
                    pts,
                    interval="exact (one run)",
                    log_y=True,
                    meta={
                        "pairs_per_round": res.pairs_per_round,
                        "max_condition": max(res.condition, default=0.0),
                        "rejected_rounds": res.rejected,
                        "stalled": res.stalled,
                    },
                )
            )
            reached[name] = res.reached
            if res.condition:
                notes.append(
                    f"P={res.parameters}: cond {max(res.condition):.0e}, "
                    f"median eps {float(np.median(res.eps)):.0e}"
                )
    n_ok = sum(reached.values())
    if n_ok == len(reached):
        verdict = Verdict.HOLDS
    elif n_ok > 0:
        verdict = Verdict.PARTLY
    else:
        verdict = Verdict.FAILS
    missed = [k for k, ok in reached.items() if not ok]
    finding = (
        f"{n_ok}/{len(reached)} runs reach 1e-3 within {rounds} rounds. "
        + (f"Not reached: {'; '.join(missed)}. " if missed else "")
        + "Each round is first order: with nonlinear layers the gradient matrix is so "
        "ill-conditioned that the rates cancel massively, and eps must shrink until a round "
        f"gets closer at all ({'; '.join(sorted(set(notes)))})."
    )
    measured = f"{n_ok}/{len(reached)} sizes reach 1e-3 in {rounds} rounds"
    config = {
        "sizes": [list(h) for h in STEERING_SIZES],
        "inputs": 2,
        "rounds": rounds,
        "tol": 1e-3,
        "N": "2P",
        "activation": "tanh",
        "dtype": "float64",
    }
    return Evidence(verdict, finding, measured, tuple(trends), config)


POLICY = register(
    Claim(
        id="reward.policy",
        take=TAKE,
        quote=(
            "Simply reward the behavior you want to see: let r(s,a)=1 if a=π*(s) and 0 otherwise."
        ),
        holds_if=(
            "Q-learning on r = 1{a = pi*(s)} ends with greedy action pi*(s) in every state of "
            "1,000+ random MDPs and the gymnasium toy-text environments"
        ),
        run=run_policy,
    )
)

VALUES = register(
    Claim(
        id="reward.values",
        take=TAKE,
        quote=(
            "one can more strongly choose, for any target value function Q*, a reward function "
            "such that the values in Q-learning converge in the limit to Q*"
        ),
        holds_if=(
            "value iteration on the inverse-Bellman reward returns Q* exactly, and sampled "
            "Q-learning's worst relative error is still falling (log-log slope < -0.2) at the "
            "end of the budget"
        ),
        run=run_values,
    )
)

STEERING = register(
    Claim(
        id="reward.steering",
        take=TAKE,
        quote=(
            "Choose N random input-output pairs. The gradients of the weight vectors are almost "
            "certainly linearly independent. Hence, some linear combination of them equals "
            "[θ* − θ]. [...] running back-propagation on the pair with learning rate λ_i ε [...] "
            "gives you an update approximately in the direction of [θ* − θ]. Rinse and repeat."
        ),
        holds_if="||theta - theta*|| falls below 1e-3 of its start for every network size",
        run=run_steering,
    )
)
