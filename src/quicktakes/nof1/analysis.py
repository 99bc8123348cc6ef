"""The planned analysis of an N-of-1 trial: per-arm summaries, randomization tests, effect
sizes with intervals, a Bayesian posterior, and how many more days 80% power needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from quicktakes.nof1 import design
from quicktakes.nof1 import randomization as rt
from quicktakes.nof1.protocol import Protocol, draw_schedule


@dataclass(frozen=True)
class Day:
    """One planned day: its arm, its current value (if any), and why it is excluded (if so)."""

    index: int
    date: dt.date
    arm: str
    value: float | None = None
    onset: str | None = None
    note: str | None = None
    excluded: str | None = None


@dataclass(frozen=True)
class TrialData:
    protocol: Protocol
    schedule: tuple[int, ...]
    days: tuple[Day, ...]

    def analysed(self) -> list[Day]:
        """Days with a value and no exclusion, in date order."""
        return [d for d in self.days if d.value is not None and d.excluded is None]


def apply_rules(p: Protocol, day: Day) -> str | None:
    """The pre-registered exclusion a day falls under, if any."""
    rules = p.exclusions
    if rules.onset_before and day.onset:
        onset = dt.datetime.fromisoformat(day.onset)
        if onset.time() < dt.time.fromisoformat(rules.onset_before) and onset.hour >= 12:
            return f"pre-registered: sleep onset {onset:%H:%M} before {rules.onset_before}"
    if rules.value_above is not None and day.value is not None and day.value > rules.value_above:
        return f"pre-registered: value {day.value:g} above {rules.value_above:g}"
    return None


@dataclass(frozen=True)
class ArmSummary:
    arm: str
    n: int
    mean: float | None
    median: float | None
    sd: float | None


@dataclass(frozen=True)
class Effect:
    name: str
    estimate: float
    lo: float
    hi: float
    method: str


@dataclass
class Analysis:
    arms: list[ArmSummary]
    contrast: str
    direction: str
    contrast_test: rt.TestResult
    omnibus: rt.TestResult | None
    pairwise: list[dict[str, Any]]
    effects: list[Effect]
    posterior: dict[str, Any]
    power: dict[str, Any] = field(default_factory=dict)
    excluded: list[dict[str, str]] = field(default_factory=list)
    hypothesis: str = ""
    """The protocol's pre-stated hypothesis in words."""
    in_words: str = ""
    """The primary contrast as a sentence, in the hypothesis's direction."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(arm: str, v: np.ndarray) -> ArmSummary:
    if v.size == 0:
        return ArmSummary(arm, 0, None, None, None)
    sd = float(v.std(ddof=1)) if v.size > 1 else None
    return ArmSummary(arm, int(v.size), float(v.mean()), float(np.median(v)), sd)


def hodges_lehmann(a: np.ndarray, b: np.ndarray) -> float:
    """Median of all pairwise differences b_j - a_i: the shift estimate of the rank test."""
    return float(np.median(np.subtract.outer(b, a)))


def bootstrap_effects(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, reps: int = 4_000,
    robust: bool = True,
) -> list[Effect]:
    """Difference in means and medians and the Hodges-Lehmann shift (b minus a), each with a
    95% percentile-bootstrap interval resampling within arms; `robust=False` gives the
    difference in means only (what `status` shows, without the costly shift replicates)."""
    ia = rng.integers(a.size, size=(reps, a.size))
    ib = rng.integers(b.size, size=(reps, b.size))
    ra, rb = a[ia], b[ib]
    estimates = [("difference in means", b.mean() - a.mean(), rb.mean(1) - ra.mean(1))]
    if robust:
        # each Hodges-Lehmann replicate is a median of |a| x |b| differences: cap the work
        hl_reps = int(min(1000, max(100, 2.5e7 // max(1, a.size * b.size))))
        hl = np.array(
            [hodges_lehmann(x, y) for x, y in zip(ra[:hl_reps], rb[:hl_reps], strict=True)]
        )
        estimates += [
            ("difference in medians", np.median(b) - np.median(a),
             np.median(rb, 1) - np.median(ra, 1)),
            ("Hodges-Lehmann shift", hodges_lehmann(a, b), hl),
        ]
    out = []
    for name, est, boot in estimates:
        lo, hi = np.quantile(boot, [0.025, 0.975])
        out.append(
            Effect(
                name,
                float(est),
                float(min(lo, est)),
                float(max(hi, est)),
                "95% percentile bootstrap",
            )
        )
    return out


def hurdle_posterior_mean(v: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
    """Posterior draws of an arm's mean under a hurdle log-normal model.

    Zeros ~ Bernoulli(pi), pi ~ Beta(1, 1). Positive values: log y ~ Normal(mu, sigma^2) with
    a weak Normal-Inverse-Gamma prior (mu0 = log 10, kappa0 = 0.1, alpha0 = 2, beta0 = 1).
    Arm mean = (1 - pi) exp(mu + sigma^2 / 2). Right-skewed with exact zeros, like sleep latency.
    """
    zeros = int((v <= 0).sum())
    pos = np.log(v[v > 0])
    n = pos.size
    pi = rng.beta(1 + zeros, 1 + n, size=draws)
    mu0, k0, a0, b0 = np.log(10.0), 0.1, 2.0, 1.0
    mean = pos.mean() if n else mu0
    ss = float(((pos - mean) ** 2).sum()) if n else 0.0
    kn, an = k0 + n, a0 + n / 2
    mun = (k0 * mu0 + n * mean) / kn
    bn = b0 + 0.5 * ss + k0 * n * (mean - mu0) ** 2 / (2 * kn)
    sigma2 = 1.0 / rng.gamma(an, 1.0 / bn, size=draws)
    mu = rng.normal(mun, np.sqrt(sigma2 / kn))
    return np.asarray((1 - pi) * np.exp(mu + sigma2 / 2))


def normal_posterior_mean(v: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
    """Posterior draws of an arm's mean under a Normal model with the reference prior
    p(mu, sigma^2) ~ 1 / sigma^2 (the weakest; no range or scale assumed): sigma^2 | y is
    Inv-Gamma((n - 1) / 2, SS / 2), mu | sigma^2, y is Normal(mean, sigma^2 / n), so mu | y is
    Student-t with n - 1 degrees of freedom. For a continuous or bounded scale (a rating, a
    mood that can go negative). Needs two values and some spread."""
    n = v.size
    ss = float(((v - v.mean()) ** 2).sum()) if n else 0.0
    if n < 2 or ss <= 0:
        raise NotEnough("a Normal model needs at least two different values per arm")
    sigma2 = 1.0 / rng.gamma((n - 1) / 2, 2.0 / ss, size=draws)
    return np.asarray(rng.normal(v.mean(), np.sqrt(sigma2 / n)))


def poisson_posterior_mean(v: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
    """Posterior draws of an arm's rate under a Poisson model with the Jeffreys prior
    Gamma(1/2, 0): rate | y is Gamma(1/2 + sum y, rate n). For counts (overdispersion is not
    modelled: the interval is then too narrow, and the randomization test still holds)."""
    if v.size == 0:
        raise NotEnough("a Poisson model needs at least one value per arm")
    return np.asarray(rng.gamma(0.5 + v.sum(), 1.0 / v.size, size=draws))


def beta_posterior_mean(v: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
    """Posterior draws of an arm's success probability, Beta(1, 1) prior: Beta(1 + s, 1 + f)
    (the Beta-binomial model of a binary outcome)."""
    s = float((v > 0.5).sum())
    return np.asarray(rng.beta(1 + s, 1 + v.size - s, size=draws))


class NotEnough(ValueError):
    """An arm has too few values for the outcome's model."""


