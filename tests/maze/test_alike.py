import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quicktakes.maze.alike import cosine, kl_rows, random_band


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 500))
def test_cosine_of_an_update_with_itself_and_its_negation(seed, dim):
    v = np.random.default_rng(seed).normal(size=dim)
    assert np.isclose(cosine(v, v), 1.0) and np.isclose(cosine(v, -v), -1.0)
    assert cosine(v, np.zeros(dim)) == 0.0


def test_random_directions_stay_inside_their_band():
    rng = np.random.default_rng(0)
    dim = 20_000
    cos = [cosine(rng.normal(size=dim), rng.normal(size=dim)) for _ in range(200)]
    inside = np.mean(np.abs(cos) < random_band(dim))
    assert 0.9 < inside <= 1.0 and abs(np.mean(cos)) < 0.01


def test_kl_of_a_distribution_with_itself_is_zero_and_positive_otherwise():
    p = np.log(np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]]))
    q = np.log(np.array([[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]]))
    assert np.allclose(kl_rows(p, p), 0.0)
    assert (kl_rows(p, q) > 0).all()
