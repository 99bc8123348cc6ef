"""The N-of-1 claims' judges and the power curve's interpolation."""

import pytest

from quicktakes.ledger import Verdict
from quicktakes.nof1.analysis import crossing
from quicktakes.nof1.claims import EffectMeasured, MeansMeasured, judge_effect, judge_means


@pytest.mark.parametrize(
    "p, posterior, verdict",
    [(0.005, 0.5, Verdict.HOLDS), (0.2, 0.995, Verdict.HOLDS), (0.03, 0.5, Verdict.PARTLY),
     (0.2, 0.96, Verdict.PARTLY), (0.2, 0.9, Verdict.FAILS)],
)
def test_effect_judge(p, posterior, verdict):
    m = EffectMeasured(p, posterior, data=None, result=None, p_points=[], posterior_points=[])
    assert judge_effect(m) is verdict


def test_means_judge():
    assert judge_means(MeansMeasured([], [], [])) is Verdict.HOLDS
    assert judge_means(MeansMeasured([], [], ["laptop: stated 22, data give 21.8"])) is (
        Verdict.DISCREPANCY
    )


def test_crossing_interpolates_between_the_grid_points_around_the_target():
    xs, ys = [0, 100, 200, 400], [0.1, 0.5, 0.7, 0.9]
    assert crossing(xs, ys, 0.8) == pytest.approx(300)
    assert crossing(xs, ys, 0.05) == 0
    assert crossing(xs, ys, 0.95) is None
