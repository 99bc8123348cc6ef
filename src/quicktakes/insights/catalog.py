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
            "facts, the right description ranks first above chance (95% interval over facts) "
            "while the right name, asked in reverse, stays within its interval of chance "
            "(Berglund et al. 2023); forward at chance is inconclusive"
        ),
        run="quicktakes.insights.claims:run_reversal_curse",
    )
)


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
            "training a maze policy whose reward pays for entering a forbidden cell, with a "
            "verifier that checks a quarter of the states: single steps from A (verified, truly "
            "good) rarely land in C (verified, truly bad; 95% upper bound <= 5%), and rollback "
            "keeps most runs truly good at a cost <= 10% of the task performance"
        ),
        run="quicktakes.insights.claims:run_verified_rollback",
    )
)
