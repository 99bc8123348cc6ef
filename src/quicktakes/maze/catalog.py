"""The claims of the take "In praise of prompting" (run in `maze.claims`).

Declared apart from their experiments so that listing claims imports nothing heavy."""

from __future__ import annotations

from quicktakes.ledger.claim import Claim
from quicktakes.ledger.registry import register

TAKE = "In praise of prompting"
RESOLUTION = 0.1
"""A 95% half-width above this is too wide to tell "close" from "far": the comparison is
"unresolved at this budget" (the full budget's held-out mazes bring it near 0.08)."""


VERY_POOR = register(
    Claim(
        id="prompting.very-poor-mans-rl",
        take=TAKE,
        quote=(
            'Actually, you can just do "very poor man\'s RL", i.e. prompting: instead of doing '
            "supervised fine-tuning on the data, you simply use the data as few-shot examples "
            "in your prompt."
        ),
        holds_if=(
            "on held-out mazes, the prompt built from the model's own best samples beats "
            "zero-shot with non-overlapping 95% intervals"
        ),
        run="quicktakes.maze.claims:run_very_poor_mans_rl",
    )
)


POOR = register(
    Claim(
        id="prompting.poor-mans-rl",
        take=TAKE,
        quote=(
            'you can just do "poor man\'s RL": you sample the model a few times, take the action '
            "that led to the most gold coins, supervised fine-tune the model on that and repeat."
        ),
        holds_if=(
            "held-out coins after the last SFT iteration exceed the base model's, with "
            "non-overlapping 95% intervals"
        ),
        run="quicktakes.maze.claims:run_poor_mans_rl",
    )
)


RL_VS = register(
    Claim(
        id="prompting.rl-vs-poor-mans-rl",
        take=TAKE,
        quote=(
            "many forms of RL are quite close to poor man's RL (the resulting weight updates "
            "are kind of similar), and poor man's RL is quite similar to prompting"
        ),
        holds_if=(
            "with equal sample budgets, RL's and poor man's RL's final 95% intervals overlap, "
            "and so do poor man's RL's and few-shot prompting's, each half-width at most "
            f"{RESOLUTION:g}"
        ),
        run="quicktakes.maze.claims:run_rl_vs_poor_mans_rl",
    )
)


ALIKE = register(
    Claim(
        id="prompting.updates-alike",
        take=TAKE,
        quote=(
            "many forms of RL are quite close to poor man's RL (the resulting weight updates "
            "are kind of similar), and poor man's RL is quite similar to prompting (intuition "
            "being that both condition the model on the provided examples)"
        ),
        holds_if=(
            "the cosine between one RL and one poor-man's-RL update lies above the controls "
            "(shuffled moves, random directions), and few-shot prompting brings the base "
            "model's move distribution closer to the SFT model's (KL, 95% intervals)"
        ),
        run="quicktakes.maze.claims:run_updates_alike",
    )
)
