"""`quicktakes maze show|play|run`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from quicktakes.cli._app import app
from quicktakes.cli.output import JSON_OPTION, emit_json, stderr_progress
from quicktakes.config import validated
from quicktakes.errors import ConfigError
from quicktakes.maze.grid import MOVES, MazeConfig, max_coins, maze_for_seed
from quicktakes.maze.methods import LabConfig, LabResult
from quicktakes.maze.policy import advance

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
        pos, got = advance(maze, pos, got, MOVES.index(move))
        if len(got) == len(maze.coins):
            break
    typer.echo(maze.render(pos, got))
    typer.echo(
        f"you collected {len(got)} of {best} collectable coins (normalized {len(got) / best:.2f})"
    )


@maze_app.command("run")
def run_cmd(
    method: str = typer.Option(
        "few-shot", help="random | zero-shot | best-of-n | few-shot | sft-iter | rl | q-table"
    ),
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
    lr: float = typer.Option(
        None, help="sft-iter / rl: AdamW learning rate (default 1e-3 LoRA, 1e-5 full)"
    ),
    finetune: str = typer.Option("lora", help="sft-iter / rl: lora (peft) | full (every weight)"),
    train_model: str = typer.Option(
        None,
        help="sft-iter / rl with --backend openai: the Hugging Face checkpoint directory "
        "to train, the same weights the server serves",
    ),
    restart: bool = typer.Option(
        False,
        "--restart",
        help="sft-iter: re-fine-tune from the base weights each iteration (ReST-EM)",
    ),
    seed: int = typer.Option(0),
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
    maze = _maze_cfg(size, walls, coins, steps)
    folder = out or Path(platformdirs.user_data_dir("quicktakes")) / "maze-runs"
    start = time.perf_counter()
    result: LabResult
    with _progress() as (progress, task):
        note = _noter(progress, task)
        if method in ("sft-iter", "rl"):
            result = _train(
                backend,
                model,
                train_model,
                base_url,
                concurrency,
                finetune,
                method,
                iterations,
                samples,
                train_mazes,
                test_mazes,
                temperature,
                lr,
                restart,
                seed,
                maze,
                folder,
                note,
            )
        elif method == "q-table":
            result = _q_table(iterations, samples, test_mazes, seed, maze)
        else:
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
                maze=maze,
            )
            result = _prompting(cfg, backend, model, base_url, concurrency, note)
    data = result.to_dict() | {"method": method, "seconds": round(time.perf_counter() - start, 2)}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{method}-{mode}-{int(time.time())}.json"
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


def _noter(progress: Progress, task: TaskID) -> Callable[[str], None]:
    def note(text: str) -> None:
        progress.update(task, description=text)

    return note


def _prompting(
    cfg: LabConfig,
    backend: str,
    model: str | None,
    base_url: str | None,
    concurrency: int,
    note: Callable[[str], None],
) -> LabResult:
    from quicktakes.llm import SampleCache, make_backend
    from quicktakes.maze.methods import run_lab
    from quicktakes.maze.policy import LLMPolicy

    if cfg.method == "random":
        return run_lab(cfg, None, note)
    be = make_backend(backend, model, base_url, None, concurrency)

    def with_rate(text: str) -> None:
        u = be.usage
        rate = ""
        if u.seconds > 0:
            rate = (
                f" ({u.calls / u.seconds:.1f} calls/s, "
                f"{(u.prompt_tokens + u.completion_tokens) / u.seconds:.0f} tokens/s)"
            )
        note(text + rate)

    try:
        return run_lab(cfg, LLMPolicy(be, SampleCache(), cfg.mode, cfg.temperature), with_rate)
    finally:
        be.close()


def _train(
    backend: str,
    model: str | None,
    train_model: str | None,
    base_url: str | None,
    concurrency: int,
    finetune: str,
    method: str,
    iterations: int,
    samples: int,
    train_mazes: int,
    test_mazes: int,
    temperature: float,
    lr: float | None,
    restart: bool,
    seed: int,
    maze: MazeConfig,
    folder: Path,
    note: Callable[[str], None],
) -> LabResult:
    """Train in torch here; sample here too, or (`--backend openai`) from a vLLM server."""
    from quicktakes.llm import BACKENDS, SampleCache
    from quicktakes.llm.hf import HFBackend
    from quicktakes.llm.remote import OpenAIBackend, ServedAdapters
    from quicktakes.maze.train import TrainConfig, run_training

    cfg = validated(
        TrainConfig,
        method=method,
        iterations=iterations,
        samples=samples,
        train_mazes=train_mazes,
        test_mazes=test_mazes,
        temperature=temperature,
        finetune=finetune,
        lr=lr,
        restart=restart,
        seed=seed,
        maze=maze,
    )
    served = None
    weights: Path | None
    if backend == "openai":
        if not train_model:
            raise ConfigError(
                "--backend openai with sft-iter/rl needs --train-model: the checkpoint "
                "directory the server serves, to fine-tune here"
            )
        served = ServedAdapters(OpenAIBackend(base_url, model, None, concurrency))
        weights = _existing(train_model)
    elif backend == "local":
        weights = _existing(model) if model else None
    else:
        raise ConfigError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    run_dir = folder / f"{method}-{cfg.finetune}-seed{seed}"
    trainer = HFBackend(weights, seed=seed, finetune=cfg.finetune)
    return run_training(cfg, trainer, SampleCache(), run_dir, note, served)


def _existing(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"no such model file or directory: {p}")
    return p


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
    budget: str = typer.Option("fast", help="fast | full"),
    seed: int = typer.Option(0),
    out: Path = typer.Option(None, help="where to write compare.json and compare.svg"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every method on the same mazes and budget; the comparison figure (SVG)."""
    from quicktakes.maze.compare import CompareConfig, comparison_trends, run_compare
    from quicktakes.report.plot import trends_svg

    cfg = validated(CompareConfig, budget=budget, seed=seed)
    start = time.perf_counter()
    with _progress() as (progress, task):
        runs = run_compare(cfg, note=_noter(progress, task))
    data = {
        "config": cfg.model_dump(),
        "seconds": round(time.perf_counter() - start, 1),
        "methods": {k: r.to_dict() for k, r in runs.items()},
    }
    folder = out or Path(platformdirs.user_data_dir("quicktakes")) / "maze-runs"
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
