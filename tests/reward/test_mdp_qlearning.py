import warnings

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quicktakes.errors import ConfigError, UnknownNameError
from quicktakes.reward import design
from quicktakes.reward.mdp import MDPBatch, from_gymnasium, random_mdps
from quicktakes.reward.qlearning import QLearningConfig, q_learning, value_iteration


def two_state(p_end: float = 0.0) -> MDPBatch:
    """Action 0 stays, action 1 switches; action 1 in state 0 ends the episode w.p. p_end."""
    T = np.zeros((1, 2, 2, 3))
    T[0, 0, 0, 0] = 1
    T[0, 0, 1, 1], T[0, 0, 1, 2] = 1 - p_end, p_end
    T[0, 1, 0, 1] = 1
    T[0, 1, 1, 0] = 1
    R = np.array([[[1.0, 0.0], [0.0, 2.0]]])
    return MDPBatch(T, R, np.ones((1, 2), bool), np.array([[1.0, 0.0]]))


def test_value_iteration_on_a_hand_computed_mdp():
    # V0 = max(1 + g V0, g V1) and V1 = max(g V1, 2 + g V0): V0 = 2, V1 = 3.
    g = 0.5
    Q = value_iteration(two_state(), two_state().R, g)
    assert Q[0].max(axis=1) == pytest.approx([2.0, 3.0])
    assert Q[0, 1, 1] == pytest.approx(2 + g * 2)


def test_terminal_transitions_drop_the_continuation():
    mdp = two_state(p_end=1.0)
    Q = value_iteration(mdp, np.ones((1, 2, 2)), 0.9)
    assert Q[0, 0, 1] == pytest.approx(1.0)
    assert Q[0, 0, 0] == pytest.approx(10.0)


def test_seed_reward_fails_when_the_target_action_ends_the_episode():
    """pi*(0) ends the episode; the other action leads to state 1, where pi*(1) is rewarded
    forever: r = 1{a = pi*} pays 1 for pi*(0) but 0.9 * 10 for the wrong action."""
    T = np.zeros((1, 2, 2, 3))
    T[0, 0, 0, 1] = T[0, 0, 1, 2] = T[0, 1, 0, 1] = T[0, 1, 1, 0] = 1
    mdp = MDPBatch(T, np.zeros((1, 2, 2)), np.ones((1, 2), bool), np.array([[1.0, 0.0]]))
    policy = np.array([[1, 0]])
    Q = value_iteration(mdp, design.reward_for_policy(policy, 2), 0.9)
    assert design.matches(Q, policy, mdp.active)[0] == 0.5
    R_fix = design.reward_for_values(mdp, design.values_for_policy(policy, 2), 0.9)
    Q_fix = value_iteration(mdp, R_fix, 0.9)
    assert design.matches(Q_fix, policy, mdp.active)[0] == 1.0


small_mdps = st.builds(
    lambda seed, s, a, b: random_mdps(3, s, a, np.random.default_rng(seed), branching=min(b, s)),
    st.integers(0, 2**32 - 1),
    st.integers(1, 6),
    st.integers(1, 4),
    st.integers(1, 4),
)


@settings(max_examples=40, deadline=None)
@given(mdp=small_mdps, gamma=st.floats(0.0, 0.95), seed=st.integers(0, 1000))
def test_inverse_bellman_reward_gives_back_the_target_values(mdp, gamma, seed):
    Q_star = np.random.default_rng(seed).uniform(-5, 5, size=mdp.shape)
    R = design.reward_for_values(mdp, Q_star, gamma)
    assert np.abs(value_iteration(mdp, R, gamma) - Q_star).max() < 1e-8


@settings(max_examples=40, deadline=None)
@given(mdp=small_mdps, gamma=st.floats(0.0, 0.95), seed=st.integers(0, 1000))
def test_seed_reward_makes_the_target_policy_win_by_exactly_one(mdp, gamma, seed):
    """In continuing MDPs every value is 1/(1-gamma), so the margin is exactly 1."""
    B, S, A = mdp.shape
    if A < 2:
        return
    policy = np.random.default_rng(seed).integers(A, size=(B, S))
    Q = value_iteration(mdp, design.reward_for_policy(policy, A), gamma)
    assert design.policy_margin(Q, policy, mdp.active) == pytest.approx(np.ones(B), abs=1e-8)
    assert (design.matches(Q, policy, mdp.active) == 1).all()


@pytest.mark.parametrize("exploration", ["uniform", "epsilon-greedy"])
def test_q_learning_converges_to_value_iteration(exploration):
    rng = np.random.default_rng(0)
    mdp = random_mdps(20, 5, 3, rng)
    R = mdp.R
    cfg = QLearningConfig(gamma=0.8, exploration=exploration, epsilon=0.5)
    Q = q_learning(mdp, R, 60_000, cfg, rng)
    Q_star = value_iteration(mdp, R, 0.8)
    assert np.abs(Q - Q_star).max() < 0.25 * np.abs(Q_star).max()


def test_q_learning_is_deterministic_given_the_seed():
    mdp = random_mdps(5, 4, 2, np.random.default_rng(1))
    cfg = QLearningConfig()
    runs = [q_learning(mdp, mdp.R, 3_000, cfg, np.random.default_rng(9)) for _ in range(2)]
    assert np.array_equal(*runs)


def test_checkpoints_are_reported_once_each_in_order():
    mdp = random_mdps(2, 3, 2, np.random.default_rng(1))
    seen = []
    q_learning(
        mdp,
        mdp.R,
        2_000,
        QLearningConfig(),
        np.random.default_rng(0),
        [10, 1_000, 2_000, 5_000],
        lambda s, Q: seen.append(s),
    )
    assert seen == [10, 1_000, 2_000]


@pytest.mark.parametrize("name", ["FrozenLake-v1", "Taxi-v3", "CliffWalking-v0"])
def test_gymnasium_conversion_matches_env_P(name):
    mdp = from_gymnasium(name)
    env_id = {"Taxi-v3": "Taxi-v4", "CliffWalking-v0": "CliffWalking-v1"}.get(name, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = gym.make(env_id).unwrapped
    S = env.observation_space.n
    for s in range(S):
        for a in range(env.action_space.n):
            expected = np.zeros(S + 1)
            reward = 0.0
            for prob, s2, r, done in env.P[s][a]:
                expected[S if done else s2] += prob
                reward += prob * r
            assert np.allclose(mdp.T[0, s, a], expected)
            assert mdp.R[0, s, a] == pytest.approx(reward)


def test_frozen_lake_holes_are_not_decision_states():
    mdp = from_gymnasium("FrozenLake-v1")
    assert mdp.active[0].sum() == 16 - 4 - 1  # 4 holes and the goal are entered terminally


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(UnknownNameError, match="Pong"):
        from_gymnasium("Pong")
    with pytest.raises(ConfigError, match="shape"):
        design.reward_for_policy(np.zeros(5, dtype=int), 4)
    with pytest.raises(ConfigError, match="actions"):
        design.reward_for_policy(np.full((1, 5), 7), 4)
    mdp = random_mdps(1, 3, 2, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="shape"):
        design.reward_for_values(mdp, np.zeros((1, 3, 3)), 0.9)
    with pytest.raises(ConfigError, match="gamma"):
        design.reward_for_values(mdp, np.zeros((1, 3, 2)), 1.0)
