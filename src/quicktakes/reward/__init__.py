"""Reward design for tabular Q-learning, and steering a network's weights with chosen data.

The names below load on first use (PEP 562): importing the package costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "reward_for_policy": "design",
    "reward_for_values": "design",
    "MDPBatch": "mdp",
    "from_gymnasium": "mdp",
    "random_mdps": "mdp",
    "QLearningConfig": "qlearning",
    "q_learning": "qlearning",
    "value_iteration": "qlearning",
    "SteeringConfig": "steering",
    "SteeringResult": "steering",
    "steer": "steering",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
