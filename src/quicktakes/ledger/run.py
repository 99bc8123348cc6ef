"""Run claims in isolation: one that raises becomes an `error` row; the rest still run."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any

from quicktakes import __version__
from quicktakes.ledger.claim import Budget, Claim, Evidence, RunContext
from quicktakes.ledger.registry import all_claims, get_claim
from quicktakes.ledger.verdict import Verdict
from quicktakes.progress import Note
from quicktakes.rng import seed_torch

VERSIONED = ("numpy", "scipy", "axelrod", "gymnasium", "torch", "matplotlib")


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    evidence: Evidence
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.claim.id,
            "take": self.claim.take,
            "quote": self.claim.quote,
            "holds_if": self.claim.holds_if,
            "verdict": str(self.evidence.verdict),
            "finding": self.evidence.finding,
            "measured": self.evidence.measured,
            "seconds": round(self.seconds, 3),
            "config": self.evidence.config,
            "trends": [t.to_dict() for t in self.evidence.trends],
        }


@dataclass(frozen=True)
class Report:
    seed: int
    budget: Budget
    results: tuple[ClaimResult, ...]
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "seed": self.seed,
            "budget": str(self.budget),
            "versions": self.versions,
            "claims": [r.to_dict() for r in self.results],
        }


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "quicktakes": __version__}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def machine() -> dict[str, str]:
    """What decides a number besides the seed: the thread count, and where torch ran, its
    precision and the CPU's capability (read only when a claim loaded torch)."""
    import os
    import sys

    out = {"cpu": platform.processor() or platform.machine(), "cores": str(os.cpu_count())}
    from quicktakes.llm.threads import ENV as THREADS

    if os.environ.get(THREADS):
        out["threads"] = os.environ[THREADS]
    if "torch" in sys.modules:
        import torch

        from quicktakes.llm.precision import provenance

        out |= provenance()
        out["torch_threads"] = str(torch.get_num_threads())
    return out


def run_claim(
    claim: Claim,
    budget: Budget,
    seed: int,
    note: Note | None = None,
    shared: dict[object, Any] | None = None,
) -> ClaimResult:
    """`shared`: the runs claims of one `reproduce` call share (see `RunContext.shared`)."""
    seed_torch(seed)
    ctx = RunContext(budget=budget, seed=seed, claim_id=claim.id,
                     shared={} if shared is None else shared)
    if note is not None:
        ctx = replace(ctx, note=lambda text: note(f"{claim.id}: {text}"))
    start = time.perf_counter()
    try:
        evidence = claim.experiment()(ctx)
    except Exception as exc:  # noqa: BLE001 - isolation is the point: report, don't crash
        evidence = Evidence(
            verdict=Verdict.ERROR,
            finding=f"{type(exc).__name__}: {exc}",
            measured="error",
            trends=(),
            config={"budget": str(budget), "seed": seed},
        )
    return ClaimResult(claim, evidence, time.perf_counter() - start)


def resolve(ids: Sequence[str]) -> list[Claim]:
    """The claims named by `ids` (all when empty); an unknown id raises UnknownNameError."""
    return [get_claim(i) for i in ids] if ids else all_claims()


def reproduce(
    ids: Sequence[str] = (),
    budget: Budget = Budget.FAST,
    seed: int = 0,
    on_start: Callable[[Claim], None] | None = None,
    on_done: Callable[[ClaimResult], None] | None = None,
    on_note: Note | None = None,
) -> Report:
    """Run the chosen claims (all by default) and gather their results; `on_note` hears each
    claim's phases."""
    claims = resolve(ids)
    results = []
    shared: dict[object, Any] = {}
    for claim in claims:
        if on_start:
            on_start(claim)
        result = run_claim(claim, budget, seed, on_note, shared)
        results.append(result)
        if on_done:
            on_done(result)
    return Report(seed, budget, tuple(results), library_versions() | machine())
