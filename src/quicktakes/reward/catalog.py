"""The claims of the reward-design take (run in `reward.claims`).

Declared apart from their experiments so that listing claims imports nothing heavy."""

from __future__ import annotations

from quicktakes.ledger.claim import Claim
from quicktakes.ledger.registry import register

TAKE = "Is reward a fine enough tool? (Q-learning and a neural network)"

FALLING_SLOPE = -0.2
"""'Converges' on a finite budget: the worst-case error's log-log slope over the last half of
the checkpoints is below this (a plateau has slope ~0)."""
STEER_TOL = 1e-6
"""Reached: the relative distance of the weights to the target."""


def _sci(x: float) -> str:
    """1e-6, not Python's 1e-06."""
    mantissa, exponent = f"{x:e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


POLICY = register(
    Claim(
        id="reward.policy",
        take=TAKE,
        quote=(
            "Simply reward the behavior you want to see: let r(s,a)=1 if a=π*(s) and 0 otherwise."
        ),
        holds_if=(
            "in the seed's setting (continuing MDPs: no termination), r = 1{a = pi*(s)} makes pi* "
            "optimal in every state of 1,000+ random MDPs (value iteration) and Q-learning's "
            "greedy policy reaches it in every one; episodic MDPs and the toy-text environments "
            "are reported beside it, with a fix"
        ),
        run="quicktakes.reward.claims:POLICY",
    )
)


VALUES = register(
    Claim(
        id="reward.values",
        take=TAKE,
        quote=(
            "one can more strongly choose, for any target value function Q*, a reward function "
            "such that the values in Q-learning converge in the limit to Q*"
        ),
        holds_if=(
            "sampled Q-learning's worst relative error on the inverse-Bellman reward is still "
            f"falling (log-log slope < {FALLING_SLOPE}) at the end of the budget (value "
            "iteration returning Q* exactly checks the construction)"
        ),
        run="quicktakes.reward.claims:VALUES",
    )
)


STEERING = register(
    Claim(
        id="reward.steering",
        take=TAKE,
        quote=(
            "Choose N random input-output pairs. The gradients of the weight vectors are almost "
            "certainly linearly independent. Hence, some linear combination of them equals "
            "[θ* − θ]. [...] running back-propagation on the pair with learning rate λ_i ε [...] "
            "gives you an update approximately in the direction of [θ* − θ]. Rinse and repeat."
        ),
        holds_if=(
            "for each network (linear, 4 and 8 tanh units), every seed's weights come within "
            f"{_sci(STEER_TOL)} of the target (relative distance) by single-pair SGD steps in the "
            "budget"
        ),
        run="quicktakes.reward.claims:STEERING",
    )
)
