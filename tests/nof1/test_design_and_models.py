"""The randomization tests redraw assignments as the schedule was drawn (checked against a
brute-force enumeration written here independently), and each outcome kind's posterior
matches its closed form on simulated data."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from quicktakes.nof1 import design
from quicktakes.nof1.analysis import (
    Day,
    NotEnough,
    TrialData,
    analyze,
    beta_posterior_mean,
    normal_posterior_mean,
    poisson_posterior_mean,
    posterior,
)
from quicktakes.nof1.protocol import Protocol, draw_schedule

START = dt.date(2026, 1, 5)


def blocked(arms: tuple[str, ...], days: int, values: list[float | None], seed: int = 4,
            lower_is_better: bool = True) -> TrialData:
    p = Protocol(name="t", arms=arms, start=START, days=days, scheme="blocks", seed=seed,
                 lower_is_better=lower_is_better, kind="continuous", minimum=-100,
                 maximum=100)
    schedule = draw_schedule(p)
    out = [Day(i, p.date_of(i), arms[a], values[i]) for i, a in enumerate(schedule)]
    return TrialData(p, tuple(schedule), tuple(out))


def brute_force(data: TrialData, keep: set[int], stat) -> tuple[float, float]:
    """(observed, p): every within-block arrangement of the kept days' arms, enumerated."""
    p = data.protocol
    size = p.block_size or len(p.arms)
    days = [d for d in data.analysed() if p.arms.index(d.arm) in keep]
    blocks: dict[int, list[int]] = {}
    for k, d in enumerate(days):
        blocks.setdefault(d.index // size, []).append(k)
    labels = [p.arms.index(d.arm) for d in days]
    values = [d.value for d in days]
    options = [sorted(set(itertools.permutations([labels[k] for k in ks])))
               for ks in blocks.values()]
    null = []
    for combo in itertools.product(*options):
        arranged = [0] * len(days)
        for ks, perm in zip(blocks.values(), combo, strict=True):
            for k, lab in zip(ks, perm, strict=True):
                arranged[k] = lab
        null.append(stat(arranged, values))
    observed = stat(labels, values)
    return observed, sum(x >= observed - 1e-9 for x in null) / len(null)


def mean_of(labels, values, arm) -> float:
    xs = [v for lab, v in zip(labels, values, strict=True) if lab == arm]
    return sum(xs) / len(xs)


def test_two_arms_in_blocks_contrast_and_pair_are_one_test_enumerated():
    values = [3.0, 9.0, 4.0, 8.0, 2.0, 12.0, 5.0, 7.0, 1.0, 6.0]
    data = blocked(("a", "b"), 10, values)
    result = analyze(data, np.random.default_rng(0), with_power=False)
    # the contrast: a (hypothesised better, lower) against b, one-sided
    _, p_one = brute_force(data, {0, 1},
                           lambda lab, v: mean_of(lab, v, 1) - mean_of(lab, v, 0))
    _, p_two = brute_force(data, {0, 1},
                           lambda lab, v: abs(mean_of(lab, v, 1) - mean_of(lab, v, 0)))
    assert result.contrast_test.p_value == pytest.approx(p_one, abs=1e-12)
    assert "exact (32 within-block" in result.contrast_test.method
    assert result.pairwise[0]["p_value"] == pytest.approx(p_two, abs=1e-12)


def test_three_arms_in_blocks_with_a_missing_day_enumerated():
    values: list[float | None] = [3, 9, 14, 4, 8, 15, 2, None, 12, 5, 7, 11]
    data = blocked(("a", "b", "c"), 12, values)
    result = analyze(data, np.random.default_rng(0), with_power=False)
    _, p_contrast = brute_force(
        data, {0, 1, 2},
        lambda lab, v: (sum(x for la, x in zip(lab, v, strict=True) if la != 0)
                        / sum(la != 0 for la in lab)) - mean_of(lab, v, 0))
    assert result.contrast_test.p_value == pytest.approx(p_contrast, abs=1e-12)

    def between(lab, v):
        return sum(sum(x for la, x in zip(lab, v, strict=True) if la == k) ** 2
                   / sum(la == k for la in lab) for k in set(lab))

    _, p_omni = brute_force(data, {0, 1, 2}, between)
    assert result.omnibus.p_value == pytest.approx(p_omni, abs=1e-12)
    for row, (x, y) in zip(result.pairwise, [(0, 1), (0, 2), (1, 2)], strict=True):
        _, p_pair = brute_force(data, {x, y},
                                lambda lab, v, x=x, y=y: abs(mean_of(lab, v, y)
                                                             - mean_of(lab, v, x)))
        assert row["p_value"] == pytest.approx(p_pair, abs=1e-12), row


def test_a_simple_design_still_relabels_freely_and_a_run_limit_redraws_schedules():
    p = Protocol(name="t", arms=("a", "b"), start=START, days=12, scheme="simple", seed=2,
                 max_run=2)
    schedule = draw_schedule(p)
    data = TrialData(p, tuple(schedule), tuple(
        Day(i, p.date_of(i), p.arms[a], float(i % 5)) for i, a in enumerate(schedule)))
    r1 = analyze(data, np.random.default_rng(1), with_power=False)
    r2 = analyze(data, np.random.default_rng(1), with_power=False)
    assert "redrawn schedules" in r1.contrast_test.method
    assert r1.contrast_test.p_value == r2.contrast_test.p_value  # seeded


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=3, max_size=12), st.integers(0, 2**31))
def test_within_block_draws_keep_each_blocks_arms(labels, seed):
    labels_a = np.array(labels)
    blocks = np.arange(len(labels)) // 3
    rows = design.within_block_draws(blocks, labels_a, np.random.default_rng(seed), 50)
    for b in np.unique(blocks):
        want = sorted(labels_a[blocks == b])
        assert all(sorted(r[blocks == b]) == want for r in rows)
    assert design.n_within_block(blocks, labels_a) == len(
        design.within_block_rows(blocks, labels_a))


