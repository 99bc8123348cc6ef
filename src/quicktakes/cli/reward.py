"""`quicktakes qlearn` and `quicktakes steer`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from quicktakes.cli._app import about, commands
from quicktakes.cli.output import JSON_OPTION, emit_json, stderr_progress
from quicktakes.config import validated
from quicktakes.errors import ConfigError
from quicktakes.reward.design import CONSTRUCTIONS
from quicktakes.reward.mdp import GYM_ENVS
from quicktakes.reward.qlearning import QLearningConfig
from quicktakes.reward.toolkit import QLearnSpec, qlearn

app = commands()

@app.command("qlearn", help=about("qlearn"))
def qlearn_cmd(
    mdp: str = typer.Option("random", help=" | ".join(("random", *GYM_ENVS))),
    target: str = typer.Option("policy", help="policy | values"),
    construction: str = typer.Option(
        "seed", help=" | ".join(f"{k} ({c.label})" for k, c in CONSTRUCTIONS.items())
    ),
    steps: int = typer.Option(200_000, help="updates per MDP"),
    batch: int = typer.Option(100, help="MDPs (or environment copies) in the batch"),
    gamma: float = typer.Option(0.9, help="discount factor in [0, 1)"),
    exploration: str = typer.Option("uniform", help="uniform | epsilon-greedy"),
    p_terminate: float = typer.Option(0.0, help="random MDPs: mean chance an action ends it"),
    seed: int = typer.Option(0),
    as_json: bool = JSON_OPTION,
) -> None:
    q = validated(QLearningConfig, gamma=gamma, exploration=exploration)
    run = validated(
        QLearnSpec,
        mdp=mdp,
        target=target,
        construction=construction,
        steps=steps,
        batch=batch,
        p_terminate=p_terminate,
        q=q,
        seed=seed,
    )
    with stderr_progress() as progress:
        task = progress.add_task("Q-learning", total=run.steps)
        result = qlearn(run, on_progress=lambda d, t: progress.update(task, completed=d))
    if as_json:
        emit_json(dataclasses.asdict(result) | {"config": run.model_dump()})
        return
    label = (
        "worst fraction of states greedy = pi*"
        if run.target == "policy"
        else "worst max|Q-Q*|/max|Q*|"
    )
    t = Table("updates", label, "batch mean", title=f"{run.mdp}, target {run.target}")
    for s, w, m in zip(result.steps, result.metric, result.mean_metric, strict=True):
        t.add_row(f"{s:,}", f"{w:.4g}", f"{m:.4g}")
    Console().print(t)
    typer.echo(f"exact value iteration on the designed reward: {result.value_iteration:.4g}")


def _hidden(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(h) for h in text.split(",") if h.strip())
    except ValueError:
        raise ConfigError(f"--hidden must be comma-separated integers, got {text!r}") from None


def _target(path: Path) -> Any:
    """`--target`'s weights as a float64 tensor (a ConfigError unless a list of numbers)."""
    import math

    import torch

    from quicktakes.cli.specopts import load_json

    data = load_json(path, "--target")
    if not (isinstance(data, list) and data and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in data)):
        raise ConfigError(f"--target {path}: expected a JSON list of finite numbers")
    return torch.tensor(data, dtype=torch.float64)


@app.command("steer", help=about("steer"))
def steer_cmd(
    hidden: str = typer.Option("4", help="hidden widths, e.g. 8 or 16,16 ('' for a linear model)"),
    inputs: int = typer.Option(2, help="input dimension"),
    rounds: int = typer.Option(200, help="at most this many rounds"),
    max_steps: int = typer.Option(None, "--max-steps", help="at most this many SGD steps"),
    inputs_design: str = typer.Option(
        "greedy", "--inputs-design", help="random | greedy (from a wide pool) | lp (shortest path)"
    ),
    order: str = typer.Option("symmetric", help="forward | symmetric (half rate there and back)"),
    rates: str = typer.Option("trust", help="trust (damped least squares) | fraction (the sketch)"),
    shoot: int = typer.Option(
        None, help="Levenberg-Marquardt iterations on each round's rates against the unrolled "
        "steps [default: up to 5 where a round's linear estimate misses by more than it "
        "gains; 0: never]", show_default=False,
    ),
    continuation: bool = typer.Option(
        True, help="aim at nearer points on the way to the target when rounds keep failing"
    ),
    tol: float = typer.Option(1e-6, help="stop at this relative distance"),
    positive_rates: bool = typer.Option(
        False, "--positive-rates", help="only positive rates: the sign goes into the targets"
    ),
    seed: int = typer.Option(0, help="seed of the start, the target and the inputs"),
    target: Path = typer.Option(
        None, help="a JSON list: the target's weights, flat in torch's order (each layer's "
        "weight row by row, then its bias) [default: drawn from the seed]",
        show_default=False,
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    import torch

    from quicktakes.reward.steering import SteeringSpec, steer

    cfg = validated(
        SteeringSpec,
        hidden=_hidden(hidden),
        inputs=inputs,
        rounds=rounds,
        max_steps=max_steps,
        design=inputs_design,
        order=order,
        rates=rates,
        shoot=shoot,
        continuation=continuation,
        tol=tol,
        positive_rates=positive_rates,
    )
    chosen = _target(target) if target else None
    with stderr_progress() as progress:
        task = progress.add_task("steering", total=cfg.rounds)
        result = steer(
            cfg,
            torch.Generator().manual_seed(seed),
            on_progress=lambda r, t: progress.update(task, completed=r),
            note=lambda text: progress.update(task, description=f"steering: {text}"),
            target=chosen,
        )
    if as_json:
        emit_json(result.to_dict())
        return
    t = Table(
        "round", "SGD steps", "distance", "aim", "step", "path/step", "cond(G)",
        "rates < 0",
        title=f"P={result.parameters}, up to {result.pairs_per_round} pairs per round (distance: "
        "||θ-θ*||/||θ0-θ*||; aim: the share of the way the round aimed at)",
    )
    for i, d in enumerate(result.distance[1:]):
        t.add_row(
            str(i + 1), f"{result.steps[i + 1]:,}", f"{d:.2e}", f"{result.t[i]:.2f}",
            f"{result.radius[i]:.1e}",
            f"{result.cancellation[i]:.0f}", f"{result.condition[i]:.1e}",
            str(result.negative_rates[i]),
        )
    Console().print(t)
    status = "reached" if result.reached else ("stalled" if result.stalled else "not reached")
    typer.echo(
        f"{status} {cfg.tol:g} after {len(result.distance) - 1} rounds, {result.steps[-1]:,} SGD "
        f"steps ({result.rejected} rounds undone, {result.shot} corrected by shooting); kappa* "
        f"{result.kappa['start']:.0f} at the "
        f"start, {result.kappa['target']:.0f} at the target"
    )
