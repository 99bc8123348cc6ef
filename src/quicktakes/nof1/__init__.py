"""N-of-1 trials: pre-registered randomized self-experiments, tracked in SQLite and analysed
with exact randomization tests."""

from quicktakes.nof1 import claims as _claims  # noqa: F401  (registers the claims)
from quicktakes.nof1.analysis import Analysis, TrialData, analyze
from quicktakes.nof1.protocol import Protocol, commitment, draw_schedule

__all__ = ["Analysis", "Protocol", "TrialData", "analyze", "commitment", "draw_schedule"]
