"""The claim ledger: claims, trends, verdicts and the registry."""

from quicktakes.ledger.claim import SEED_AUTHOR, Budget, Claim, Evidence, RunContext
from quicktakes.ledger.experiment import Experiment, Shown
from quicktakes.ledger.registry import all_claims, get_claim, register
from quicktakes.ledger.run import ClaimResult, Report, reproduce, run_claim
from quicktakes.ledger.trend import Point, Trend
from quicktakes.ledger.verdict import Verdict

__all__ = [
    "SEED_AUTHOR",
    "Budget",
    "Claim",
    "ClaimResult",
    "Evidence",
    "Experiment",
    "Point",
    "Report",
    "RunContext",
    "Shown",
    "Trend",
    "Verdict",
    "all_claims",
    "get_claim",
    "register",
    "reproduce",
    "run_claim",
]
