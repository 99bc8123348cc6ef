"""The claims of the N-of-1 sleep take (run in `nof1.claims`).

Declared apart from their experiments so that listing claims imports nothing heavy."""

from __future__ import annotations

from quicktakes.ledger.claim import Claim
from quicktakes.ledger.registry import register

TAKE = "Devices and time to fall asleep: a small self-experiment"
STRONG_P = 0.01
STRONG_POSTERIOR = 0.99
SOME_P = 0.05
SOME_POSTERIOR = 0.95
"""'Quite strong evidence' holds if p < 0.01 or P(effect > 5 min) > 0.99; 'some evidence'
(partly) if p < 0.05 or that posterior > 0.95; otherwise the data do not support it."""


MEANS = register(
    Claim(
        id="nof1.sleep-means",
        take=TAKE,
        quote=(
            "For the resulting 16 days, average times to fall asleep were 5.4 minutes, 21 minutes "
            "and 22 minutes, for phys. book, phone and laptop, respectively."
        ),
        holds_if="each stated mean equals the mean of the listed raw data at the stated precision",
        run="quicktakes.nof1.claims:MEANS",
    )
)


EFFECT = register(
    Claim(
        id="nof1.sleep-effect",
        take=TAKE,
        quote=(
            "The sample size was small (I unfortunately lost the motivation to continue). "
            "Nevertheless it gave me quite strong evidence that being on devices indeed does "
            "affect sleep."
        ),
        holds_if=(
            f"the exact randomization test of book vs devices gives p < {STRONG_P}, or the "
            f"posterior probability of a > 5-minute effect exceeds {STRONG_POSTERIOR}"
        ),
        run="quicktakes.nof1.claims:EFFECT",
    )
)
