"""Verified training with rollback: the world, the regions, the undo, the runs."""

import numpy as np
import pytest
import torch

from quicktakes.errors import ConfigError
from quicktakes.insights.rollback import (
    GOAL,
    Arm,
    RollbackSpec,
    Verifier,
    check_samples,
    flags,
    gaps,
    greedy,
    make_policy,
    make_world,
    make_worlds,
    performance,
    pretrain_safe,
    region,
    reinforce_step,
    run_rollback,
    snapshot,
    train_run,
    truly_bad,
    weights_hash,
)

SPEC = RollbackSpec(steps=30, seeds=2, coverages=(0.25, 1.0))
"""Two notions (argmax, margin 1) at two coverages, one rate."""
FULL, QUARTER = Verifier(0.0, 1.0), Verifier(0.0, 0.25)


def test_the_forbidden_cell_is_a_shortcut_every_state_can_do_without():
    for run in range(5):
        w = make_world(SPEC, run)
        s = w.checked
        assert w.forbidden not in s and len(s) == w.n_states
        assert w.safe_moves[s].any(axis=1).all()  # a safe way on from every state
        # following safe moves never enters the cell and always arrives
        moves = w.safe_moves.argmax(axis=1)
        assert not truly_bad(w, moves).any()
        assert performance(w, moves, 0.9) > 0
        assert any(w.forbidden in row for row in w.nxt[s])  # the cell borders some state


def test_regions_from_truth_and_the_verifier_sample():
    bad = np.array([False, False, True, False])
    assert region(bad, np.array([0, 1])) == "C"  # bad somewhere the verifier did not look
    assert region(bad, np.array([2])) == "B"
    assert region(np.zeros(4, bool), np.array([0, 1, 2, 3])) == "A"


def test_truly_bad_flags_exactly_the_states_that_step_into_the_cell():
    w = make_world(SPEC, 0)
    moves = w.safe_moves.argmax(axis=1)
    s = w.checked
    into = [(i, a) for i in s for a in range(4) if w.nxt[i, a] == w.forbidden]
    i, a = into[0]
    moves[i] = a
    bad = truly_bad(w, moves)
    assert bad.sum() == 1 and s[bad][0] == i


def test_rollback_restores_the_weights_bit_for_bit():
    w = make_world(SPEC, 0)
    torch.manual_seed(0)
    policy = make_policy(SPEC, w)
    opt = torch.optim.Adam(policy.parameters(), lr=SPEC.lr)
    before, h0 = snapshot(policy), weights_hash(policy)
    reinforce_step(policy, opt, w, SPEC, np.random.default_rng(0))
    assert weights_hash(policy) != h0
    policy.load_state_dict(before)
    assert weights_hash(policy) == h0


def test_training_starts_truly_good():
    w = make_world(SPEC, 1)
    torch.manual_seed(1)
    policy = make_policy(SPEC, w)
    pretrain_safe(policy, w, lr=SPEC.lr)
    assert not truly_bad(w, greedy(policy, w)).any()


def test_a_complete_verifier_never_lets_a_step_reach_c_and_rollback_keeps_truth():
    w = make_world(SPEC, 0)
    for v in (FULL, Verifier(1.0, 1.0)):
        t = train_run(SPEC, w, 0, v)
        assert all(to != "C" for _, to in t.moves[v])
        assert not any(t.bad)
        assert t.undone == sum(to == "B" for _, to in t.moves[v])


def test_without_rollback_every_level_watches_the_same_run():
    w = make_world(SPEC, 0)
    t = train_run(SPEC, w, 0, None)
    assert set(t.moves) == set(SPEC.verifiers) and len(t.moves) == 4 and t.undone == 0
    assert len(t.bad) == SPEC.steps + 1
    # the complete argmax verifier sees the truth: its C count is 0, B exactly when truly bad
    assert [to == "B" for _, to in t.moves[FULL]] == t.bad[1:]
    # a margin verifier rejects at least whatever the argmax one does, on the same sample
    for v in (FULL, QUARTER):
        wider = Verifier(1.0, v.level)
        assert all(b == "B" for (_, a), (_, b) in zip(t.moves[v], t.moves[wider], strict=True)
                   if a == "B")


def test_runs_are_deterministic():
    a, b = run_rollback(SPEC), run_rollback(SPEC)
    for x, y in zip(a.runs, b.runs, strict=True):
        assert {k: v.moves for k, v in x.watched.items()} == {
            k: v.moves for k, v in y.watched.items()
        }
        assert all(isinstance(k, Arm) for k in x.rolled)
        assert {k: v.moves for k, v in x.rolled.items()} == {
            k: v.moves for k, v in y.rolled.items()
        }


def test_a_verifier_sample_larger_than_the_state_space_is_refused():
    spec = RollbackSpec(verifier_samples=(1, 10_000))
    with pytest.raises(ConfigError, match="larger than the state space"):
        check_samples(spec, make_world(spec, 0))
    with pytest.raises(ConfigError):
        make_worlds(spec)


def test_goal_is_absorbing_in_the_tables():
    w = make_world(SPEC, 2)
    assert (w.nxt == GOAL).any()


def test_a_margin_of_zero_is_the_argmax_check():
    w = make_world(SPEC, 0)
    rng = np.random.default_rng(3)
    for trial in range(20):
        torch.manual_seed(trial)
        policy = make_policy(SPEC, w)
        bad, gap = truly_bad(w, greedy(policy, w)), gaps(policy, w)
        assert np.array_equal(flags(bad, gap, 0.0), bad)
        assert np.array_equal(bad, gap < 0)  # the gap's sign is the argmax's verdict
        sample = rng.choice(len(bad), size=5, replace=False)
        assert region(bad, sample, flags(bad, gap, 0.0)) == region(bad, sample)
        assert flags(bad, gap, 2.0).sum() >= bad.sum()


def test_margins_and_rates_out_of_range_are_refused():
    with pytest.raises(ValueError, match="margins"):
        RollbackSpec(margins=(-1.0,))
    with pytest.raises(ValueError, match="rates"):
        RollbackSpec(rates=(0.0,))
