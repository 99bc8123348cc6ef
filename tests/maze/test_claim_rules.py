"""Every maze claim's judge on hand-made measurements, for each verdict it can return."""

import pytest

from quicktakes.ledger import Verdict
from quicktakes.maze.claims import (
    Alike,
    Runs,
    describe_alike,
    describe_rl_vs,
    describe_very_poor,
    improvement,
    judge_alike,
    judge_poor,
    judge_rl_vs,
    judge_very_poor,
    separation,
)
from quicktakes.maze.methods import IterationResult, LabResult
from quicktakes.maze.spec import LabSpec


def it(mean: float, half: float, k: int = 0) -> IterationResult:
    return IterationResult(k, 8, mean, mean - half, mean + half, 8, 0.0)


def lab(*points: tuple[float, float]) -> LabResult:
    r = LabResult(LabSpec(), "m")
    r.iterations = [it(m, h, k) for k, (m, h) in enumerate(points)]
    return r


def runs(**finals: tuple[float, float]) -> Runs:
    base = {"random": (0.25, 0.03), "heuristic": (0.7, 0.03), "zero-shot": (0.2, 0.03),
            "best-of-n": (0.4, 0.03), "oracle-bc": (0.8, 0.03)}
    return Runs({k: lab(v) for k, v in (base | finals).items()})


def test_separation_needs_narrow_intervals_to_call_methods_close():
    assert separation(it(0.5, 0.05), it(0.52, 0.05)) == "overlap"
    assert separation(it(0.5, 0.3), it(0.52, 0.3)) == "unresolved"
    assert separation(it(0.8, 0.05), it(0.3, 0.05)) == "above"
    assert separation(it(0.3, 0.05), it(0.8, 0.3)) == "below"


def test_improvement_needs_separated_intervals():
    assert improvement(it(0.8, 0.05), it(0.3, 0.05)) is Verdict.HOLDS
    assert improvement(it(0.3, 0.05), it(0.8, 0.05)) is Verdict.FAILS
    assert improvement(it(0.5, 0.2), it(0.4, 0.2)) is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(
    "few, verdict",
    [((0.6, 0.05), Verdict.HOLDS), ((0.05, 0.02), Verdict.FAILS),
     ((0.25, 0.1), Verdict.INCONCLUSIVE)],
)
def test_very_poor_mans_rl_judged_both_ways(few, verdict):
    m = runs(**{"few-shot": few})
    assert judge_very_poor(m) is verdict
    text = describe_very_poor(m, verdict)
    assert f"{few[0]:.2f}" in text and "vs oracle BC 0.80" in text


@pytest.mark.parametrize(
    "points, verdict",
    [([(0.2, 0.05), (0.6, 0.05)], Verdict.HOLDS), ([(0.5, 0.05), (0.1, 0.05)], Verdict.FAILS),
     ([(0.2, 0.2), (0.3, 0.2)], Verdict.INCONCLUSIVE)],
)
def test_poor_mans_rl_judged_both_ways(points, verdict):
    m = Runs({"sft-iter": lab(*points), "random": lab((0.25, 0.03))})
    assert judge_poor(m) is verdict


@pytest.mark.parametrize(
    "rl, sft, few, verdict",
    [
        ((0.6, 0.05), (0.62, 0.05), (0.6, 0.05), Verdict.HOLDS),
        ((0.2, 0.05), (0.62, 0.05), (0.6, 0.05), Verdict.PARTLY),
        ((0.1, 0.05), (0.5, 0.05), (0.9, 0.05), Verdict.FAILS),
        ((0.5, 0.2), (0.55, 0.2), (0.5, 0.2), Verdict.INCONCLUSIVE),
    ],
)
def test_rl_vs_poor_mans_rl_judged_every_way(rl, sft, few, verdict):
    m = runs(rl=rl, **{"sft-iter": sft, "few-shot": few})
    assert judge_rl_vs(m) is verdict
    text = describe_rl_vs(m, verdict)
    assert ("Unresolved at this budget" in text) == (verdict is Verdict.INCONCLUSIVE)


def alike(rl_sft, shuffled, few_sft, base_sft, dim=10_000) -> Alike:
    def row(mean, half):
        return [(mean, mean - half, mean + half, 30)]

    return Alike(
        {"sft vs rl": row(*rl_sft), "sft half vs half": row(0.5, 0.1),
         "sft vs shuffled moves": row(*shuffled)},
        {"few-shot vs sft": row(*few_sft), "base vs sft": row(*base_sft),
         "base vs few-shot": row(0.2, 0.05)},
        dim,
    )


@pytest.mark.parametrize(
    "m, verdict",
    [
        (alike((0.6, 0.1), (0.05, 0.05), (0.1, 0.02), (0.4, 0.05)), Verdict.HOLDS),
        (alike((0.0, 0.01), (0.05, 0.05), (0.6, 0.05), (0.3, 0.05)), Verdict.FAILS),
        (alike((0.6, 0.1), (0.05, 0.05), (0.6, 0.05), (0.3, 0.05)), Verdict.PARTLY),
        (alike((0.15, 0.1), (0.1, 0.05), (0.1, 0.02), (0.4, 0.05)), Verdict.INCONCLUSIVE),
        # a wide control interval does not turn an unresolved cosine into 'no'
        (alike((0.1, 0.6), (0.28, 0.8), (0.76, 0.06), (0.52, 0.05)), Verdict.INCONCLUSIVE),
    ],
)
def test_updates_alike_judged_every_way(m, verdict):
    assert judge_alike(m) is verdict
    assert "random directions within ±0.020" in describe_alike(m, verdict)


def test_the_comparison_figure_has_a_samples_panel_and_an_iteration_panel():
    from quicktakes.maze.compare import comparison_trends
    from quicktakes.report.plot import trends_svg

    def run(used):
        r = LabResult(LabSpec(), "m")
        r.iterations = [IterationResult(k, u, 0.5, 0.4, 0.6, 8, 0.0) for k, u in enumerate(used)]
        return r

    runs_ = {"few-shot": run([8, 24]), "sft-iter": run([8, 24]), "tabular": run([4, 16])}
    trends = comparison_trends(runs_)
    by_x: dict[str, list[str]] = {}
    for t in trends:
        by_x.setdefault(t.x_label, []).append(t.name)
    assert by_x["iteration"] == ["few-shot", "sft-iter"]
    assert by_x["episodes sampled (train + test)"][-1] == "exact optimum"
    assert trends_svg(trends, prefix="f-").count('<g id="f-axes_') == 2
