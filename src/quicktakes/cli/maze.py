"""`quicktakes maze show|play|run|compare`: thin wrappers over `quicktakes.maze.lab.run`."""

from __future__ import annotations

import dataclasses
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
from quicktakes.cli.specopts import build_spec, spec_options, with_options
from quicktakes.config import validated
from quicktakes.maze.grid import MazeConfig, maze_for_seed
from quicktakes.maze.methods import LabResult
from quicktakes.maze.spec import BackendSpec, LabSpec
from quicktakes.paths import atomic_write, output_dir

app = commands()

maze_app = typer.Typer(help=about("maze"), no_args_is_help=True)
app.add_typer(maze_app, name="maze")

MAZE_FLAGS = {"wall_density": "--walls", "max_steps": "--steps"}
MAZE_OPTIONS = spec_options(MazeConfig, MAZE_FLAGS)
LAB_OPTIONS = spec_options(
    LabSpec,
    flags={"backend.kind": "--backend"} | {f"maze.{k}": v for k, v in MAZE_FLAGS.items()},
    nested={"maze": MazeConfig, "backend": BackendSpec},
    envvars={"backend.base_url": "OPENAI_BASE_URL"},
)
"""`maze run`'s options: every field of LabSpec, its maze and its backend."""
SEED = typer.Option(0, help="the maze's seed")


def check_precision(name: str) -> None:
    """bf16 asked for where it cannot run fails here, before any folder is made."""
    from quicktakes.llm.precision import resolve

    resolve(name)


@maze_app.command("show")
@with_options(MAZE_OPTIONS)
def show_cmd(
    given: dict[str, Any],
    seed: int = SEED,
    obs: str = typer.Option(None, help="also print what a model reads: grid | coins | nearest"),
) -> None:
    """Print a maze, the most coins collectable within the step limit, and an observation."""
    from quicktakes.maze.env import observation, start_state
    from quicktakes.maze.oracle import solve

    maze = maze_for_seed(build_spec(MazeConfig, MAZE_OPTIONS, given), seed)
    typer.echo(maze.render())
    typer.echo(
        f"coins: {len(maze.coins)}, collectable in {maze.max_steps} moves: {solve(maze).optimum}"
    )
    if obs:
        o = observation(obs)
        typer.echo(f"[{o.name}] {o.system}\n{o.render(maze, start_state(maze), 'step')}")


@maze_app.command("play")
@with_options(MAZE_OPTIONS)
def play_cmd(given: dict[str, Any], seed: int = SEED) -> None:
    """Play a maze yourself. On a terminal: arrow keys or WASD, q quits, the board redraws in
    place. Piped: one of U, D, L, R (or Q) per line."""
    import sys

    from quicktakes.maze.env import GoldMazeEnv
    from quicktakes.maze.play import play_keys, play_lines

    cfg = build_spec(MazeConfig, MAZE_OPTIONS, given)
    env = GoldMazeEnv(render_mode="ansi", **cfg.model_dump())
    env.reset(options={"maze": maze_for_seed(cfg, seed)})
    if sys.stdin.isatty() and sys.stdout.isatty():
        play_keys(env)
    else:
        play_lines(env, typer.prompt, typer.echo)
    got, best = env.state.coins, env.optimum
    typer.echo(f"you collected {got} of {best} collectable coins (normalized {got / best:.2f})")


