"""The command-line interface: thin typer modules over the library's public functions.

The root group (`_app.app`) knows every command by name; a command's module, and the
libraries it needs, are imported only when that command runs.
"""

from quicktakes.cli._app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
