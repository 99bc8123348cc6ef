"""Verdicts a claim can receive; each is computed from the data, never written in."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    HOLDS = "holds"
    PARTLY = "partly"
    FAILS = "fails"
    DISCREPANCY = "discrepancy"
    """The seed's own stated numbers disagree with its data or with an exact computation."""
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"
    """The experiment raised; the message is the finding."""
