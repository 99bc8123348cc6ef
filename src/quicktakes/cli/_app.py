"""The root command group: every user error ends as one line on stderr and exit code 2."""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from quicktakes.errors import QuicktakesError

EXIT_USER_ERROR = 2


def fail(message: str) -> None:
    """Print a one-line error and exit 2: the CLI's single way to refuse input."""
    line = message.strip().splitlines()[0] if message.strip() else "invalid input"
    typer.echo(f"error: {line}", err=True)
    sys.exit(EXIT_USER_ERROR)


def _is_usage_error(exc: BaseException) -> bool:
    """Click's exception family, whichever click typer ships (recent typer vendors its own)."""
    return hasattr(exc, "format_message") and hasattr(exc, "exit_code")


class OneLineErrors(TyperGroup):
    """Turns usage errors and library errors into one line instead of a boxed traceback."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except QuicktakesError as exc:
            fail(str(exc))
        except Exception as exc:
            if not _is_usage_error(exc):
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":
                ctx = getattr(exc, "ctx", None)
                typer.echo(ctx.get_help() if ctx else exc.format_message())  # type: ignore[attr-defined]
                sys.exit(0)
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            fail(exc.format_message() + hint)  # type: ignore[attr-defined]
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    help="Run the checkable claims of the quick takes, and the tools behind them.",
)


def _version(value: bool) -> None:
    if value:
        from quicktakes import __version__

        typer.echo(f"quicktakes {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Run the checkable claims of the quick takes, and the tools behind them."""
