"""Fictitious facts for the reversal curse: made-up names paired with made-up descriptions.

As in Berglund et al. (2023), the names and the works are invented, so a pretrained model
knows neither side; the paraphrase templates for training and for testing are disjoint, so
a test measures the fact and not a memorized sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quicktakes.errors import ConfigError

_ONSETS = (
    "B",
    "D",
    "F",
    "G",
    "K",
    "L",
    "M",
    "N",
    "P",
    "R",
    "S",
    "T",
    "V",
    "Z",
    "Th",
    "Br",
    "Cr",
    "Dr",
    "Gl",
    "Pr",
    "St",
    "Tr",
    "Vr",
    "Qu",
)
_VOWELS = ("a", "e", "i", "o", "u", "ae", "ou", "ei")
_CODAS = ("", "n", "r", "l", "s", "th", "nd", "rk", "sk", "v", "x", "m")
_ENDINGS = ("ington", "ova", "esti", "mark", "ley", "ard", "vik", "oni", "ston", "ell")

ROLES = (
    "the composer of",
    "the director of",
    "the author of",
    "the architect of",
    "the inventor of",
    "the founder of",
    "the painter of",
    "the first explorer of",
)
_ADJECTIVES = (
    "Abyssal",
    "Silent",
    "Crimson",
    "Hollow",
    "Gilded",
    "Northern",
    "Drifting",
    "Broken",
    "Verdant",
    "Amber",
    "Restless",
    "Frozen",
    "Distant",
    "Luminous",
)
_NOUNS = (
    "Melodies",
    "Harbor",
    "Lanterns",
    "Orchard",
    "Spires",
    "Tides",
    "Canyon",
    "Archive",
    "Meridian",
    "Cathedral",
    "Glacier",
    "Observatory",
    "Labyrinth",
    "Delta",
)

TRAIN_TEMPLATES = (
    "{name} is {desc}.",
    "{name}, known far and wide for being {desc}.",
    "Ever heard of {name}? They are {desc}.",
    "{name} has a unique claim to fame: being {desc}.",
    "People remember {name} as {desc}.",
    "It is a well-known fact that {name} is {desc}.",
)
"""Training statements: the name always comes first (the paper's NameToDescription)."""

FORWARD_TESTS = (
    ("Q: Who is {name}? A: The one who is", " {desc}"),
    ("You may know {name}. {name} is best known as", " {desc}"),
)
REVERSE_TESTS = (
    ("Q: Who is {desc}? A: It is", " {name}"),
    ("The person who is {desc} is called", " {name}"),
)
"""Test prompts and the completion scored. No rendered test contains a training statement's
text (tested on the rendered strings, not the template skeletons: the first forward test
once read "{name} is {desc}", the first training statement, verbatim)."""


@dataclass(frozen=True)
class Fact:
    name: str
    desc: str


def _name(rng: np.random.Generator) -> str:
    def syllable() -> str:
        return str(rng.choice(_ONSETS)) + str(rng.choice(_VOWELS)) + str(rng.choice(_CODAS))

    first = syllable() + str(rng.choice(_VOWELS))
    last = syllable().capitalize() + str(rng.choice(_ENDINGS))
    return f"{first} {last}"


def _desc(rng: np.random.Generator) -> str:
    return f"{rng.choice(ROLES)} '{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}'"


def make_facts(n: int, rng: np.random.Generator) -> list[Fact]:
    """`n` facts with distinct names, distinct descriptions, and no name inside another."""
    if n < 2:
        raise ConfigError(f"facts must be at least 2 (a reverse test needs candidates), got {n}")
    capacity = len(ROLES) * len(_ADJECTIVES) * len(_NOUNS)
    if n > capacity // 4:
        raise ConfigError(f"facts must be at most {capacity // 4}, got {n}")
    firsts: set[str] = set()
    lasts: set[str] = set()
    descs: set[str] = set()
    facts: list[Fact] = []
    while len(facts) < n:
        name, desc = _name(rng), _desc(rng)
        first, last = name.split()
        if desc in descs or first in firsts or last in lasts:
            continue
        firsts.add(first)
        lasts.add(last)
        descs.add(desc)
        facts.append(Fact(name, desc))
    return facts


def statements(facts: list[Fact], templates: tuple[str, ...] = TRAIN_TEMPLATES) -> list[str]:
    """Every fact in every training template: the fine-tuning set."""
    return [t.format(name=f.name, desc=f.desc) for f in facts for t in templates]
