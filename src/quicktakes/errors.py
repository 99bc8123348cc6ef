"""The library's errors: the CLI turns each into a one-line message and exit code 2."""


class QuicktakesError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(QuicktakesError, ValueError):
    """A parameter is outside its valid range or of the wrong shape."""


class UnknownNameError(QuicktakesError, KeyError):
    """A name (claim id, strategy, environment) is not in its registry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class StoreError(QuicktakesError):
    """A database file is unreadable, corrupt, or refuses a change."""


class InputFileError(QuicktakesError):
    """An input file is malformed; the message names the line or record."""


class BackendError(QuicktakesError):
    """A model backend failed: server unreachable after retries, model file missing."""
