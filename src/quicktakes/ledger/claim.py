"""A checkable claim of the seed, the context its experiment runs in, and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from quicktakes.ledger.trend import Trend
from quicktakes.ledger.verdict import Verdict
from quicktakes.progress import Note, Progress
from quicktakes.rng import derive_seed, make_rng

if TYPE_CHECKING:
    import numpy as np

SEED_AUTHOR = "Olli Järviniemi"
SEED_SOURCE = "Quick takes by Olli Järviniemi (LessWrong shortform)"
SEED_URL = "https://www.lesswrong.com/quicktakes"
"""Where LessWrong lists quick takes, the author's among them."""


class Budget(StrEnum):
    FAST = "fast"
    FULL = "full"


@dataclass(frozen=True)
class RunContext:
    """What every experiment gets: the budget and one seed, from which all randomness derives."""

    budget: Budget
    seed: int
    claim_id: str = ""
    note: Note = field(default=lambda text: None, compare=False, repr=False)
    """Where a long claim says which phase it is in (method, iteration, update, evaluation):
    the CLI shows it on a bar, or as a timed line in a log. Never part of any number."""
    shared: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)
    """Runs several claims read (the maze comparison), kept for one `reproduce` call: the
    claim that asks first computes one, the others read it. Keyed by everything that decides
    the run, so what is read equals what would be computed."""

    @property
    def fast(self) -> bool:
        return self.budget is Budget.FAST

    def ticker(self, label: str, steps: int = 10) -> Progress:
        """A (done, total) callback that notes `label` with the share done, `steps` times in
        all: a claim counting thousands of updates says so ten times, not a thousand."""
        last = {"step": -1}

        def tick(done: int, total: int) -> None:
            step = done * steps // max(total, 1)
            if step > last["step"]:
                last["step"] = step
                self.note(f"{label}: {done}/{total} ({100 * done // max(total, 1)}%)")

        return tick

    def rng(self, *names: str) -> np.random.Generator:
        """A Generator private to this claim and `names`, so running a subset changes nothing."""
        return make_rng(self.seed, self.claim_id, *names)

    def subseed(self, *names: str) -> int:
        return derive_seed(self.seed, self.claim_id, *names) % (2**31)

    def shared_seed(self, *names: str) -> int:
        """A seed for a run that several claims read: it derives from the run's name, never
        from the claim that happens to ask first."""
        return derive_seed(self.seed, "shared", *names) % (2**31)


@dataclass(frozen=True)
class Evidence:
    """What an experiment returns: its trends, a computed verdict and a one-line finding."""

    verdict: Verdict
    finding: str
    measured: str
    trends: tuple[Trend, ...]
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.trends and self.verdict is not Verdict.ERROR:
            raise ValueError("evidence needs at least one trend: never a lone number")


@dataclass(frozen=True)
class Claim:
    """One checkable claim: where it comes from, what would make it hold, and how to check it."""

    id: str
    take: str
    quote: str
    holds_if: str
    run: Callable[[RunContext], Evidence] | str
    """The experiment, or "module:function" naming it: imported only when the claim runs."""
    author: str = SEED_AUTHOR

    @property
    def module(self) -> str:
        return self.run.split(":")[0] if isinstance(self.run, str) else self.run.__module__

    def experiment(self) -> Callable[[RunContext], Evidence]:
        if not isinstance(self.run, str):
            return self.run
        import importlib

        module, _, name = self.run.partition(":")
        fn: Callable[[RunContext], Evidence] = getattr(importlib.import_module(module), name)
        return fn
