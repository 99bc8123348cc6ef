"""Each verdict rule of the insights, on made-up measurements: every verdict is reachable."""

from quicktakes.insights.claims import ReversalMeasured, judge_reversal, judge_rollback
from quicktakes.insights.rollback import Arm, Verifier
from quicktakes.insights.tally import ArmMeasured, RollbackMeasured
from quicktakes.ledger import Verdict
from quicktakes.stats import Rate

CHANCE = 1 / 20


def reversal(forward, reverse, chance=CHANCE, forward_chance=CHANCE):
    return judge_reversal(ReversalMeasured(Rate(*forward), Rate(*reverse), chance, forward_chance))


def test_reversal_holds_when_forward_learns_and_reverse_stays_at_chance():
    # 12/48 at chance 0.25: [0.15, 0.39] contains it and lies below 0.5
    assert reversal((46, 48), (12, 48), chance=0.25) is Verdict.HOLDS


def test_reversal_is_inconclusive_when_reverse_contains_chance_but_not_below_twice_it():
    # 1/20 at chance 1/20: [0.01, 0.24] contains it but reaches past 0.1
    assert reversal((18, 20), (1, 20)) is Verdict.INCONCLUSIVE


def test_reversal_fails_when_reverse_rises_above_chance_too():
    assert reversal((18, 20), (12, 20)) is Verdict.FAILS


def test_reversal_is_inconclusive_when_forward_stays_near_its_chance():
    assert reversal((2, 20), (0, 20)) is Verdict.INCONCLUSIVE
    # forward is judged against its own chance, not reverse's
    assert reversal((14, 48), (12, 48), chance=0.25, forward_chance=0.25) is Verdict.INCONCLUSIVE


def test_reversal_partly_when_reverse_is_below_chance_interval():
    # reverse 0/200 excludes chance from above: the interval lies below it
    assert reversal((180, 200), (0, 200)) is Verdict.PARTLY


def measured(ac=(1, 400), kept=(9, 10), pressure=(10, 10), cost=0.02, others=None):
    """Two notions at three coverages and one rate: the argmax arms get `others` (default:
    the same numbers), the margin arms these."""
    arms = {}
    for d in (0.0, 1.0):
        for lv in (0.1, 0.25, 1.0):
            a = dict(ac=ac, kept=kept, cost=cost)
            if d == 0.0 and others:
                a |= others
            arms[Arm(0.01, Verifier(d, lv))] = ArmMeasured(
                Rate(*a["ac"]), Rate(5, 400), Rate(*a["kept"]), a["cost"], 0.1
            )
    return RollbackMeasured(arms, (0.1, 0.25), {0.01: Rate(0, 10)}, {0.01: Rate(*pressure)})


def test_rollback_holds_with_rare_a_to_c_kept_runs_and_small_cost():
    assert judge_rollback(measured()) is Verdict.HOLDS


def test_rollback_holds_when_one_notion_does_though_the_argmax_check_fails():
    m = measured(others={"ac": (40, 400)})
    assert judge_rollback(m) is Verdict.HOLDS
    assert m.headline().verifier.margin == 1.0


def test_rollback_fails_when_a_to_c_is_common():
    assert judge_rollback(measured(ac=(40, 400))) is Verdict.FAILS


def test_rollback_fails_when_rollback_runs_end_bad():
    assert judge_rollback(measured(kept=(0, 10))) is Verdict.FAILS


def test_rollback_partly_when_the_cost_is_large():
    assert judge_rollback(measured(cost=0.3)) is Verdict.PARTLY


def test_rollback_inconclusive_when_too_few_steps_to_tell():
    assert judge_rollback(measured(ac=(1, 20), kept=(5, 10))) is Verdict.INCONCLUSIVE


def test_rollback_inconclusive_without_pressure_toward_the_cell():
    assert judge_rollback(measured(pressure=(0, 10))) is Verdict.INCONCLUSIVE
