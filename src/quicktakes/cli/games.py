"""`quicktakes lottery`, `quicktakes ipd`, `quicktakes newcomb`."""

from __future__ import annotations

import dataclasses

import typer
from rich.console import Console
from rich.table import Table

from quicktakes.cli._app import about, commands
from quicktakes.cli.output import JSON_OPTION, emit_json
from quicktakes.config import validated
from quicktakes.games.populations import POPULATIONS

app = commands()


@app.command("lottery", help=about("lottery"))
def lottery_cmd(
    p: float = typer.Option(0.4, help="chance the risky button pays"),
    prize: float = typer.Option(3.0, help="what the risky button pays"),
    sure: float = typer.Option(1.0, help="what the sure button pays"),
    presses: int = typer.Option(100, help="number of presses"),
    margin: float = typer.Option(0.0, help="count 'more' only above (1 + margin) x sure total"),
    as_json: bool = JSON_OPTION,
) -> None:
    from quicktakes.games import lottery

    cfg = validated(
        lottery.LotterySpec, p=p, prize=prize, sure=sure, presses=presses, margin=margin
    )
    o = lottery.odds(cfg)
    data = {
        "config": cfg.model_dump(),
        **dataclasses.asdict(o),
        "hoeffding_bound": (lottery.hoeffding_bound(cfg)),
    }
    if as_json:
        emit_json(data)
        return
    t = Table(f"outcome after {cfg.presses} presses", "probability (exact)")
    t.add_row("risky total > sure total", f"{o.p_more:.6g}")
    t.add_row("risky total = sure total", f"{o.p_equal:.6g}")
    t.add_row("risky total < sure total", f"{o.p_less:.6g}")
    if cfg.margin:
        t.add_row(f"risky total > {1 + cfg.margin:g} x sure total", f"{o.p_a_lot_more:.6g}")
    Console().print(t)


@app.command("ipd", help=about("ipd"))
def ipd_cmd(
    turns: int = typer.Option(100, help="rounds per match"),
    strategy: list[str] = typer.Option(
        None, "--strategy", "-s", help="Axelrod strategy name (repeat); overrides --population"
    ),
    population: str = typer.Option(
        "classic", help=f"a named population when no -s is given: {', '.join(POPULATIONS)}"
    ),
    repetitions: int = typer.Option(5, help="independent repetitions"),
    noise: float = typer.Option(0.0, help="chance each move is flipped"),
    seed: int = typer.Option(0, help="tournament seed"),
    list_names: bool = typer.Option(False, "--list", help="list every Axelrod strategy name"),
    as_json: bool = JSON_OPTION,
) -> None:
    from quicktakes.games import ipd

    if list_names:
        names = ipd.strategy_names()
        emit_json(names) if as_json else typer.echo("\n".join(names))
        return
    cfg = validated(
        ipd.IPDSpec,
        turns=turns,
        repetitions=repetitions,
        noise=noise,
        strategies=tuple(strategy) if strategy else ipd.population(population),
    )
    with Console(stderr=True).status("importing axelrod and playing the tournament"):
        result = ipd.tournament(cfg, seed=seed)
    if as_json:
        emit_json(result.to_dict())
        return
    t = Table("rank", "strategy", "mean score / turn", "95% CI", title=f"{cfg.turns} rounds")
    for s in result.standings:
        t.add_row(str(result.rank_of(s.name)), s.name, f"{s.mean:.3f}", f"[{s.lo:.3f}, {s.hi:.3f}]")
    Console().print(t)


@app.command("newcomb", help=about("newcomb"))
def newcomb_cmd(
    rounds: int = typer.Option(10, help="rounds of the iterated game"),
    accuracy: float = typer.Option(0.99, help="P(the predictor's rule is right)"),
    predictor: str = typer.Option("last", help="last | majority: what the predictor uses"),
    episodes: int = typer.Option(1000, min=1, help="simulated games per player"),
    seed: int = typer.Option(0, help="seed of the predictor's noise"),
    as_json: bool = JSON_OPTION,
) -> None:
    from quicktakes.games import newcomb
    from quicktakes.rng import make_rng

    cfg = validated(newcomb.NewcombSpec, rounds=rounds, accuracy=accuracy, predictor=predictor)
    outcomes = newcomb.play_all(cfg, episodes, make_rng(seed, "newcomb"))
    threshold = newcomb.one_shot_threshold(cfg.big, cfg.small)
    pays_above = newcomb.threshold_accuracy(cfg)
    pays_from = newcomb.rounds_needed(cfg)
    if as_json:
        emit_json(
            {
                "config": cfg.model_dump(),
                "one_shot_threshold": threshold,
                "commit_pays_above_accuracy": pays_above,
                "commit_pays_from_rounds": pays_from,
                "players": [dataclasses.asdict(o) for o in outcomes],
            }
        )
        return
    t = Table(
        "player",
        "plan (1=one-box)",
        "expected $/round",
        "simulated $/round (95% CI)",
        title=f"{cfg.rounds} rounds, accuracy {cfg.accuracy}",
    )
    for o in outcomes:
        plan = o.plan if len(o.plan) <= 24 else o.plan[:10] + "…" + o.plan[-10:]
        t.add_row(
            o.player,
            plan,
            f"{o.expected_per_round:,.0f}",
            f"{o.simulated_per_round:,.0f} [{o.lo:,.0f}, {o.hi:,.0f}]",
        )
    Console().print(t)
    typer.echo(f"one-shot: one-boxing has the higher EV iff accuracy > {threshold:.4f}")
    above = "no accuracy" if pays_above is None else f"accuracy > {pays_above:.4f}"
    typer.echo(f"over {cfg.rounds} rounds committing to one-box pays over two-boxing at {above}")
    since = "within 1000 rounds: never" if pays_from is None else f"from {pays_from} rounds on"
    typer.echo(f"at accuracy {cfg.accuracy:g} committing pays {since}")
