"""The claims of the take "In praise of prompting" (run in `maze.claims`).

Declared apart from their experiments so that listing claims imports nothing heavy."""

from __future__ import annotations

from quicktakes.ledger.claim import Claim
from quicktakes.ledger.registry import register

TAKE = "In praise of prompting"
RESOLUTION = 0.1
"""A 95% half-width above this is too wide to tell "close" from "far" when a finding places a
learner against a reference line (the full budget's held-out mazes bring it near 0.08)."""
MARGIN_FLOOR = 0.1
"""The equivalence margin is a third of oracle BC's paired gain over the base model (what
this model can learn here), and never less than this."""
MARGIN_SHARE = 1 / 3
EQUIVALENCE_LEVEL = 0.90
"""Two one-sided tests at 5% each: the 90% interval of the paired difference inside the
margin."""


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
            "on the same held-out mazes, the prompt built from the model's own best samples "
            "beats zero-shot: the 95% interval of the per-maze paired difference lies above 0"
        ),
        run="quicktakes.maze.claims:VERY_POOR",
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
            "held-out coins after the last SFT iteration exceed iteration 0's on the same "
            "mazes: the 95% interval of the per-maze paired difference lies above 0"
        ),
        run="quicktakes.maze.claims:POOR",
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
            "with equal sample budgets, RL, poor man's RL and few-shot each learned (paired "
            "per-maze gain over iteration 0, 95% interval above 0), and RL ~ poor man's RL "
            "and poor man's RL ~ few-shot are equivalent: the "
            f"{EQUIVALENCE_LEVEL:.0%} interval of the paired difference within ± the "
            f"margin, max({MARGIN_FLOOR:g}, {MARGIN_SHARE:.2g} x oracle BC's paired gain) "
            "(two one-sided tests); a link is also different where one of its methods "
            "learned and ends above the other, which did not; partly if one link is "
            "equivalent and the other different; fails if both are different"
        ),
        run="quicktakes.maze.claims:RL_VS",
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
            "at the base model, over independent batches of episodes: the raw gradient of "
            "poor man's RL (SFT on each maze's best episode) and of RL (the policy gradient) "
            "on the same batch are more alike than either null, RL with permuted advantages "
            "and SFT on a random episode (paired differences of cosines, 95% intervals above "
            "0, and above the random-direction band), with the same-method ceilings, AdamW's "
            "first step and the change in log π on held-out probes reported beside; and "
            "few-shot prompting with the examples SFT trains on lands closer to that SFT "
            "model than a prompt of as many random examples (KL, paired over batches)"
        ),
        run="quicktakes.maze.claims:ALIKE",
    )
)
