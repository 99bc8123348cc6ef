"""The take "In praise of prompting", part 1: very poor man's RL (best samples as few-shot)."""

from __future__ import annotations

from quicktakes.ledger import Claim, Evidence, Point, RunContext, Trend, Verdict, register
from quicktakes.maze.grid import MazeConfig
from quicktakes.maze.methods import LabConfig, LabResult, run_lab

TAKE = "In praise of prompting"


def _budget(ctx: RunContext) -> dict[str, int]:
    if ctx.fast:
        return {"iterations": 3, "samples": 4, "shots": 6, "train_mazes": 4, "test_mazes": 8}
    return {"iterations": 5, "samples": 8, "shots": 8, "train_mazes": 16, "test_mazes": 40}


def _trend(name: str, r: LabResult) -> Trend:
    pts = [Point(i.iteration, i.mean, i.lo, i.hi, i.n) for i in r.iterations]
    return Trend.of(
        name,
        "iteration",
        "normalized coins on held-out mazes",
        pts,
        meta={
            "samples_used": [i.samples_used for i in r.iterations],
            "invalid_rate": [round(i.invalid_rate, 4) for i in r.iterations],
        },
    )


def run_very_poor_mans_rl(ctx: RunContext) -> Evidence:
    from quicktakes.llm import SampleCache, make_backend
    from quicktakes.maze.policy import LLMPolicy

    budget = _budget(ctx)
    maze = MazeConfig()
    seed = ctx.subseed("lab")
    backend = make_backend("local")
    cache = SampleCache()
    results: dict[str, LabResult] = {}
    for method in ("random", "zero-shot", "best-of-n", "few-shot"):
        cfg = LabConfig(method=method, maze=maze, seed=seed, **budget)
        policy = None if method == "random" else LLMPolicy(backend, cache, "step", cfg.temperature)
        results[method] = run_lab(cfg, policy)
    few, zero = results["few-shot"].iterations[-1], results["zero-shot"].iterations[-1]
    # The rule: an improvement needs the final few-shot interval to clear zero-shot's.
    if few.lo > zero.hi:
        verdict = Verdict.HOLDS
    elif few.hi < zero.lo:
        verdict = Verdict.FAILS
    else:
        verdict = Verdict.INCONCLUSIVE
    model = backend.model_id
    bon = results["best-of-n"].iterations[-1]
    rnd = results["random"].iterations[-1]
    finding = (
        f"On {model} (step mode, scored moves): few-shot from its own best samples reaches "
        f"{few.mean:.2f} [{few.lo:.2f}, {few.hi:.2f}] after {few.iteration} iterations vs "
        f"zero-shot {zero.mean:.2f} [{zero.lo:.2f}, {zero.hi:.2f}], best-of-{budget['samples']} "
        f"{bon.mean:.2f} and random {rnd.mean:.2f}; "
        + {
            Verdict.HOLDS: "the examples help.",
            Verdict.FAILS: "the examples hurt.",
            Verdict.INCONCLUSIVE: "the intervals overlap: no effect shown at this budget.",
        }[verdict]
    )
    measured = f"few-shot {few.mean:.2f} vs zero-shot {zero.mean:.2f} ({model.split(':')[0]})"
    trends = tuple(_trend(name, r) for name, r in results.items())
    config = {
        **budget,
        "maze": maze.model_dump(),
        "mode": "step",
        "temperature": 0.7,
        "model": model,
        "samples_used": {k: r.iterations[-1].samples_used for k, r in results.items()},
        "rule": "holds if few-shot's final 95% CI lies above zero-shot's; fails if "
        "below; inconclusive if they overlap",
    }
    backend.close()
    return Evidence(verdict, finding, measured, trends, config)


VERY_POOR = register(
    Claim(
        id="prompting.very-poor-mans-rl",
        take=TAKE,
        quote=(
            'Actually, you can just do "very poor man\'s RL", i.e. prompting: instead of doing '
            "supervised fine-tuning on the data, you simply use the data as few-shot examples "
            "in your prompt."
        ),
        holds_if=(
            "on held-out mazes, the prompt built from the model's own best samples beats "
            "zero-shot with non-overlapping 95% intervals"
        ),
        run=run_very_poor_mans_rl,
    )
)
