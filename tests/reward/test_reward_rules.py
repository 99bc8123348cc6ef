"""The reward claims' judges on hand-made measurements, for each verdict they can return."""

import pytest

from quicktakes.ledger import Budget, Point, Verdict
from quicktakes.reward import claims as r


def policy_measured(exact: int, learned: float, n: int = 10):
    def cell(k, y):
        return r.PolicyCell(k, n, [Point(1, 0.0, 0.0, 0.1, n), Point(10, y, y, y, n)])

    batches = {
        r.SEED_SETTING: {c: cell(exact, learned) for c in r.CONSTRUCTIONS},
        "random, episodic": {"seed 1/0": cell(7, 0.7), "shifted 0/-1": cell(n, 1.0),
                             "inverse Bellman": cell(n, 1.0)},
        "FrozenLake-v1": {"seed 1/0": cell(3, 0.3), "shifted 0/-1": cell(n, 1.0),
                          "inverse Bellman": cell(n, 1.0)},
    }
    return r.PolicyMeasured(batches, 0.0)


@pytest.mark.parametrize(
    "exact, learned, verdict",
    [(10, 1.0, Verdict.HOLDS), (10, 0.8, Verdict.PARTLY), (4, 1.0, Verdict.PARTLY),
     (0, 0.0, Verdict.FAILS)],
)
def test_policy_judge_reads_the_seeds_continuing_setting(exact, learned, verdict):
    m = policy_measured(exact, learned)
    assert r.judge_policy(m) is verdict
    text = r.describe_policy(m, verdict)
    assert "random episodic MDPs 7/10" in text
    assert "environments with a failure: FrozenLake-v1" in text
    assert "Shifted by -1" in text


@pytest.mark.parametrize(
    "vi_error, slopes, verdict",
    [(1e-15, [-0.5, -0.3], Verdict.HOLDS), (1e-15, [-0.5, -0.05], Verdict.PARTLY),
     (1e-3, [-0.5, -0.5], Verdict.ERROR)],
)
def test_values_judge(vi_error, slopes, verdict):
    m = r.ValuesMeasured([], {"a": vi_error}, dict(enumerate(slopes)), {})
    assert r.judge_values(m) is verdict


@pytest.mark.parametrize(
    "reached, verdict",
    [([True, True], Verdict.HOLDS), ([True, False], Verdict.PARTLY),
     ([False, False], Verdict.FAILS)],
)
def test_steering_judge(reached, verdict):
    from types import SimpleNamespace

    runs = [(f"net {i}", [SimpleNamespace(reached=ok)]) for i, ok in enumerate(reached)]
    m = r.SteeringMeasured(r.STEERING_SIZES[Budget.FAST], [], runs, [])
    assert r.judge_steering(m) is verdict


def test_the_shifted_reward_makes_the_target_optimal_where_the_seeds_fails():
    """The episodic two-state example: the seed's reward loses a state, the shift does not."""
    import numpy as np

    from quicktakes.reward import design
    from quicktakes.reward.mdp import random_mdps
    from quicktakes.reward.qlearning import value_iteration

    mdp = random_mdps(200, 6, 3, np.random.default_rng(3), p_terminate=0.2)
    policy = np.random.default_rng(4).integers(3, size=(200, 6))
    seed = value_iteration(mdp, design.reward_for_policy(policy, 3), 0.9)
    shifted = value_iteration(mdp, design.shifted_reward_for_policy(policy, 3), 0.9)
    assert (design.matches(seed, policy, mdp.active) < 1).any()
    assert (design.matches(shifted, policy, mdp.active) == 1).all()
    assert design.policy_margin(shifted, policy, mdp.active).min() >= 1 - 1e-9