MODELS = {
    "latency": ("hurdle log-normal per arm; see hurdle_posterior_mean", hurdle_posterior_mean),
    "continuous": ("Normal per arm, reference prior", normal_posterior_mean),
    "count": ("Poisson per arm, Jeffreys prior", poisson_posterior_mean),
    "binary": ("Beta-binomial per arm, uniform prior", beta_posterior_mean),
}
"""The Bayesian model for each kind of outcome (`Protocol.kind`): each gives posterior draws
of one arm's mean."""


def posterior(
    a: np.ndarray, b: np.ndarray, smallest: float, rng: np.random.Generator,
    draws: int = 20_000, kind: str = "latency",
) -> dict[str, Any]:
    """The posterior of the contrast's mean difference (b - a: positive = the hypothesised
    arms better) under the outcome kind's model."""
    name, arm_mean = MODELS[kind]
    try:
        diff = arm_mean(b, rng, draws) - arm_mean(a, rng, draws)
    except NotEnough as exc:
        return {"model": name, "p_effect_above_smallest": None, "p_effect_positive": None,
                "median": None, "lo": None, "hi": None, "smallest_effect": smallest,
                "note": str(exc)}
    lo, med, hi = np.quantile(diff, [0.025, 0.5, 0.975])
    return {
        "model": name,
        "p_effect_above_smallest": float((diff > smallest).mean()),
        "p_effect_positive": float((diff > 0).mean()),
        "median": float(med),
        "lo": float(lo),
        "hi": float(hi),
        "smallest_effect": smallest,
    }


