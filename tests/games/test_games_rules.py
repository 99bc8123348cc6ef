"""Every games claim's judge on hand-made measurements, for each verdict it can return, and
its description written from those numbers."""

import numpy as np
import pytest

from quicktakes.games import claims as g
from quicktakes.games.lottery import LotteryOdds
from quicktakes.ledger import Budget, Point, Verdict


def lottery_measured(end_more: float, end_lot: float, rising: bool = True, z: float = 1.0):
    grid = [1, 10, 100, 1000]
    ys = [0.4, 0.6, 0.8, end_more] if rising else [0.95, 0.2, 0.9, end_more]
    odds = [LotteryOdds(n, p, 1 - p, 0.0, min(p, end_lot)) for n, p in zip(grid, ys, strict=True)]
    mc = [Point(n, o.p_more, o.p_more, o.p_more, 10) for n, o in zip(grid, odds, strict=True)]
    return g.LotteryMeasured(g.LOTTERY_SIZES[Budget.FAST], grid, odds, mc, z)


@pytest.mark.parametrize(
    "measured, verdict",
    [
        (lottery_measured(0.9999, 0.995), Verdict.HOLDS),
        (lottery_measured(0.9999, 0.5), Verdict.PARTLY),  # 'a lot more' not near 1
        (lottery_measured(0.9999, 0.995, rising=False), Verdict.PARTLY),  # no trend with n
        (lottery_measured(0.3, 0.1), Verdict.FAILS),
        (lottery_measured(0.9999, 0.995, z=6.0), Verdict.ERROR),  # Monte Carlo off: a bug
    ],
)
def test_lottery_judge(measured, verdict):
    assert g.judge_lottery(measured) is verdict
    text = g.describe_lottery(measured, verdict)
    assert f"{measured.mc_worst_z:.1f} standard errors" in text


def population(name, margins, beaten_at_100=True):
    turns = (1, 2, 3, 100)
    m = np.array(margins, dtype=float)
    beaten = [False, False, False, beaten_at_100]
    ratio = [Point(t, 1.0, 0.9, 1.1, m.shape[1]) for t in turns]
    return g.PopulationRun(name, turns, m, [1, 1, 2, 3], ratio, beaten, "X (2.00/turn)")


def ipd_measured(*runs, gap=0.0):
    study = g.IPDSizes(dense_to=3, tail=(100,), repetitions=2, populations=("classic",))
    return g.IPDMeasured(study, list(runs), gap, [(3, 1 / 3, 1 / 3)])


def test_ipd_thresholds_are_from_which_on_not_first_seen():
    run = population("classic", [[1, -1], [-2, -1], [1, 2], [3, 1]])
    # the mean is above at 1 round, below at 2, above from 3 on
    assert run.mean_threshold == 3
    assert run.per_repetition == [3, 3]
    never = population("classic", [[1, 1], [1, 1], [1, 1], [-1, 1]])
    assert never.per_repetition == [None, 1]


@pytest.mark.parametrize(
    "beaten, verdict",
    [((True, True), Verdict.HOLDS), ((True, False), Verdict.PARTLY),
     ((False, False), Verdict.FAILS)],
)
def test_ipd_judge_counts_populations_beaten_at_100_rounds(beaten, verdict):
    runs = [population(n, [[1, 1]] * 4, b) for n, b in zip(("classic", "axelrod-first"), beaten,
                                                            strict=True)]
    m = ipd_measured(*runs)
    assert g.judge_ipd(m) is verdict
    assert ("no strategy beats it" in g.describe_ipd(m, verdict)) == (not all(beaten))


def test_ipd_closed_form_mismatch_is_an_error():
    m = ipd_measured(population("classic", [[1, 1]] * 4), gap=0.1)
    assert g.judge_ipd(m) is Verdict.ERROR
    assert "misses" in g.describe_ipd(m, Verdict.ERROR)


def newcomb_measured(plan: str, one: float, two: float):
    study = g.NewcombSizes(accuracies=(0.9,), rounds=(1, 2), figure_accuracy=0.9)
    cells = [
        g.NewcombCell(0.9, n, {"one-boxer": one, "contents-fixed": two,
                               "one-box-then-defect": one, "backward-induction": max(one, two)},
                      plan[:n])
        for n in (1, 2)
    ]
    return g.NewcombMeasured(study, cells, [(1, None), (2, 0.501)], [(0.9, 2)], 0.5005)


@pytest.mark.parametrize(
    "plan, one, two, verdict",
    [
        ("22", 9.0, 1.0, Verdict.HOLDS),  # backward induction two-boxes, yet committing pays
        ("12", 9.0, 1.0, Verdict.PARTLY),  # committing pays, but induction does not two-box
        ("22", 1.0, 9.0, Verdict.FAILS),  # two-boxing throughout is simply right
    ],
)
def test_newcomb_judge(plan, one, two, verdict):
    m = newcomb_measured(plan, one, two)
    assert g.judge_newcomb(m) is verdict
    text = g.describe_newcomb(m, verdict)
    kind = "two-box every round" if plan == "22" else "one-box every round but the last"
    assert f"{kind} in 1 of 1 cells" in text


def test_the_real_newcomb_grid_says_what_backward_induction_prescribes():
    from quicktakes.ledger import RunContext

    m = g.measure_newcomb(RunContext(Budget.FAST, 0, "games.newcomb-iterated"),
                          g.NEWCOMB_SIZES[Budget.FAST])
    assert g.judge_newcomb(m) is Verdict.PARTLY
    informative = m.informative()
    assert informative and all(c.plan == "1" * (c.rounds - 1) + "2" for c in informative)
    assert dict(m.thresholds)[1] is None
