"""The take "In praise of prompting", part 1: very poor man's RL (best samples as few-shot)."""

from __future__ import annotations

from quicktakes.ledger import Claim, Evidence, Point, RunContext, Trend, Verdict, register
from quicktakes.maze.grid import MazeConfig
from quicktakes.maze.methods import IterationResult, LabConfig, LabResult, run_lab

TAKE = "In praise of prompting"


def _budget(ctx: RunContext) -> dict[str, int]:
    if ctx.fast:
        return {"iterations": 3, "samples": 4, "shots": 6, "train_mazes": 4, "test_mazes": 8}
    return {"iterations": 5, "samples": 8, "shots": 8, "train_mazes": 16, "test_mazes": 40}


def _improvement(after: IterationResult, before: IterationResult) -> Verdict:
    """An improvement needs `after`'s 95% interval to clear `before`'s; the reverse is a
    failure; overlap shows nothing either way."""
    if after.lo > before.hi:
        return Verdict.HOLDS
    if after.hi < before.lo:
        return Verdict.FAILS
    return Verdict.INCONCLUSIVE


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
    verdict = _improvement(few, zero)
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


# --- part 2: fine-tuning on the best samples, RL, and the comparison -------------------------

_COMPARE: dict[tuple[str, int], dict[str, LabResult]] = {}
"""Both part-2 claims read the same runs; a reproduce of both computes them once."""


def _compare(ctx: RunContext) -> dict[str, LabResult]:
    from quicktakes.maze.compare import CompareConfig, run_compare

    key = (str(ctx.budget), ctx.seed)
    if key not in _COMPARE:
        _COMPARE[key] = run_compare(
            CompareConfig(
                budget=ctx.budget.value,
                seed=ctx.subseed("compare"),
            )
        )
    return _COMPARE[key]


RESOLUTION = 0.15
"""Overlapping intervals only mean "close" when both are narrow: a half-width above this is
too wide to tell close from far, and the comparison is "unresolved"."""


def _separation(a: LabResult, b: LabResult) -> str:
    """'above' / 'below' / 'overlap' / 'unresolved': a's final 95% interval against b's."""
    x, y = a.iterations[-1], b.iterations[-1]
    if x.lo > y.hi:
        return "above"
    if x.hi < y.lo:
        return "below"
    if max(x.hi - x.lo, y.hi - y.lo) / 2 > RESOLUTION:
        return "unresolved"
    return "overlap"


def run_poor_mans_rl(ctx: RunContext) -> Evidence:
    runs = _compare(ctx)
    sft = runs["sft-iter"]
    first, last = sft.iterations[0], sft.iterations[-1]
    verdict = _improvement(last, first)
    finding = (
        f"SFT on each training maze's best of N samples (LoRA, loss on the move token) takes "
        f"held-out coins from {first.mean:.2f} [{first.lo:.2f}, {first.hi:.2f}] to "
        f"{last.mean:.2f} [{last.lo:.2f}, {last.hi:.2f}] after {last.iteration} iteration(s) "
        f"on {sft.model.split('+')[0]}; "
        + {
            Verdict.HOLDS: "an improvement beyond the intervals.",
            Verdict.FAILS: "worse, beyond the intervals.",
            Verdict.INCONCLUSIVE: "the intervals overlap at this budget.",
        }[verdict]
    )
    trend = _trend("poor man's RL (SFT on best samples)", sft)
    measured = f"{first.mean:.2f} -> {last.mean:.2f} normalized coins"
    return Evidence(verdict, finding, measured, (trend,), {"runs": sft.to_dict()["config"]})


def run_rl_vs_poor_mans_rl(ctx: RunContext) -> Evidence:
    from quicktakes.maze.compare import comparison_trends

    runs = _compare(ctx)
    rl_vs_sft = _separation(runs["rl"], runs["sft-iter"])
    sft_vs_prompt = _separation(runs["sft-iter"], runs["few-shot"])
    links = [rl_vs_sft, sft_vs_prompt]
    close = [link == "overlap" for link in links]
    # "close" = the final 95% intervals overlap and are narrow enough to mean it; both links
    # of the take's chain (RL ~ SFT, SFT ~ prompting) must be close.
    if all(close):
        verdict = Verdict.HOLDS
    elif "unresolved" in links and not any(link in ("above", "below") for link in links):
        verdict = Verdict.INCONCLUSIVE
    elif any(close):
        verdict = Verdict.PARTLY
    else:
        verdict = Verdict.FAILS
    trends = comparison_trends(runs)
    final = {k: f"{r.iterations[-1].mean:.2f}" for k, r in runs.items()}
    finding = (
        f"Final held-out coins: {', '.join(f'{k} {v}' for k, v in final.items())}. RL vs poor "
        f"man's RL: {rl_vs_sft}; poor man's RL vs very poor man's RL (few-shot): "
        f"{sft_vs_prompt} (95% intervals). Against random moves, final intervals: "
        + ", ".join(
            f"{m} {_separation(runs[m], runs['random'])}" for m in ("few-shot", "sft-iter", "rl")
        )
        + "."
    )
    measured = f"RL~PMRL: {rl_vs_sft}; PMRL~few-shot: {sft_vs_prompt}"
    config = {
        "rule": f"close = final 95% intervals overlap with half-widths <= {RESOLUTION}; holds "
        "if both RL~SFT and SFT~few-shot are close, partly if one is, inconclusive if too wide "
        "to tell, fails if separated",
        "samples_used": {k: r.iterations[-1].samples_used for k, r in runs.items()},
        "models": {k: r.model for k, r in runs.items()},
    }
    return Evidence(verdict, finding, measured, tuple(trends), config)


POOR = register(
    Claim(
        id="prompting.poor-mans-rl",
        take=TAKE,
        quote=(
            'you can just do "poor man\'s RL": you sample the model a few times, take the action '
            "that led to the most gold coins, supervised fine-tune the model on that and repeat."
        ),
        holds_if=(
            "held-out coins after the last SFT iteration exceed the base model's, with "
            "non-overlapping 95% intervals"
        ),
        run=run_poor_mans_rl,
    )
)

RL_VS = register(
    Claim(
        id="prompting.rl-vs-poor-mans-rl",
        take=TAKE,
        quote=(
            "My understanding is that many forms of RL are quite close to poor man's RL (the "
            "resulting weight updates are kind of similar), and poor man's RL is quite similar "
            "to prompting"
        ),
        holds_if=(
            "with equal sample budgets, RL's and poor man's RL's final 95% intervals overlap, "
            "and so do poor man's RL's and few-shot prompting's, each interval at most "
            f"{2 * RESOLUTION:g} wide"
        ),
        run=run_rl_vs_poor_mans_rl,
    )
)
