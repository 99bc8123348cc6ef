"""The root command group: every user error ends as one line on stderr and exit code 2."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from quicktakes.errors import QuicktakesError

EXIT_USER_ERROR = 2

COMMANDS: dict[str, tuple[str, str]] = {
    "reproduce": (
        "reproduce",
        "Run every claim (or the ones named) and write index.html and results.json.",
    ),
    "claims": (
        "reproduce",
        "List every claim: id, the take it comes from, and what would make it hold.",
    ),
    "lottery": (
        "games",
        "Exact odds that always pressing the risky button ends with more money than the sure one.",
    ),
    "ipd": ("games", "A round-robin iterated prisoner's dilemma tournament (Axelrod library)."),
    "newcomb": (
        "games",
        "Iterated Newcomb's problem: every player against a predictor that learns from the past.",
    ),
    "qlearn": (
        "reward",
        "Q-learning with a designed reward: does it reach the target policy or values?",
    ),
    "steer": (
        "reward",
        "Steer an MLP's weights to a random target with chosen pairs and learning rates.",
    ),
    "reversal": (
        "insights",
        "The reversal curse: fine-tune on 'name is description' facts, then ask both ways.",
    ),
    "rollback": (
        "insights",
        "Verified training with rollback: how often one step goes from verified-good to bad.",
    ),
    "trial": ("trial", "Randomized N-of-1 self-experiments: plan, log, analyse."),
    "maze": ("maze", "The gold-coin maze lab."),
    "llm": ("llm", "Model backends and the sample cache."),
}
"""Every command: the `quicktakes.cli` module that defines it, and its help (the one source:
`--help` lists it without importing any command, and the command shows it)."""


def about(name: str) -> str:
    return COMMANDS[name][1]


def commands() -> typer.Typer:
    """The Typer a command module registers its commands on, loaded when one of them runs."""
    return typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def fail(message: str) -> None:
    """Print a one-line error and exit 2: the CLI's single way to refuse input."""
    line = message.strip().splitlines()[0] if message.strip() else "invalid input"
    typer.echo(f"error: {line}", err=True)
    sys.exit(EXIT_USER_ERROR)


def _is_usage_error(exc: BaseException) -> bool:
    """Click's exception family, whichever click typer ships (recent typer vendors its own)."""
    return hasattr(exc, "format_message") and hasattr(exc, "exit_code")


class OneLineErrors(TyperGroup):
    """Turns usage errors and library errors into one line instead of a boxed traceback, and
    imports a command's module only when that command runs."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, name: str) -> Any:
        if name not in self.commands and name in COMMANDS:
            module = importlib.import_module(f"quicktakes.cli.{COMMANDS[name][0]}")
            group = typer.main.get_group(module.app)
            self.commands[name] = group.get_command(ctx, name)  # type: ignore[assignment]
        return self.commands.get(name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, summary) in COMMANDS.items()])

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
