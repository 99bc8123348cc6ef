"""A budget's sizes become each method's `LabSpec`: poor man's RL may select per step from
RL's own rollouts, every learner may verify, and in every combination the learners spend the
same number of episodes per update."""

import pytest
from pydantic import ValidationError

from quicktakes.ledger import Budget
from quicktakes.maze.compare import (
    SIZES,
    STEP_SELECTION_RATE,
    CompareSizes,
    CompareSpec,
    settings_key,
)
from quicktakes.maze.spec import LEARNING

STEP = dict(iterations=3, samples=2, train_mazes=4, test_mazes=8, max_pairs=16,
            credit="step")


@pytest.mark.parametrize("selection", ["episode", "step"])
@pytest.mark.parametrize("verify", [0, 5])
def test_every_learner_spends_the_same(monkeypatch, selection, verify):
    monkeypatch.setitem(SIZES, Budget.FAST, CompareSizes(**STEP, selection=selection,
                                                         verify=verify))
    cfg = CompareSpec(budget="fast")
    specs = {m: cfg.spec(m) for m in (*LEARNING, "zero-shot", "best-of-n")}
    assert len({specs[m].spend for m in LEARNING}) == 1, {m: specs[m].spend for m in LEARNING}
    assert all(specs[m].verify == verify for m in LEARNING)
    assert specs["zero-shot"].verify == specs["best-of-n"].verify == 0  # they do not learn
    pmrl = specs["sft-iter"]
    if selection == "step":
        assert (pmrl.select, pmrl.sft_centre, pmrl.extra_episodes) == ("step", True, 0)
        assert pmrl.step_rollouts == specs["rl"].step_rollouts == 4 * 16
        assert cfg.rate("sft-iter") == STEP_SELECTION_RATE
    else:
        assert (pmrl.select, pmrl.sft_centre, pmrl.extra_episodes) == ("episode", False, 64)
        assert cfg.rate("sft-iter") != STEP_SELECTION_RATE


def test_verification_and_step_selection_are_other_runs(monkeypatch):
    cfg = CompareSpec(budget="fast")
    monkeypatch.setitem(SIZES, Budget.FAST, CompareSizes(**STEP))
    plain = {m: settings_key(cfg, m) for m in LEARNING}
    monkeypatch.setitem(SIZES, Budget.FAST, CompareSizes(**STEP, selection="step"))
    assert settings_key(cfg, "sft-iter") != plain["sft-iter"]
    monkeypatch.setitem(SIZES, Budget.FAST, CompareSizes(**STEP, verify=4))
    assert all(settings_key(cfg, m) != plain[m] for m in LEARNING)


def test_step_selection_needs_the_step_rollouts_rl_plays():
    with pytest.raises(ValidationError, match="selection 'step' needs credit 'step'"):
        CompareSizes(**(STEP | {"credit": "episode"}), selection="step")