def contrast_groups(data: TrialData) -> tuple[np.ndarray, np.ndarray, str, str]:
    """Values of the contrast's two groups, oriented so 'b > a' means group A is better."""
    p = data.protocol
    group_a, group_b = p.contrast
    days = data.analysed()
    a = np.array([d.value for d in days if d.arm in group_a], dtype=float)
    b = np.array([d.value for d in days if d.arm in group_b], dtype=float)
    name = f"{' + '.join(group_a)} vs {' + '.join(group_b)}"
    if p.lower_is_better:
        return a, b, name, f"{'/'.join(group_b)} higher (worse) than {'/'.join(group_a)}"
    return b, a, name, f"{'/'.join(group_a)} higher (better) than {'/'.join(group_b)}"


def accrual(data: TrialData, at: Sequence[int]) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """The contrast's two groups after each number of analysed days in `at` (in the order
    the days are stored), skipping counts where a group is still empty."""
    days = data.analysed()
    out = []
    for k in at:
        sub = TrialData(data.protocol, data.schedule, tuple(days[:k]))
        a, b, _, _ = contrast_groups(sub)
        if a.size and b.size:
            out.append((k, a, b))
    return out


def analyze(
    data: TrialData, rng: np.random.Generator, with_power: bool = True, robust: bool = True
) -> Analysis:
    """The planned analysis; `robust=False` skips the median and Hodges-Lehmann effects.
    Every test redraws assignments as the schedule was drawn (`design`)."""
    p = data.protocol
    days = data.analysed()
    by_arm = {arm: np.array([d.value for d in days if d.arm == arm], dtype=float) for arm in p.arms}
    present = [arm for arm in p.arms if by_arm[arm].size]
    a, b, name, direction = contrast_groups(data)
    if a.size == 0 or b.size == 0:
        raise ValueError("both sides of the contrast need at least one analysed day")
    index = np.array([d.index for d in days])
    values = np.array([d.value for d in days], dtype=float)
    labels = np.array([p.arms.index(d.arm) for d in days])
    simple = design.scheme(p) == "simple"
    if simple:
        contrast_test = rt.contrast(a, b, "b>a")
    else:
        contrast_test = design.test(p, index, labels, contrast_stat(p, values), rng)
    omnibus = None
    if len(present) >= 2:
        if simple:
            omnibus = rt.omnibus([by_arm[x] for x in present])
        else:
            omnibus = design.test(p, index, labels, omnibus_stat(values, len(p.arms)), rng)
    pairs = [(x, y) for i, x in enumerate(present) for y in present[i + 1 :]]
    raw = [pair_test(p, index, labels, values, by_arm, x, y, rng).p_value for x, y in pairs]
    adjusted = rt.holm(raw) if raw else []
    pairwise = [
        {
            "arms": f"{x} vs {y}",
            "diff_in_means": float(by_arm[y].mean() - by_arm[x].mean()),
            "in_words": f"{y}: {shift(by_arm[y].mean() - by_arm[x].mean(), p)} than {x}",
            "p_value": pr,
            "p_holm": ph,
        }
        for (x, y), pr, ph in zip(pairs, raw, adjusted, strict=True)
    ]
    effects = bootstrap_effects(a, b, rng, robust=robust)
    post = posterior(a, b, p.smallest_effect, rng, kind=p.outcome_kind)
    excluded = [
        {"date": d.date.isoformat(), "arm": d.arm, "reason": d.excluded}
        for d in data.days
        if d.excluded
    ]
    result = Analysis(
        [summarize(arm, by_arm[arm]) for arm in p.arms],
        name,
        direction,
        contrast_test,
        omnibus,
        pairwise,
        effects,
        post,
        excluded=excluded,
        hypothesis=p.hypothesis(),
        in_words=effect_in_words(p, effects[0], contrast_test.p_value),
    )
    if with_power and p.smallest_effect > 0:  # power at an effect of 0 means nothing
        result.power = extra_days_for_power(data, rng)
    return result


