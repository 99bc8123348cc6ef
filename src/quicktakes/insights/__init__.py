"""Insights about training, measured: the reversal curse and verified training with rollback.

The names below load on first use (PEP 562): importing the package costs nothing.
"""

from quicktakes._lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
        "ReversalSpec": "reversal",
        "ReversalResult": "reversal",
        "run_reversal": "reversal",
        "RollbackSpec": "rollback",
        "RollbackResult": "rollback",
        "run_rollback": "rollback",
        "make_facts": "facts",
    },
)
