import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quicktakes.games import newcomb
from quicktakes.games.newcomb import NewcombSpec


def test_one_shot_threshold():
    assert newcomb.one_shot_threshold() == pytest.approx(0.5005)
    assert newcomb.one_shot_threshold(100, 100) == pytest.approx(1.0)


def test_hand_computed_two_round_values():
    cfg = NewcombSpec(rounds=2, accuracy=0.9)
    one = newcomb.expected_total(cfg, np.array([True, True]))
    two = newcomb.expected_total(cfg, np.array([False, False]))
    assert one == pytest.approx(0.5e6 + 0.9e6)
    assert two == pytest.approx(0.5e6 + 1000 + 0.1e6 + 1000)


def test_the_contents_fixed_player_two_boxes_by_definition():
    assert not newcomb.contents_fixed(NewcombSpec(rounds=7)).any()


@given(
    rounds=st.integers(1, 8),
    accuracy=st.floats(0.0, 1.0),
    predictor=st.sampled_from(["last", "majority"]),
)
def test_backward_induction_is_the_best_of_all_plans(rounds, accuracy, predictor):
    """Brute force over all 2^n plans: dynamic programming finds the best total."""
    import itertools

    cfg = NewcombSpec(rounds=rounds, accuracy=accuracy, predictor=predictor)
    best = max(
        newcomb.expected_total(cfg, np.array(p))
        for p in itertools.product([False, True], repeat=rounds)
    )
    assert newcomb.expected_total(cfg, newcomb.optimal_plan(cfg)) == pytest.approx(best)


def test_commit_gain_and_its_thresholds_match_the_closed_form():
    """With the "last" rule, gain = (n - 1)(2a - 1) big - n small."""
    cfg = NewcombSpec(rounds=5, accuracy=0.6)
    assert newcomb.commit_gain(cfg) == pytest.approx(4 * 0.2e6 - 5 * 1000)
    # zero at a = 1/2 + n small / (2 (n - 1) big)
    assert newcomb.threshold_accuracy(cfg) == pytest.approx(0.5 + 5000 / (8e6))
    assert newcomb.threshold_accuracy(cfg.model_copy(update={"rounds": 1})) is None
    # at a = 0.5006: (n - 1) 1200 > 1000 n iff n > 6
    assert newcomb.rounds_needed(cfg.model_copy(update={"accuracy": 0.5006})) == 7
    assert newcomb.rounds_needed(cfg.model_copy(update={"accuracy": 0.5})) is None


@given(rounds=st.integers(1, 40), accuracy=st.floats(0.0, 1.0))
def test_dynamic_programming_matches_the_threshold(rounds, accuracy):
    """Today's one-box buys (2a - 1) * big tomorrow, so it pays exactly above the threshold."""
    cfg = NewcombSpec(rounds=rounds, accuracy=accuracy)
    plan = newcomb.optimal_plan(cfg)
    assert not plan[-1]
    threshold = newcomb.one_shot_threshold()
    if accuracy > threshold + 1e-9:
        assert plan[:-1].all()
    elif accuracy < threshold - 1e-9:
        assert not plan.any()


@given(
    rounds=st.integers(1, 12),
    accuracy=st.floats(0.0, 1.0),
    predictor=st.sampled_from(["last", "majority"]),
)
def test_the_optimal_plan_is_at_least_as_good_as_every_player(rounds, accuracy, predictor):
    cfg = NewcombSpec(rounds=rounds, accuracy=accuracy, predictor=predictor)
    best = newcomb.expected_total(cfg, newcomb.optimal_plan(cfg))
    for name in newcomb.PLAYERS:
        assert newcomb.expected_total(cfg, newcomb.plan_for(name, cfg)) <= best + 1e-6


def test_simulation_matches_expectation():
    cfg = NewcombSpec(rounds=5, accuracy=0.8)
    plan = newcomb.defect_at_end(cfg)
    sim = newcomb.simulate(cfg, plan, 100_000, np.random.default_rng(1)).mean()
    assert sim == pytest.approx(newcomb.expected_total(cfg, plan) / 5, rel=0.01)
