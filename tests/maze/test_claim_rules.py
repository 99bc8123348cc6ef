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
