from quicktakes.maze.claims import _separation
from quicktakes.maze.methods import IterationResult, LabConfig, LabResult


def lab(mean: float, half: float) -> LabResult:
    r = LabResult(LabConfig(), "m")
    r.iterations = [IterationResult(0, 8, mean, mean - half, mean + half, 8, 0.0)]
    return r


def test_separation_needs_narrow_intervals_to_call_methods_close():
    assert _separation(lab(0.5, 0.05), lab(0.52, 0.05)) == "overlap"
    assert _separation(lab(0.5, 0.3), lab(0.52, 0.3)) == "unresolved"
    assert _separation(lab(0.8, 0.05), lab(0.3, 0.05)) == "above"
    assert _separation(lab(0.3, 0.05), lab(0.8, 0.3)) == "below"


def test_improvement_needs_separated_intervals():
    from quicktakes.ledger import Verdict
    from quicktakes.maze.claims import _improvement

    def it(mean, half):
        return lab(mean, half).iterations[0]

    assert _improvement(it(0.8, 0.05), it(0.3, 0.05)) is Verdict.HOLDS
    assert _improvement(it(0.3, 0.05), it(0.8, 0.05)) is Verdict.FAILS
    assert _improvement(it(0.5, 0.2), it(0.4, 0.2)) is Verdict.INCONCLUSIVE


def test_the_comparison_figure_has_a_samples_panel_and_an_iteration_panel():
    from quicktakes.maze.compare import comparison_trends
    from quicktakes.report.plot import trends_svg

    def run(used):
        r = LabResult(LabConfig(), "m")
        r.iterations = [IterationResult(k, u, 0.5, 0.4, 0.6, 8, 0.0) for k, u in enumerate(used)]
        return r

    runs = {"few-shot": run([8, 24]), "sft-iter": run([8, 24]), "tabular": run([4, 16])}
    trends = comparison_trends(runs)
    by_x: dict[str, list[str]] = {}
    for t in trends:
        by_x.setdefault(t.x_label, []).append(t.name)
    assert by_x["iteration"] == ["few-shot", "sft-iter"]
    assert by_x["episodes sampled (train + test)"][-1] == "exact optimum"
    assert trends_svg(trends).count('<g id="axes_') == 2
