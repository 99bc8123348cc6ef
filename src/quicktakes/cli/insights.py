"""`quicktakes reversal run` and `quicktakes rollback run`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from quicktakes.cli._app import about, commands
from quicktakes.cli.output import JSON_OPTION, emit_json, stderr_progress
from quicktakes.config import validated

app = commands()

reversal_app = typer.Typer(help=about("reversal"), no_args_is_help=True)
rollback_app = typer.Typer(help=about("rollback"), no_args_is_help=True)
app.add_typer(reversal_app, name="reversal")
app.add_typer(rollback_app, name="rollback")


def _bar(label: str) -> Progress:
    return stderr_progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )


@reversal_app.command("run")
def reversal_run(
    finetune: str = typer.Option("full", help="lora | full"),
    facts: int = typer.Option(20, help="invented name-description facts"),
    epochs: int = typer.Option(8, help="passes over the training statements"),
    eval_every: int = typer.Option(2, help="evaluate after every this many epochs"),
    lr: float = typer.Option(None, help="learning rate (default: 3e-5 full, 1e-3 LoRA)"),
    paraphrases: int = typer.Option(6, help="training templates per fact (1-6)"),
    test_templates: int = typer.Option(2, help="test templates per direction (1-2)"),
    candidates: int = typer.Option(
        None, help="candidates each fact is ranked among (default: every fact's)"
    ),
    seed: int = typer.Option(0, help="seed of the facts, the order and the adapter"),
    precision: str = typer.Option("auto", help="auto | bf16 | fp32 (auto: bf16 where native)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Fine-tune the embedded model on invented facts stated name first, then rank each
    fact's candidates both ways: forward (name -> description) and reverse (description ->
    name)."""
    from quicktakes.insights.reversal import ReversalSpec, run_reversal

    spec = validated(
        ReversalSpec,
        finetune=finetune,
        facts=facts,
        epochs=epochs,
        eval_every=eval_every,
        lr=lr,
        paraphrases=paraphrases,
        test_templates=test_templates,
        candidates=candidates,
        precision=precision,
        seed=seed,
    )
    from quicktakes.llm.precision import resolve

    resolve(spec.precision)  # bf16 where it cannot run: one line, before the model loads
    with _bar("fine-tuning and evaluating") as progress:
        task = progress.add_task("", total=None)
        result = run_reversal(
            spec, on_progress=lambda d, t: progress.update(task, completed=d, total=t)
        )
    rows = result.checkpoint_rows()
    if as_json:
        emit_json(
            {
                "spec": spec.model_dump(),
                "model": result.model,
                "facts": [f.__dict__ for f in result.facts],
                "checkpoints": rows,
            }
        )
        return
    t = Table(
        "epoch",
        "loss",
        "forward top-1",
        "reverse top-1",
        "reverse log p right/other",
        title=f"{spec.facts} facts, {spec.finetune} fine-tuning, each ranked among "
        f"{spec.candidates or spec.facts} candidates (chance: the rule's, on the same scores)",
    )
    for c in result.checkpoints:
        f, r = c.scores["forward"], c.scores["reverse"]
        t.add_row(
            str(c.epoch),
            "" if c.loss is None else f"{c.loss:.3f}",
            f"{sum(f.top1)}/{len(f.top1)} (chance {f.chance:.2f})",
            f"{sum(r.top1)}/{len(r.top1)} (chance {r.chance:.2f})",
            f"{r.logp_right:.1f} / {r.logp_other:.1f}",
        )
    Console().print(t)
    ctl = result.checkpoints[0].scores["in-context"]
    typer.echo(
        f"control, facts in the prompt instead of trained: reverse top-1 "
        f"{sum(ctl.top1)}/{len(ctl.top1)} among the {ctl.candidates} names shown (chance "
        f"{ctl.chance:.2f})"
    )


@rollback_app.command("run")
def rollback_run(
    steps: int = typer.Option(150, help="policy-gradient updates per run"),
    seeds: int = typer.Option(8, help="mazes, one run each (plus one per verifier and rate)"),
    samples: list[int] = typer.Option(
        None,
        "--samples",
        "-k",
        help="states the verifier checks (repeat); default: coverages 5-100% of the states",
    ),
    margins: list[float] = typer.Option(
        None,
        "--margin",
        help="verifier notions (repeat): the forbidden move must stay this many logits below "
        "the best other on every checked state; 0 is the argmax check [default: 0 and 1]",
    ),
    rates: list[float] = typer.Option(
        None, "--rate", help="policy-gradient rates to sweep (repeat) [default: --lr]"
    ),
    size: int = typer.Option(7, help="maze side"),
    lr: float = typer.Option(0.01, help="Adam's learning rate (the safe start; the updates')"),
    seed: int = typer.Option(0, help="seed of the mazes, the inits and the verifier"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Train a maze policy whose reward pays for a forbidden shortcut, with and without
    undoing the updates a sampling verifier rejects; count A -> A, A -> B, A -> C steps."""
    from quicktakes.insights.rollback import RollbackSpec, make_worlds, run_rollback
    from quicktakes.insights.tally import arm_label, measure_rollback

    spec = validated(
        RollbackSpec,
        steps=steps,
        seeds=seeds,
        size=size,
        lr=lr,
        seed=seed,
        verifier_samples=tuple(samples) if samples else None,
        **({"margins": tuple(margins)} if margins else {}),
        rates=tuple(rates) if rates else None,
    )
    worlds = make_worlds(spec)
    with _bar("training") as progress:
        task = progress.add_task("", total=None)
        result = run_rollback(
            spec, lambda d, t: progress.update(task, completed=d, total=t), worlds
        )
    m = measure_rollback(result)
    arms = [
        {
            "lr": arm.lr,
            "margin": arm.verifier.margin,
            "level": arm.verifier.level,
            "a_to_c": [a.a_to_c.k, a.a_to_c.n],
            "a_to_b": [a.a_to_b.k, a.a_to_b.n],
            "kept_good": [a.kept.k, a.kept.n],
            "undone": a.undone,
            "cost": a.cost,
        }
        for arm, a in m.arms.items()
    ]
    if as_json:
        emit_json(
            {
                "spec": spec.model_dump(),
                "states": [w.world.n_states for w in result.runs],
                "without_rollback_kept_good": {
                    str(k): [v.k, v.n] for k, v in m.kept_without.items()
                },
                "arms": arms,
            }
        )
        return
    t = Table(
        "verifier, rate",
        "A->C / steps from A",
        "A->B / steps from A",
        "rollback runs kept good",
        "undone",
        "cost vs safe optimum",
        title=f"{spec.seeds} mazes x {spec.steps} updates",
    )
    for arm, a in m.arms.items():
        t.add_row(
            arm_label(spec, arm),
            str(a.a_to_c),
            str(a.a_to_b),
            str(a.kept),
            f"{a.undone:.0%}",
            f"{a.cost:+.0%}",
        )
    Console().print(t)
    for r, kept in m.kept_without.items():
        typer.echo(f"without rollback, rate {r:g}: {kept} runs end truly good")
