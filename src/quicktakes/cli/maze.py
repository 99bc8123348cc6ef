"""`quicktakes maze show|play|run|compare`: thin wrappers over `quicktakes.maze.lab.run`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from quicktakes.cli._app import about, commands
from quicktakes.cli.output import JSON_OPTION, emit_json, noting, stderr_progress
from quicktakes.config import validated
from quicktakes.errors import ConfigError
from quicktakes.maze.grid import MOVES, MazeConfig, maze_for_seed
from quicktakes.maze.methods import LabResult
from quicktakes.maze.spec import DEFAULT_MAZE, METHODS, BackendSpec, LabSpec
from quicktakes.paths import output_dir

app = commands()

maze_app = typer.Typer(help=about("maze"), no_args_is_help=True)
app.add_typer(maze_app, name="maze")

_FLAGS = {
    "concurrency": "--concurrency",
    "size": "--size",
    "wall_density": "--walls",
    "coins": "--coins",
    "max_steps": "--steps",
    "train_mazes": "--train-mazes",
    "test_mazes": "--test-mazes",
    "max_pairs": "--max-pairs",
}


def _field(model: type[Any], name: str, default: Any) -> Any:
    """An option whose default is None (the spec's own default applies) and whose help is the
    field's description with that default."""
    desc = model.model_fields[name].description or ""
    return typer.Option(None, help=f"{desc} [default: {default}]")


def _spec_opt(name: str) -> Any:
    f = LabSpec.model_fields[name]
    default = f.default if f.default_factory is None else "see spec"
    return _field(LabSpec, name, default)


def _maze_opt(name: str) -> Any:
    return _field(MazeConfig, name, getattr(DEFAULT_MAZE, name))


def _renamed(exc: ConfigError) -> ConfigError:
    """Name the option the user typed, not the spec's field."""
    msg = str(exc)
    for field, flag in _FLAGS.items():
        msg = msg.replace(f"maze.{field}:", f"{flag}:").replace(f"{field}:", f"{flag}:")
    return ConfigError(msg)


def check_precision(name: str) -> None:
    """bf16 asked for where it cannot run fails here, before any folder is made."""
    from quicktakes.llm.precision import resolve

    resolve(name)


def _maze_cfg(
    size: int | None, walls: float | None, coins: int | None, steps: int | None
) -> MazeConfig:
    try:
        return validated(MazeConfig, size=size, wall_density=walls, coins=coins, max_steps=steps)
    except ConfigError as exc:
        raise _renamed(exc) from None


SIZE = _maze_opt("size")
WALLS = _maze_opt("wall_density")
COINS = _maze_opt("coins")
STEPS = _maze_opt("max_steps")
SEED = typer.Option(0, help="the maze's seed (show, play) or the run's seed")


@maze_app.command("show")
def show_cmd(
    seed: int = SEED,
    size: int = SIZE,
    walls: float = WALLS,
    coins: int = COINS,
    steps: int = STEPS,
    obs: str = typer.Option(None, help="also print what a model reads: grid | coins | nearest"),
) -> None:
    """Print a maze, the most coins collectable within the step limit, and an observation."""
    from quicktakes.maze.env import observation, start_state
    from quicktakes.maze.oracle import solve

    maze = maze_for_seed(_maze_cfg(size, walls, coins, steps), seed)
    typer.echo(maze.render())
    typer.echo(
        f"coins: {len(maze.coins)}, collectable in {maze.max_steps} moves: {solve(maze).optimum}"
    )
    if obs:
        o = observation(obs)
        typer.echo(f"[{o.name}] {o.system}\n{o.render(maze, start_state(maze), 'step')}")


@maze_app.command("play")
def play_cmd(
    seed: int = SEED,
    size: int = SIZE,
    walls: float = WALLS,
    coins: int = COINS,
    steps: int = STEPS,
) -> None:
    """Play a maze yourself. On a terminal: arrow keys or WASD, q quits, the board redraws in
    place. Piped: one of U, D, L, R (or Q) per line."""
    import sys

    from quicktakes.maze.env import GoldMazeEnv

    env = GoldMazeEnv(render_mode="ansi", **_maze_cfg(size, walls, coins, steps).model_dump())
    env.reset(options={"maze": maze_for_seed(env.cfg, seed)})
    if sys.stdin.isatty() and sys.stdout.isatty():
        _play_keys(env)
    else:
        _play_lines(env)
    got, best = env.state.coins, env.optimum
    typer.echo(f"you collected {got} of {best} collectable coins (normalized {got / best:.2f})")


LEGEND = "@ you   o coin   # wall   . floor"
KEYS = {"\x1b[A": "U", "\x1b[B": "D", "\x1b[C": "R", "\x1b[D": "L",
        "w": "U", "s": "D", "a": "L", "d": "R", "W": "U", "S": "D", "A": "L", "D": "R"}
"""Single keys on a terminal: arrows and WASD (so 'd' is right, as in games)."""


def key_move(key: str) -> str | None:
    """U/D/L/R for a move key, 'Q' to quit, None for anything else (no move used)."""
    if key in ("q", "Q", "\x03", "\x04"):
        return "Q"
    return KEYS.get(key)


def _board(env: Any) -> str:
    total = len(env.maze.coins)
    return (
        f"{env.render()}\n\n{LEGEND}\n"
        f"coins {env.state.coins}/{total} (best possible {env.optimum})   "
        f"move {env.state.t}/{env.maze.max_steps}"
    )


def _read_key() -> str:
    """One key press, arrows included, from a terminal in raw mode."""
    import os
    import sys
    import termios
    import tty

    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        key = os.read(fd, 1).decode(errors="ignore")
        if key == "\x1b":
            key += os.read(fd, 2).decode(errors="ignore")
        return key
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def _play_keys(env: Any) -> None:
    from rich.live import Live
    from rich.text import Text

    hint = "arrows or WASD to move, q to quit"
    with Live(Text(_board(env) + f"\n{hint}"), auto_refresh=False, transient=False) as live:
        while True:
            move = key_move(_read_key())
            if move == "Q":
                break
            if move is None:
                continue  # an invalid key uses no move
            _, _, term, trunc, _ = env.step(MOVES.index(move))
            live.update(Text(_board(env) + f"\n{hint}"), refresh=True)
            if term or trunc:
                break


def _play_lines(env: Any) -> None:
    typer.echo(LEGEND)
    while True:
        typer.echo(_board(env))
        move = typer.prompt(f"move {env.state.t + 1}/{env.maze.max_steps} (U/D/L/R, Q to quit)")
        move = move.strip().upper()
        if move == "Q":
            return
        if move not in MOVES:
            typer.echo("U, D, L or R, please (no move used)")
            continue
        _, _, term, trunc, _ = env.step(MOVES.index(move))
        if term or trunc:
            typer.echo(_board(env))
            return


@maze_app.command("run")
def run_cmd(
    method: str = typer.Option("few-shot", help=f"one of: {' | '.join((*METHODS, 'q-table'))}"),
    mode: str = _spec_opt("mode"),
    obs: str = _spec_opt("obs"),
    backend: str = typer.Option(
        BackendSpec.model_fields["kind"].default,
        help="hf (the embedded SmolLM2 in torch, batched scoring, step mode) | local (the "
        "same GGUF in llama.cpp, the quicktakes[llamacpp] extra; plan mode too) | openai "
        "(a server)",
    ),
    model: str = typer.Option(None, help="a GGUF path (local) or a served model id (openai)"),
    base_url: str = typer.Option(None, envvar="OPENAI_BASE_URL", help="OpenAI-compatible URL"),
    concurrency: int = typer.Option(4, help="parallel requests (openai)"),
    iterations: int = _spec_opt("iterations"),
    samples: int = _spec_opt("samples"),
    shots: int = _spec_opt("shots"),
    train_mazes: int = _spec_opt("train_mazes"),
    test_mazes: int = _spec_opt("test_mazes"),
    temperature: float = _spec_opt("temperature"),
    lr: float = typer.Option(
        None, help="fine-tuning: AdamW learning rate [default: 3e-3 LoRA, 1e-5 full]"
    ),
    finetune: str = _spec_opt("finetune"),
    epochs: int = _spec_opt("epochs"),
    batch: int = _spec_opt("batch"),
    max_pairs: int = _spec_opt("max_pairs"),
    kl: float = _spec_opt("kl"),
    clip: float = _spec_opt("clip"),
    precision: str = _spec_opt("precision"),
    train_model: str = typer.Option(
        None,
        help="fine-tuning with --backend openai: the Hugging Face checkpoint directory "
        "to train, the same weights the server serves",
    ),
    restart: bool = typer.Option(
        False, "--restart", help="sft-iter: re-fine-tune from the base weights (ReST-EM)"
    ),
    select: str = _spec_opt("select"),
    rollouts: int = _spec_opt("rollouts"),
    seed: int = typer.Option(0, help="the run's seed"),
    size: int = SIZE,
    walls: float = WALLS,
    coins: int = COINS,
    steps: int = STEPS,
    out: Path = typer.Option(
        None,
        help="run directory (default: user data dir); a fine-tuning "
        "run resumes from its last finished iteration there",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run one method on held-out mazes; every run is saved with its config."""
    from quicktakes.maze.lab import run, run_dir_name, runs_root

    maze = _maze_cfg(size, walls, coins, steps)
    folder = out or runs_root()
    start = time.perf_counter()
    if method == "q-table":
        output_dir(folder)
        result = _q_table(iterations or 3, samples or 4, test_mazes or 24, seed, maze)
        spec_name = "q-table"
    else:
        if method not in METHODS:
            raise ConfigError(
                f"unknown method {method!r}; valid: {', '.join((*METHODS, 'q-table'))}"
            )
        if backend not in ("local", "hf", "openai"):
            raise ConfigError(f"unknown backend {backend!r}; valid: local, hf, openai")
        try:
            b = validated(
                BackendSpec,
                kind=backend,
                model=model,
                base_url=base_url,
                concurrency=concurrency,
                train_model=train_model,
            )
        except ConfigError as exc:
            raise _renamed(exc) from None
        opts = dict(
            method=method,
            mode=mode,
            obs=obs,
            iterations=iterations,
            samples=samples,
            shots=shots,
            train_mazes=train_mazes,
            test_mazes=test_mazes,
            temperature=temperature,
            lr=lr,
            finetune=finetune,
            epochs=epochs,
            batch=batch,
            max_pairs=max_pairs,
            kl=kl,
            clip=clip,
            precision=precision,
            restart=restart or None,
            select=select,
            rollouts=rollouts,
            seed=seed,
        )
        try:
            spec = validated(LabSpec, **opts, maze=maze, backend=b)
        except ConfigError as exc:
            raise _renamed(exc) from None
        spec_name = f"{method}-{spec.mode}-{spec.obs}"
        if spec.trains or spec.backend.kind == "hf":
            check_precision(spec.precision)
        if spec.backend.kind == "local" and spec.needs_model and not spec.trains:
            from quicktakes.llm.local import require_llama_cpp

            require_llama_cpp()  # before any folder is made
        output_dir(folder)  # after the spec is valid: bad input leaves no folder behind
        with _progress() as (progress, task), noting(progress, task) as note:
            result = run(spec, note, folder / run_dir_name(spec))
    data = result.to_dict() | {"method": method, "seconds": round(time.perf_counter() - start, 2)}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec_name}-{int(time.time())}.json"
    path.write_text(json.dumps(data, indent=2))
    if as_json:
        emit_json(data | {"saved": str(path)})
        return
    _print_result(f"{method} on {result.model}", result)
    typer.echo(f"saved: {path}")


@contextmanager
def _progress() -> Iterator[tuple[Progress, TaskID]]:
    with stderr_progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rate]}"),
    ) as progress:
        yield progress, progress.add_task("starting", total=None, rate="")


def _q_table(
    iterations: int, samples: int, test_mazes: int, seed: int, maze: MazeConfig
) -> LabResult:
    from quicktakes.maze.compare import CompareConfig, tabular_reference

    if min(iterations, samples, test_mazes) < 1:
        raise ConfigError("iterations, samples and test mazes must be at least 1")
    cfg = CompareConfig(seed=seed, maze=maze)
    grid = tuple(samples * 2**k for k in range(iterations))
    result = tabular_reference(cfg, grid, test_mazes)
    return result


def _print_result(title: str, result: LabResult) -> None:
    t = Table(
        "iteration", "samples used", "normalized coins (95% CI)", "invalid", "examples", title=title
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


@maze_app.command("compare")
def compare_cmd(
    budget: str = typer.Option("fast", help="fast | full (sizes in quicktakes.maze.compare)"),
    obs: str = typer.Option("coins", help="what every model reads: grid | coins | nearest"),
    seed: int = typer.Option(0, help="the comparison's seed"),
    precision: str = typer.Option("auto", help="auto | bf16 | fp32 (auto: bf16 where native)"),
    start_from: str = typer.Option(
        "base", "--start",
        help="base | warm: every method from the same model after oracle-BC updates",
    ),
    warm_updates: int = typer.Option(
        2, "--warm-updates", help="--start warm: oracle-BC updates before the comparison"
    ),
    tune: bool = typer.Option(
        None, "--tune/--no-tune",
        help="choose each learner's rate on training mazes first [default: no]",
    ),
    out: Path = typer.Option(None, help="where to write compare.json and compare.svg"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every method on the same mazes and budget; the comparison figure (SVG)."""
    from quicktakes.maze.compare import CompareConfig, comparison_trends, run_compare
    from quicktakes.maze.lab import runs_root
    from quicktakes.report.plot import trends_svg

    cfg = validated(CompareConfig, budget=budget, seed=seed, obs=obs, precision=precision,
                    start=start_from, tune=tune, warm_updates=warm_updates)
    check_precision(cfg.precision)
    folder = output_dir(out) if out else runs_root()
    start = time.perf_counter()
    with _progress() as (progress, task), noting(progress, task) as note:
        runs = run_compare(cfg, note=note)
    data = {
        "config": cfg.model_dump(),
        "seconds": round(time.perf_counter() - start, 1),
        "methods": {k: r.to_dict() for k, r in runs.items()},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compare.json").write_text(json.dumps(data, indent=2, default=str))
    trends = comparison_trends(runs)
    (folder / "compare.svg").write_text(trends_svg(trends))
    if as_json:
        emit_json(data)
        return
    for k, r in runs.items():
        _print_result(k, r)
    typer.echo(f"figure: {(folder / 'compare.svg').resolve()} ({data['seconds']} s)")
