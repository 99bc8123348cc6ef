import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from quicktakes.nof1 import randomization as rt


def _between(*samples, axis=-1):
    return sum(x.sum(axis=axis) ** 2 / x.shape[axis] for x in samples)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), sizes=st.lists(st.integers(2, 4), min_size=2, max_size=3))
def test_omnibus_p_equals_scipy_exact_permutation_test(seed, sizes):
    rng = np.random.default_rng(seed)
    groups = [rng.integers(0, 30, size=n).astype(float) for n in sizes]
    ours = rt.omnibus(groups).p_value
    ref = stats.permutation_test(
        groups,
        _between,
        permutation_type="independent",
        vectorized=True,
        n_resamples=np.inf,
        alternative="greater",
    )
    assert ours == pytest.approx(ref.pvalue, abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), na=st.integers(2, 6), nb=st.integers(2, 6))
def test_contrast_p_equals_scipy(seed, na, nb):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=na), rng.normal(size=nb)
    ref = stats.permutation_test(
        (b, a),
        lambda x, y, axis: x.mean(axis) - y.mean(axis),
        permutation_type="independent",
        vectorized=True,
        n_resamples=np.inf,
        alternative="greater",
    )
    assert rt.contrast(a, b, "b>a").p_value == pytest.approx(ref.pvalue, abs=1e-12)


def test_the_seeds_three_arm_test_enumerates_every_relabeling():
    groups = [
        np.array([0, 0, 2, 5, 22.0]),
        np.array([2, 14, 21, 24, 32, 33.0]),
        np.array([0, 6, 10, 27, 66.0]),
    ]
    assert rt.n_relabelings([5, 6, 5]) == 2_018_016
    r = rt.omnibus(groups)
    assert r.method.startswith("exact (2,018,016")
    assert 0 < r.p_value < 1


def test_monte_carlo_agrees_with_exact(monkeypatch):
    a, b = np.array([0, 0, 2, 5, 22.0]), np.array([2, 14, 21, 24, 32, 33, 0, 6, 10, 27, 66.0])
    exact = rt.contrast(a, b).p_value
    monkeypatch.setattr(rt, "EXACT_LIMIT", 10)
    mc = rt.contrast(a, b)
    assert mc.method.startswith("Monte Carlo")
    assert abs(mc.p_value - exact) < 4 * mc.mc_se + 1e-3


def test_holm():
    assert rt.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert rt.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_the_normal_limit_is_close_to_the_randomization_test_from_thirty_days_a_group():
    from quicktakes.nof1 import randomization as rt

    rng = np.random.default_rng(0)
    gaps = []
    for _ in range(20):
        a = np.round(rng.exponential(15, 30))
        b = np.round(rng.exponential(15, 30) + rng.normal(0, 3))
        gaps.append(abs(rt.contrast_normal(a, b).p_value - rt.contrast(a, b).p_value))
    assert max(gaps) < 0.04
    assert rt.contrast_normal(np.ones(5), np.ones(5)).p_value == 1.0  # no spread, no evidence
