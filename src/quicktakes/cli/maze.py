"""`quicktakes maze show|play|run`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import platformdirs
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from quicktakes.cli._app import app
from quicktakes.cli.output import JSON_OPTION, emit_json
from quicktakes.config import validated
from quicktakes.maze.grid import MOVES, MazeConfig, max_coins, maze_for_seed

maze_app = typer.Typer(help="The gold-coin maze lab.", no_args_is_help=True)
app.add_typer(maze_app, name="maze")


def _maze_cfg(size: int, walls: float, coins: int, steps: int) -> MazeConfig:
    return validated(MazeConfig, size=size, wall_density=walls, coins=coins, max_steps=steps)


SIZE = typer.Option(6, help="grid side")
WALLS = typer.Option(0.25, help="wall density")
COINS = typer.Option(3, help="coins per maze")
STEPS = typer.Option(12, help="moves per episode")


@maze_app.command("show")
def show_cmd(
    seed: int = typer.Option(0),
    size: int = SIZE,
    walls: float = WALLS,
    coins: int = COINS,
    steps: int = STEPS,
) -> None:
    """Print a maze and the most coins collectable within the step limit."""
    maze = maze_for_seed(_maze_cfg(size, walls, coins, steps), seed)
    typer.echo(maze.render())
    typer.echo(
        f"coins: {len(maze.coins)}, collectable in {maze.max_steps} moves: {max_coins(maze)}"
    )


@maze_app.command("play")
def play_cmd(
    seed: int = typer.Option(0),
    size: int = SIZE,
    walls: float = WALLS,
    coins: int = COINS,
    steps: int = STEPS,
) -> None:
    """Play a maze in the terminal: type U, D, L or R (and Enter) for each move; Q quits."""
    maze = maze_for_seed(_maze_cfg(size, walls, coins, steps), seed)
    best = max_coins(maze)
    pos, got = maze.start, frozenset[int]()
    for t in range(maze.max_steps):
        typer.echo(maze.render(pos, got))
        move = typer.prompt(f"move {t + 1}/{maze.max_steps} (U/D/L/R, Q to quit)").strip().upper()
        if move == "Q":
            break
        if move not in MOVES:
            typer.echo("U, D, L or R, please")
            continue
        pos = maze.move(pos, MOVES.index(move))
        if pos in maze.coins:
            got = got | {maze.coins.index(pos)}
        if len(got) == len(maze.coins):
            break
    typer.echo(maze.render(pos, got))
    typer.echo(
        f"you collected {len(got)} of {best} collectable coins (normalized {len(got) / best:.2f})"
    )


@maze_app.command("run")
def run_cmd(
    method: str = typer.Option("few-shot", help="random | zero-shot | best-of-n | few-shot"),
    mode: str = typer.Option("step", help="step (one move per call) | plan (all moves at once)"),
    backend: str = typer.Option("local", help="local (embedded SmolLM2) | openai"),
    model: str = typer.Option(None, help="a GGUF path (local) or a served model id (openai)"),
    base_url: str = typer.Option(None, envvar="OPENAI_BASE_URL", help="OpenAI-compatible URL"),
    concurrency: int = typer.Option(4, help="parallel requests (openai)"),
    iterations: int = typer.Option(2),
    samples: int = typer.Option(4, help="N: episodes per maze per iteration"),
    shots: int = typer.Option(6, help="K: few-shot examples"),
    train_mazes: int = typer.Option(4),
    test_mazes: int = typer.Option(6),
    temperature: float = typer.Option(0.7),
    seed: int = typer.Option(0),
    size: int = SIZE,
    walls: float = WALLS,
    coins: int = COINS,
    steps: int = STEPS,
    out: Path = typer.Option(None, help="where to save the run (default: user data dir)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run one method on held-out mazes; every run is saved with its config."""
    from quicktakes.llm import SampleCache, make_backend
    from quicktakes.maze.methods import LabConfig, run_lab
    from quicktakes.maze.policy import LLMPolicy

    cfg = validated(
        LabConfig,
        method=method,
        mode=mode,
        iterations=iterations,
        samples=samples,
        shots=shots,
        train_mazes=train_mazes,
        test_mazes=test_mazes,
        temperature=temperature,
        seed=seed,
        maze=_maze_cfg(size, walls, coins, steps),
    )
    policy = None
    be = None
    if cfg.method != "random":
        be = make_backend(backend, model, base_url, None, concurrency)
        policy = LLMPolicy(be, SampleCache(), cfg.mode, cfg.temperature)
    start = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rate]}"),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None, rate="")

        def note(text: str) -> None:
            rate = ""
            if be is not None and be.usage.seconds > 0:
                u = be.usage
                rate = (
                    f"{u.calls / u.seconds:.1f} calls/s, "
                    f"{(u.prompt_tokens + u.completion_tokens) / u.seconds:.0f} tokens/s"
                )
            progress.update(task, description=text, rate=rate)

        result = run_lab(cfg, policy, note)
    data = result.to_dict() | {"seconds": round(time.perf_counter() - start, 2)}
    folder = out or Path(platformdirs.user_data_dir("quicktakes")) / "maze-runs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{cfg.method}-{cfg.mode}-{int(time.time())}.json"
    path.write_text(json.dumps(data, indent=2))
    if be is not None:
        be.close()
    if as_json:
        emit_json(data | {"saved": str(path)})
        return
    t = Table(
        "iteration",
        "samples used",
        "normalized coins (95% CI)",
        "invalid",
        "examples",
        title=f"{cfg.method} ({cfg.mode}) on {result.model}",
    )
    for i in result.iterations:
        t.add_row(
            str(i.iteration),
            str(i.samples_used),
            f"{i.mean:.3f} [{i.lo:.3f}, {i.hi:.3f}]",
            f"{i.invalid_rate:.1%}",
            str(i.examples),
        )
    Console().print(t)
    typer.echo(f"saved: {path}")
