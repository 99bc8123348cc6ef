"""The claims of the take "Iteration as an intuition pump" (run in `games.claims`).

Declared apart from their experiments so that listing claims imports nothing heavy."""

from __future__ import annotations

from quicktakes.ledger.claim import Claim
from quicktakes.ledger.registry import register

TAKE = "Iteration as an intuition pump"


LOTTERY = register(
    Claim(
        id="games.lottery",
        take=TAKE,
        quote=(
            "if you are presented with the two buttons, one giving you a sure 100% chance of "
            "winning 1 dollar and the other one giving you a 40% chance of winning 3 dollars, and "
            "you are allowed to press the buttons a total of 100 times, [...] as you are given "
            "more button presses, the probability of you getting (a lot) more money that way "
            "tends to 1 (by the law of large numbers)."
        ),
        holds_if=(
            "exact P(risky total > sure total) and P(> 1.1 x sure total) approach 1 as the "
            "presses grow to 10^4 (Monte Carlo only cross-checks the exact tails)"
        ),
        run="quicktakes.games.claims:LOTTERY",
    )
)


IPD_ROUNDS = register(
    Claim(
        id="games.ipd-rounds",
        take=TAKE,
        quote=(
            "It feels intuitively obvious that in a 100-round dilemma there ought to be "
            "something better than always defecting."
        ),
        holds_if=(
            "in seeded round-robin tournaments of 100 rounds, in each population (16 classic "
            "strategies; Axelrod's first tournament), some strategy out-scores Defector beyond "
            "the 95% interval of their paired difference"
        ),
        run="quicktakes.games.claims:IPD",
    )
)


NEWCOMB = register(
    Claim(
        id="games.newcomb-iterated",
        take=TAKE,
        quote=(
            "in an iterated Newcomb's problem you will, by backward induction, always two-box. "
            "This, in turn, sounds intuitively wrong"
        ),
        holds_if=(
            "against a predictor that learns from past rounds, on exact values over a grid of "
            "accuracy x rounds: backward induction (dynamic programming) prescribes two-boxing "
            "throughout, and committing to one-box nevertheless earns more"
        ),
        run="quicktakes.games.claims:NEWCOMB",
    )
)
