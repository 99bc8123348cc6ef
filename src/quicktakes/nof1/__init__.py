"""N-of-1 trials: pre-registered randomized self-experiments, tracked in SQLite and analysed
with exact randomization tests.

The names below load on first use (PEP 562): importing the package costs nothing.
"""

from quicktakes._lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
        "Analysis": "analysis",
        "TrialData": "analysis",
        "analyze": "analysis",
        "Protocol": "protocol",
        "commitment": "protocol",
        "draw_schedule": "protocol",
    },
)