def contrast_stat(p: Protocol, values: np.ndarray) -> design.Stat:
    """The contrast's statistic on label rows: the hypothesised arms' advantage in the
    outcome's better direction (the one-sided test's 'larger is more extreme')."""
    group_a = [p.arms.index(x) for x in p.contrast[0]]
    sign = 1.0 if p.lower_is_better else -1.0

    def stat(labels: np.ndarray) -> np.ndarray:
        in_a = np.isin(labels, group_a)
        n_a = in_a.sum(1)
        n_b = in_a.shape[1] - n_a
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = (values * ~in_a).sum(1) / n_b - (values * in_a).sum(1) / n_a
        return np.where((n_a == 0) | (n_b == 0), -np.inf, sign * diff)

    return stat


def omnibus_stat(values: np.ndarray, k: int) -> design.Stat:
    """sum_k S_k^2 / n_k over the arms present in a row: the between-arm sum of squares plus
    a constant (a monotone function of the one-way F when the arm sizes are fixed)."""

    def stat(labels: np.ndarray) -> np.ndarray:
        total = np.zeros(labels.shape[0])
        for arm in range(k):
            member = labels == arm
            n = member.sum(1)
            sums = (values * member).sum(1)
            total += np.where(n > 0, sums * sums / np.maximum(n, 1), 0.0)
        return total

    return stat


def pair_test(
    p: Protocol, index: np.ndarray, labels: np.ndarray, values: np.ndarray,
    by_arm: dict[str, np.ndarray], x: str, y: str, rng: np.random.Generator,
) -> rt.TestResult:
    """Two-sided test of arms x and y, redrawn as the schedule was drawn (`design`)."""
    kind = design.scheme(p)
    if kind == "simple":
        return rt.contrast(by_arm[x], by_arm[y], "two-sided")
    ix, iy = p.arms.index(x), p.arms.index(y)
    if kind == "blocks":  # the x and y days only, permuted within their blocks
        keep = np.isin(labels, [ix, iy])
        index, labels, values = index[keep], labels[keep], values[keep]

    def stat(rows: np.ndarray) -> np.ndarray:
        mx, my = rows == ix, rows == iy
        nx, ny = mx.sum(1), my.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = (values * my).sum(1) / ny - (values * mx).sum(1) / nx
        return np.where((nx == 0) | (ny == 0), -np.inf, np.abs(diff))

    return design.test(p, index, labels, stat, rng)


def shift(x: float, p: Protocol) -> str:
    """A difference in words: '15.60 higher (worse)'."""
    if x == 0:
        return "no different"
    better = (x < 0) == p.lower_is_better
    return f"{abs(x):.2f} {'higher' if x > 0 else 'lower'} ({'better' if better else 'worse'})"


def effect_in_words(p: Protocol, effect: Effect, p_value: float) -> str:
    """The primary contrast as a sentence in the hypothesis's terms: the rest of the arms
    against the hypothesised ones, raw units, 95% interval, and whether it went the
    hypothesised way."""
    a, b = (" and ".join(g) for g in p.contrast)
    # `effect` is the hypothesised arms' advantage; raw = mean(rest) - mean(hypothesised)
    sign = 1.0 if p.lower_is_better else -1.0
    raw, lo, hi = (sign * x for x in (effect.estimate, effect.lo, effect.hi))
    lo, hi = min(lo, hi), max(lo, hi)
    way = "as hypothesised" if effect.estimate > 0 else (
        "no difference" if effect.estimate == 0 else "against the hypothesis")
    return (f"{p.outcome}: {b} {shift(raw, p)} than {a} ({effect.name}, 95% CI "
            f"{signed(lo)} to {signed(hi)}); {way} that {a} is better, one-sided "
            f"p = {p_value:.3f}")


def signed(x: float) -> str:
    """+1.25, -0.50, and +0.00 rather than -0.00."""
    text = f"{x:+.2f}"
    return "+0.00" if text == "-0.00" else text


POWER_GRID: tuple[int, ...] = (0, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 270, 365, 545, 730)


SATURATED = 0.995
"""Power at two grid points in a row at or above this ends the power curve early."""


