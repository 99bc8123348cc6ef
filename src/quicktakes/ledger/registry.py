"""The claim registry: each experiment family's catalog declares its claims; the experiments
behind them are imported only when a claim runs.

Families are the built-in catalogs below and any module a package declares under the entry
point group `quicktakes.families` (how a third party adds a family, the way `llm` plugins add
models).
"""

from __future__ import annotations

import importlib

from quicktakes.errors import UnknownNameError
from quicktakes.ledger.claim import Claim

FAMILIES: tuple[str, ...] = (
    "quicktakes.games.catalog",
    "quicktakes.nof1.catalog",
    "quicktakes.reward.catalog",
    "quicktakes.maze.catalog",
    "quicktakes.insights.catalog",
)
ENTRY_POINTS = "quicktakes.families"
_CLAIMS: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    if claim.id in _CLAIMS and _CLAIMS[claim.id] is not claim:
        raise ValueError(f"claim id {claim.id!r} registered twice")
    _CLAIMS[claim.id] = claim
    return claim


def families() -> list[str]:
    """The catalog modules: built-in first, then those of installed plugins."""
    from importlib.metadata import entry_points

    extra = [ep.value for ep in entry_points(group=ENTRY_POINTS) if ep.value not in FAMILIES]
    return [*FAMILIES, *extra]


def _load_families() -> None:
    for module in families():
        importlib.import_module(module)


def _family_rank(claim: Claim) -> int:
    packages = [f.rpartition(".")[0] for f in families()]
    module = claim.module
    return next((i for i, p in enumerate(packages) if module.startswith(p)), len(packages))


def all_claims() -> list[Claim]:
    """Every registered claim, families in FAMILIES order (not import order)."""
    _load_families()
    return sorted(_CLAIMS.values(), key=_family_rank)


def get_claim(claim_id: str) -> Claim:
    _load_families()
    try:
        return _CLAIMS[claim_id]
    except KeyError:
        valid = ", ".join(_CLAIMS)
        raise UnknownNameError(f"unknown claim {claim_id!r}; valid ids: {valid}") from None
