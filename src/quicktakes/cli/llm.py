"""`quicktakes llm cache stats|clear`."""

from __future__ import annotations

import typer

from quicktakes.cli._app import about, commands
from quicktakes.cli.output import JSON_OPTION, emit_json

app = commands()

llm_app = typer.Typer(help=about("llm"), no_args_is_help=True)
cache_app = typer.Typer(help="The SQLite sample cache.", no_args_is_help=True)
llm_app.add_typer(cache_app, name="cache")
app.add_typer(llm_app, name="llm")


@cache_app.command("stats")
def stats_cmd(as_json: bool = JSON_OPTION) -> None:
    """Entries per backend, model and kind."""
    from quicktakes.llm.cache import SampleCache

    s = SampleCache().stats()
    if as_json:
        emit_json(s)
        return
    typer.echo(f"{s['path']} ({s['size_bytes'] / 1e6:.1f} MB)")
    for e in s["entries"]:
        typer.echo(f"  {e['backend']} {e['model']} {e['kind']}: {e['count']}")


@cache_app.command("clear")
def clear_cmd(
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask before deleting"),
) -> None:
    """Delete every cached sample (asks first unless --yes)."""
    from quicktakes.llm.cache import SampleCache

    cache = SampleCache()
    if not yes and not typer.confirm(f"delete every cached sample in {cache.path}?"):
        typer.echo("nothing deleted")
        return
    typer.echo(f"removed {cache.clear()} cached samples")
