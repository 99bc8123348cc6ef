"""Reward design for tabular Q-learning, and steering a network's weights with chosen data.

The names below load on first use (PEP 562): importing the package costs nothing.
"""

from quicktakes._lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
        "reward_for_policy": "design",
        "reward_for_values": "design",
        "MDPBatch": "mdp",
        "from_gymnasium": "mdp",
        "random_mdps": "mdp",
        "QLearningConfig": "qlearning",
        "q_learning": "qlearning",
        "value_iteration": "qlearning",
        "SteeringSpec": "steering",
        "SteeringResult": "steering",
        "steer": "steering",
    },
)
