import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quicktakes.games.lottery import LotterySpec, hoeffding_bound, odds, press_grid, simulate


def cfg(n: int, **kw) -> LotterySpec:
    return LotterySpec(presses=n, **kw)


def test_known_values_from_the_issue():
    assert odds(cfg(1)).p_less == pytest.approx(0.6)
    assert odds(cfg(100)).p_less == pytest.approx(0.0913, abs=5e-5)


def test_ties_are_counted_when_the_totals_can_be_equal():
    # n=3: risky 3K equals sure 3 when K=1: P = 3 * 0.4 * 0.6^2
    o = odds(cfg(3))
    assert o.p_equal == pytest.approx(3 * 0.4 * 0.36)
    assert o.p_more == pytest.approx(3 * 0.16 * 0.6 + 0.064)


def test_the_exact_curve_is_not_monotone_in_n():
    """Why the claim is judged on the trend and the tail: the lattice makes P(more) zig-zag."""
    assert odds(cfg(3)).p_more < odds(cfg(2)).p_more


def test_far_tail_is_essentially_certain():
    o = odds(cfg(10_000, margin=0.1))
    assert o.p_less < 1e-12
    assert o.p_a_lot_more > 1 - 1e-6


def test_monte_carlo_agrees_with_exact():
    c = cfg(50)
    more, less, equal = simulate(c, 200_000, np.random.default_rng(0))
    o = odds(c)
    assert more / 200_000 == pytest.approx(o.p_more, abs=0.005)
    assert less / 200_000 == pytest.approx(o.p_less, abs=0.005)


def test_press_grid_spans_one_to_max():
    g = press_grid(10_000, 25)
    assert g[0] == 1 and g[-1] == 10_000 and g == sorted(set(g))


lotteries = st.builds(
    LotterySpec,
    p=st.floats(0, 1),
    prize=st.floats(0.1, 10),
    sure=st.floats(0, 10),
    presses=st.integers(1, 2_000),
)


@given(lotteries)
def test_probabilities_sum_to_one(c):
    o = odds(c)
    assert o.p_more + o.p_less + o.p_equal == pytest.approx(1.0, abs=1e-9)
    assert min(o.p_more, o.p_less, o.p_equal) >= 0


@given(lotteries)
def test_a_lot_more_is_never_likelier_than_more(c):
    c = c.model_copy(update={"margin": 0.1})
    o = odds(c)
    assert o.p_a_lot_more <= o.p_more + 1e-12


@settings(max_examples=60)
@given(
    p=st.floats(0.05, 0.95),
    prize=st.floats(0.5, 10),
    ev_ratio=st.floats(1.05, 3),
    n=st.integers(1, 3_000),
)
def test_ev_favourable_lotteries_lose_at_most_at_the_hoeffding_rate(p, prize, ev_ratio, n):
    """The trend in n: P(less) is under exp(-2n gap^2 / prize^2), which falls to 0."""
    sure = p * prize / ev_ratio
    c = LotterySpec(p=p, prize=prize, sure=sure, presses=n)
    assert odds(c).p_less <= hoeffding_bound(c) + 1e-12
    assert hoeffding_bound(c.model_copy(update={"presses": 4 * n})) <= hoeffding_bound(c)


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 20_000),
    p=st.one_of(st.floats(1e-12, 1 - 1e-12), st.sampled_from([0.4, 0.5, 1e-9, 1 - 1e-9])),
    where=st.floats(0, 1),
)
def test_binomial_tails_agree_with_scipy(n, p, where):
    from scipy import special

    from quicktakes.games.lottery import _at_most, _strict_above

    k = min(n - 1, int(where * n))
    for ours, ref in ((_at_most(k, n, p), special.bdtr(k, n, p)),
                      (_strict_above(k, n, p), special.bdtrc(k, n, p))):
        if ref > 1e-280:
            assert ours == pytest.approx(float(ref), rel=1e-9)
        else:
            assert ours < 1e-270