def extra_days_for_power(
    data: TrialData,
    rng: np.random.Generator,
    target: float = 0.8,
    sims: int = 300,
    perms: int = 300,
    grid: Sequence[int] = POWER_GRID,
) -> dict[str, Any]:
    """Power of the primary contrast at the smallest effect of interest, by simulation.

    Each simulated trial keeps the real schedule (the committed one, extended the same way past
    the planned days), draws each day's outcome as the pooled observed residuals resampled
    around group centres `smallest_effect` apart, clips to the allowed range, and runs the
    contrast's randomization test (Monte Carlo, `perms` relabelings).
    """
    p = data.protocol
    a, b, _, _ = contrast_groups(data)
    resid = np.concatenate([a - a.mean(), b - b.mean()]) if a.size and b.size else np.zeros(1)
    base = float(np.concatenate([a, b]).mean())
    effect = p.smallest_effect
    observed_days = len(data.analysed())
    last_day = max((d.index for d in data.analysed()), default=-1)
    group_a = {p.arms.index(x) for x in p.contrast[0]}
    curve = []
    needed = None
    for extra in grid:
        future = draw_schedule(p, days=last_day + 1 + extra)[last_day + 1 :]
        arms = [p.arms.index(d.arm) for d in data.analysed()] + future
        in_a = np.isin(np.array(arms), list(group_a))
        # Orient so that the alternative is "b above a" in the contrast's terms.
        in_low = in_a if p.lower_is_better else ~in_a
        n = in_a.size
        if in_low.all() or not in_low.any():
            curve.append({"extra_days": extra, "power": 0.0})
            continue
        centre = np.where(in_low, base - effect / 2, base + effect / 2)
        sim = np.clip(centre + rng.choice(resid, size=(sims, n)), p.minimum, p.maximum)
        power = _simulated_power(sim, in_low, perms, p.alpha, rng)
        curve.append({"extra_days": extra, "power": power})
        if needed is None and power >= target:
            needed = extra
        if len(curve) >= 2 and min(c["power"] for c in curve[-2:]) >= SATURATED:
            break  # more days only add power: the rest of the grid would read 1.0
    xs = [c["extra_days"] for c in curve]
    ps = np.array([c["power"] for c in curve])
    se = np.sqrt(ps * (1 - ps) / sims)
    for c, e in zip(curve, se, strict=True):
        c["se"] = float(e)
    return {
        "target": target,
        "smallest_effect": effect,
        "analysed_days": observed_days,
        "extra_days_needed": needed,
        "extra_days_interpolated": crossing(xs, ps, target),
        # the band's upper edge crosses first: the fewest days the simulation allows, and so on
        "extra_days_interval": [crossing(xs, ps + 1.96 * se, target),
                                crossing(xs, ps - 1.96 * se, target)],
        "curve": curve,
        "method": f"{sims} simulated trials x {perms} relabelings, real schedule; the curve "
                  f"stops once two grid points in a row reach power {SATURATED}",
    }


def crossing(xs: Sequence[float], ys: Sequence[float] | np.ndarray, target: float) -> float | None:
    """Where a rising curve first reaches `target`, linearly interpolated between the grid
    points around it; None if it never does on the grid."""
    for i, y in enumerate(ys):
        if y >= target:
            if i == 0:
                return float(xs[0])
            x0, x1, y0 = xs[i - 1], xs[i], ys[i - 1]
            return float(x0 + (target - y0) / (y - y0) * (x1 - x0))
    return None


def _simulated_power(
    sim: np.ndarray, in_low: np.ndarray, perms: int, alpha: float, rng: np.random.Generator
) -> float:
    """Fraction of simulated trials whose one-sided Monte Carlo randomization p <= alpha."""
    n_low = int(in_low.sum())
    n = in_low.size

    def stat(x: np.ndarray, low: np.ndarray) -> np.ndarray:
        s_low = (x * low).sum(-1)
        return np.asarray((x.sum(-1) - s_low) / (n - n_low) - s_low / n_low)

    observed = stat(sim, in_low)
    labels = rng.permuted(np.tile(in_low, (perms, 1)), axis=1)  # shared relabelings
    lab = labels.astype(float)
    null = (sim @ (1 - lab).T) / (n - n_low) - (sim @ lab.T) / n_low  # (sims, perms)
    p = (1 + (null >= observed[:, None] - 1e-12).sum(1)) / (1 + perms)
    return float((p <= alpha).mean())