@maze_app.command("run")
@with_options(LAB_OPTIONS)
def run_cmd(
    given: dict[str, Any],
    spec_file: Path = typer.Option(
        None, "--spec",
        help="a JSON file of LabSpec fields (maze and backend nested); options typed override it",
    ),
    out: Path = typer.Option(
        None,
        help="where the run's folder goes (default: the user data directory); a fine-tuning "
        "run resumes from its last finished iteration there",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run one method on held-out mazes; the run's folder keeps its config and result."""
    from quicktakes.maze.lab import run, run_dir_name, runs_root

    spec = build_spec(LabSpec, LAB_OPTIONS, given, spec_file)
    if spec.trains or (spec.needs_model and spec.backend.kind == "hf"):
        check_precision(spec.precision)
    if spec.backend.kind == "local" and spec.needs_model and not spec.trains:
        from quicktakes.llm.local import require_llama_cpp

        require_llama_cpp()  # before any folder is made
    folder = output_dir(out or runs_root())  # after the spec is valid: bad input leaves nothing
    run_dir = folder / run_dir_name(spec)
    with _progress() as (progress, task), noting(progress, task) as note:
        result = run(spec, note, run_dir)
    data = result.to_dict() | {"saved": str(run_dir / "result.json")}
    if as_json:
        emit_json(data)
        return
    _print_result(f"{spec.method} on {result.model}", result)
    typer.echo(f"saved: {run_dir}")


@contextmanager
def _progress() -> Iterator[tuple[Progress, TaskID]]:
    with stderr_progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rate]}"),
    ) as progress:
        yield progress, progress.add_task("starting", total=None, rate="")


def _print_result(title: str, result: LabResult) -> None:
    """A row per iteration: its held-out score where it was scored (every iteration unless a
    checkpoint schedule spaced them), and the update that followed it."""
    from quicktakes.maze.verify import verdict

    trained = any("entropy_after" in d for d in result.updates)  # few-shot only verifies
    verified = any("kept" in d for d in result.updates)
    extra: tuple[str, ...] = ("optimal moves' probability", "update's entropy (nats)",
                              "KL moved", "shared shift") if trained else ()
    extra += ("verification mazes",) if verified else ()
    t = Table(
        "iteration", "training episodes", "normalized coins (95% CI)", "invalid", "examples",
        *extra, title=title,
    )
    scored = {i.iteration: i for i in result.iterations}
    rows = range(len(result.updates) + 1) if result.updates else sorted(scored)
    for it in rows:
        d = result.updates[it] if it < len(result.updates) else {}
        cells = (
            (f"{d['entropy_before']:.2f} -> {d['entropy_after']:.2f}"
             + (" collapsed" if d.get("collapsed") else ""), f"{d['kl_moved']:.3f}",
             f"{d['shared_shift']:.2f}" if "shared_shift" in d else "")
            if "entropy_after" in d else ("", "", "")
        )
        i = scored.get(it)
        score = (str(i.samples_used), f"{i.mean:.3f} [{i.lo:.3f}, {i.hi:.3f}]",
                 f"{i.invalid_rate:.1%}", str(i.examples)) if i else ("", "not scored", "", "")
        mass = (f"{sum(i.optimal_mass) / len(i.optimal_mass):.3f}"
                if i and i.optimal_mass else "")
        check = (verdict(d) if "kept" in d else "",)
        t.add_row(str(it), *score, *((mass, *cells) if trained else ()),
                  *(check if verified else ()))
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
    from quicktakes.maze.compare import CompareSpec, comparison_trends, learned, run_compare
    from quicktakes.maze.lab import runs_root
    from quicktakes.report.plot import trends_svg

    cfg = validated(CompareSpec, budget=budget, seed=seed, obs=obs, precision=precision,
                    start=start_from, tune=tune, warm_updates=warm_updates)
    check_precision(cfg.precision)
    folder = output_dir(out) if out else runs_root()
    start = time.perf_counter()
    with _progress() as (progress, task), noting(progress, task) as note:
        runs = run_compare(cfg, note=note)
    gains = learned(runs)
    data = {
        "config": cfg.model_dump(),
        "seconds": round(time.perf_counter() - start, 1),
        "methods": {k: r.to_dict() for k, r in runs.items()},
        "learned": {k: dataclasses.asdict(d) for k, d in gains.items()},
    }
    atomic_write(folder / "compare.json", json.dumps(data, indent=2, default=str))
    atomic_write(folder / "compare.svg", trends_svg(comparison_trends(runs)))
    if as_json:
        emit_json(data)
        return
    for k, r in runs.items():
        _print_result(k, r)
    for k, d in gains.items():
        typer.echo(f"learned, {k}: {d} (last iteration minus the {cfg.start} model it "
                   f"started from, paired over {d.n} held-out mazes, 95%)")
    typer.echo(f"figure: {(folder / 'compare.svg').resolve()} ({data['seconds']} s)")
