import datetime as dt
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quicktakes.nof1.protocol import Protocol, commitment, draw_schedule


def protocol(**kw) -> Protocol:
    base = dict(name="t", arms=("a", "b", "c"), start=dt.date(2026, 1, 1), days=30, seed=1)
    return Protocol(**{**base, **kw})


@given(
    seed=st.integers(0, 2**32), k=st.integers(2, 5), reps=st.integers(1, 3), days=st.integers(1, 80)
)
def test_blocks_are_balanced(seed, k, reps, days):
    arms = tuple(f"arm{i}" for i in range(k))
    p = protocol(arms=arms, scheme="blocks", block_size=k * reps, days=days, seed=seed)
    s = draw_schedule(p)
    for i in range(0, len(s) - k * reps + 1, k * reps):
        assert Counter(s[i : i + k * reps]) == {a: reps for a in range(k)}


@given(seed=st.integers(0, 2**32), max_run=st.integers(1, 4), days=st.integers(1, 120))
def test_max_run_is_respected(seed, max_run, days):
    s = draw_schedule(protocol(max_run=max_run, days=days, seed=seed))
    run = 1
    for x, y in zip(s, s[1:], strict=False):
        run = run + 1 if x == y else 1
        assert run <= max_run


@given(seed=st.integers(0, 2**32))
def test_same_seed_same_schedule_and_longer_extends_shorter(seed):
    p = protocol(seed=seed)
    assert draw_schedule(p) == draw_schedule(p)
    assert draw_schedule(p, days=50)[:30] == draw_schedule(p)


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32), day=st.integers(0, 29))
def test_commitment_detects_any_tampering(seed, day):
    p = protocol(seed=seed)
    s = draw_schedule(p)
    sha = commitment(p, s)
    assert commitment(p, list(s)) == sha
    tampered = list(s)
    tampered[day] = (tampered[day] + 1) % 3
    assert commitment(p, tampered) != sha
    assert commitment(protocol(seed=seed, smallest_effect=1.0), s) != sha


def test_simple_schedule_is_roughly_uniform():
    s = draw_schedule(protocol(days=3000))
    counts = Counter(s)
    assert all(900 < counts[a] < 1100 for a in range(3))


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(arms=("a", "a")), "distinct"),
        (dict(scheme="blocks", block_size=4), "multiple"),
        (dict(treatment=("zzz",)), "unknown arms"),
        (dict(assign_at="25:99"), "assign_at"),
        (dict(minimum=5, maximum=1), "minimum"),
    ],
)
def test_invalid_protocols(kw, message):
    with pytest.raises(ValueError, match=message):
        protocol(**kw)
