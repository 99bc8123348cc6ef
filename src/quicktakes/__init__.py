"""quicktakes: the checkable claims of a set of research quick takes, as runnable experiments."""

__version__ = "0.1.0"
