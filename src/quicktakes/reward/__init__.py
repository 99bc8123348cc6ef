"""Reward design for tabular Q-learning, and steering a network's weights with chosen data."""

from quicktakes.reward import claims as _claims  # noqa: F401  (registers the claims)
from quicktakes.reward.design import reward_for_policy, reward_for_values
from quicktakes.reward.mdp import MDPBatch, from_gymnasium, random_mdps
from quicktakes.reward.qlearning import QLearningConfig, q_learning, value_iteration
from quicktakes.reward.steering import SteeringConfig, SteeringResult, steer

__all__ = [
    "MDPBatch",
    "QLearningConfig",
    "SteeringConfig",
    "SteeringResult",
    "from_gymnasium",
    "q_learning",
    "random_mdps",
    "reward_for_policy",
    "reward_for_values",
    "steer",
    "value_iteration",
]
