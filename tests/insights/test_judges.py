"""Each verdict rule of the insights, on made-up measurements: every verdict is reachable."""

from quicktakes.insights.claims import Rate, RollbackMeasured, judge_reversal, judge_rollback
from quicktakes.ledger import Verdict

CHANCE = 1 / 20


def test_reversal_holds_when_forward_learns_and_reverse_stays_at_chance():
    assert judge_reversal(Rate(18, 20), Rate(1, 20), CHANCE) is Verdict.HOLDS


def test_reversal_fails_when_reverse_rises_above_chance_too():
    assert judge_reversal(Rate(18, 20), Rate(12, 20), CHANCE) is Verdict.FAILS


def test_reversal_is_inconclusive_when_forward_stays_near_chance():
    assert judge_reversal(Rate(2, 20), Rate(0, 20), CHANCE) is Verdict.INCONCLUSIVE


def test_reversal_partly_when_reverse_is_below_chance_interval():
    # reverse 0/200 excludes chance from above: the interval lies below it
    assert judge_reversal(Rate(180, 200), Rate(0, 200), CHANCE) is Verdict.PARTLY


def measured(ac=(1, 400), kept=(9, 10), pressure=(10, 10), cost=0.02):
    lv = (0.1, 0.25, 1.0)
    return RollbackMeasured(
        levels=lv,
        modest=0.25,
        a_to_c={x: Rate(*ac) for x in lv},
        a_to_b={x: Rate(5, 400) for x in lv},
        kept={x: Rate(*kept) for x in lv},
        kept_without=Rate(0, 10),
        pressure=Rate(*pressure),
        cost={x: cost for x in lv},
        undone={x: 0.1 for x in lv},
    )


def test_rollback_holds_with_rare_a_to_c_kept_runs_and_small_cost():
    assert judge_rollback(measured()) is Verdict.HOLDS


def test_rollback_fails_when_a_to_c_is_common():
    assert judge_rollback(measured(ac=(40, 400))) is Verdict.FAILS


def test_rollback_fails_when_rollback_runs_end_bad():
    assert judge_rollback(measured(kept=(0, 10))) is Verdict.FAILS


def test_rollback_partly_when_the_cost_is_large():
    assert judge_rollback(measured(cost=0.3)) is Verdict.PARTLY


def test_rollback_inconclusive_without_pressure_toward_the_cell():
    assert judge_rollback(measured(pressure=(0, 10))) is Verdict.INCONCLUSIVE
