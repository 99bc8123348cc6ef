"""The claims of the take's "Insights" list that a small model on a CPU can test (run in
`insights.claims`). Declared apart from their experiments so that listing claims imports
nothing heavy."""

from __future__ import annotations

from quicktakes.ledger.claim import Claim
from quicktakes.ledger.registry import register

TAKE = "Insights about training"


REVERSAL_CURSE = register(
    Claim(
        id="insights.reversal-curse",
        take=TAKE,
        quote=(
            "The reversal curse bounds the level of reasoning/inference current LLMs do. [...] "
            "current models probably don't do anything too advanced under-the-hood"
        ),
        holds_if=(
            "after fine-tuning the embedded SmolLM2-135M on invented 'name is description' "
            "facts, each ranked among a small pool of the facts' completions, the right "
            "description ranks first above chance (95% interval over facts) while the right "
            "name, asked in reverse, stays at chance: its interval contains the rule's chance "
            "and lies below twice it (Berglund et al. 2023); forward at chance, or reverse "
            "too wide to place, is inconclusive"
        ),
        run="quicktakes.insights.claims:REVERSAL",
    )
)


MODEST = 0.25
"""A verifier of modest coverage: it checks at most a quarter of the states."""
RARE = 0.05
KEPT = 0.5
"""Most runs: the share of rollback runs that must end truly good."""
SMALL_COST = 0.1
"""A small cost: the guarded run ends within 10% of the safe optimum's performance."""


VERIFIED_ROLLBACK = register(
    Claim(
        id="insights.verified-rollback",
        take=TAKE,
        quote=(
            "Aim to find a notion of Verifiably Good such that one gradient-step never makes you "
            "go from A to C. Then you just start training from A, and if you end up at B, just "
            "undo your updates."
        ),
        holds_if=(
            "training a maze policy whose reward pays for entering a forbidden cell, some "
            "notion of verifiably good (the sampled argmax check, or a margin check over "
            f"the sampled states) checking at most {MODEST:.0%} of the states, at some swept "
            "learning rate, makes single steps from A (verified, truly good) rarely land in C "
            f"(verified, truly bad; 95% upper bound <= {RARE:.0%}), while rollback keeps most "
            f"runs truly good (lower bound >= {KEPT:.0%}) at a cost <= {SMALL_COST:.0%} of "
            "the safe optimum's performance; partly if A -> C is rare only at a larger cost"
        ),
        run="quicktakes.insights.claims:ROLLBACK",
    )
)


SPREAD = 2.0
"""A spread update: no layer holds more than this many times its share of the parameters in
its share of |dtheta|^2."""
MOST = 0.5
"""Most of the learned effect: one layer's update alone recovers at least this share."""


SMALL_UPDATES = register(
    Claim(
        id="insights.small-updates",
        take=TAKE,
        quote=(
            "It's easier for gradient descent to do small updates throughout the net than a "
            "large update in one part."
        ),
        holds_if=(
            "a tanh MLP taught random facts with AdamW, every layer trained, spreads its "
            f"update (no layer's share of |dtheta|^2 above {SPREAD:g} x its share of the "
            "parameters), gets there more cheaply than each layer trained alone at its best "
            "swept rate (a smaller update, and no more steps to the same training loss), and "
            f"no one layer's share of the update recovers {MOST:.0%} or more of the learned "
            "facts on its own, on every seed; fails if one layer's share carries most of the "
            "learned facts or a one-layer arm reaches the loss with a smaller update; "
            "inconclusive if the all-layer run learned nothing"
        ),
        run="quicktakes.insights.claims:SMALL_UPDATES",
    )
)

TRENDS = register(
    Claim(
        id="meta.trends",
        take="Trends are meaningful, individual data points are not",
        quote=(
            'Claims like "This model gets x% on this benchmark" or "With this prompt this '
            'model does X with p probability" are often individually quite meaningless. [...] '
            'On the other hand, if you have results like "previous models got 10% and 20% on '
            'this benchmark, but our model gets 60%", then that sure sounds like something.'
        ),
        holds_if=(
            "repeating two of the project's experiments (the reversal curse; Q-learning on "
            "random MDPs) under draws of factors that should not matter (rival candidates, "
            "test wording, training seed; the MDPs and the learner's seed), each experiment's "
            "contrast (forward minus reverse; the gain from more updates) varies less, "
            "relative to its size, than its levels do (95% bootstrap interval of the ratio "
            "below 1), and keeps its sign in at least 80% of draws; fails if a contrast keeps "
            "its sign in under half the draws or varies more than the levels (interval above "
            "1); partly if only some experiments show it"
        ),
        run="quicktakes.insights.claims:TRENDS",
    )
)
