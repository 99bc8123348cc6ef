"""The command-line interface: thin typer modules over the library's public functions."""

from quicktakes.cli import games as _games  # noqa: F401  (registers commands)
from quicktakes.cli import llm as _llm  # noqa: F401
from quicktakes.cli import maze as _maze  # noqa: F401
from quicktakes.cli import reproduce as _reproduce  # noqa: F401
from quicktakes.cli import reward as _reward  # noqa: F401
from quicktakes.cli import trial as _trial  # noqa: F401
from quicktakes.cli._app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