QUANTILES = [0.025, 0.5, 0.975]


def close(draws: np.ndarray, dist, scale: float) -> None:
    got = np.quantile(draws, QUANTILES)
    want = dist.ppf(QUANTILES)
    assert np.allclose(got, want, atol=0.02 * scale), (got, want)


def test_the_normal_posterior_is_students_t():
    rng = np.random.default_rng(7)
    v = rng.normal(-1.5, 2.0, size=14)  # a mood that goes negative
    n, s = v.size, v.std(ddof=1)
    close(normal_posterior_mean(v, rng, 400_000),
          stats.t(df=n - 1, loc=v.mean(), scale=s / np.sqrt(n)), s)
    with pytest.raises(NotEnough):
        normal_posterior_mean(np.array([3.0]), rng, 10)


def test_the_poisson_posterior_is_gamma():
    rng = np.random.default_rng(8)
    v = rng.poisson(4.0, size=20).astype(float)
    close(poisson_posterior_mean(v, rng, 400_000),
          stats.gamma(0.5 + v.sum(), scale=1 / v.size), 1.0)


def test_the_binary_posterior_is_beta():
    rng = np.random.default_rng(9)
    v = rng.binomial(1, 0.3, size=25).astype(float)
    s = v.sum()
    close(beta_posterior_mean(v, rng, 400_000), stats.beta(1 + s, 1 + v.size - s), 0.2)


def test_each_kinds_interval_covers_the_true_difference_about_95_percent():
    rng = np.random.default_rng(10)
    hits = 0
    for _ in range(200):
        a, b = rng.normal(0.0, 1.0, 10), rng.normal(0.8, 1.0, 10)
        post = posterior(a, b, 0.0, rng, draws=4000, kind="continuous")
        hits += post["lo"] <= 0.8 <= post["hi"]
    assert 0.88 <= hits / 200 <= 0.99
