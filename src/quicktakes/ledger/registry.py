"""The claim registry: each experiment family registers its claims when imported."""

from __future__ import annotations

import importlib

from quicktakes.errors import UnknownNameError
from quicktakes.ledger.claim import Claim

FAMILIES: tuple[str, ...] = (
    "quicktakes.games",
    "quicktakes.nof1",
    "quicktakes.reward",
    "quicktakes.maze",
)
_CLAIMS: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    if claim.id in _CLAIMS and _CLAIMS[claim.id] is not claim:
        raise ValueError(f"claim id {claim.id!r} registered twice")
    _CLAIMS[claim.id] = claim
    return claim


def _load_families() -> None:
    for module in FAMILIES:
        importlib.import_module(module)


def _family_rank(claim: Claim) -> int:
    module = getattr(claim.run, "__module__", "")
    return next((i for i, f in enumerate(FAMILIES) if module.startswith(f)), len(FAMILIES))


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
