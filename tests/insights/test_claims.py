"""Both insight claims end to end at tiny budgets: the verdict is the judge's, the trends and
the config are complete, and the same seed gives the same evidence."""

import pytest

from quicktakes.insights import claims
from quicktakes.ledger import Budget, RunContext

TINY_REVERSAL = claims.ReversalSizes(
    facts=3, epochs=2, eval_every=1, paraphrases=1, test_templates=1, candidates=2, lr=1e-4
)
TINY_ROLLBACK = claims.RollbackSizes(rollback_seeds=2, rollback_steps=15)


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(claims.ROLLBACK_SIZES, Budget.FAST, TINY_ROLLBACK)
    return RunContext(Budget.FAST, seed=0, claim_id="insights.verified-rollback")


def test_verified_rollback_evidence(tiny):
    ev = claims.ROLLBACK(tiny)
    m = claims.measure_verified_rollback(tiny, TINY_ROLLBACK)
    assert ev.verdict is claims.judge_rollback(m)
    assert ev.config["rule"] == claims.ROLLBACK_RULE
    names = [t.name for t in ev.trends]
    assert "A -> C (undetected) per step from A, argmax" in names
    assert "A -> C (undetected) per step from A, margin 1" in names
    full = [v for k, v in ev.config["arms"].items() if "coverage 100%" in k]
    assert full and all(a["a_to_c"][0] == 0 for a in full)  # a complete verifier: no C
    assert ev.config["rollback_seeds"] == 2
    again = claims.ROLLBACK(tiny)
    assert again.finding == ev.finding


def test_reversal_curse_evidence(monkeypatch):
    monkeypatch.setitem(claims.REVERSAL_SIZES, Budget.FAST, TINY_REVERSAL)
    ctx = RunContext(Budget.FAST, seed=0, claim_id="insights.reversal-curse")
    ev = claims.REVERSAL(ctx)
    forward = next(t for t in ev.trends if t.name.startswith("forward"))
    reverse = next(t for t in ev.trends if t.name.startswith("reverse: description"))
    assert [p.x for p in forward.points] == [0, 1, 2] and forward.points[0].n == 3
    chance = next(t for t in ev.trends if t.name.startswith("reverse's chance"))
    fwd, rev = (claims.Rate(round(t.last().y * 3), 3) for t in (forward, reverse))
    # one template among pools of 2: the rule's chance is exactly a half
    assert chance.last().y == pytest.approx(0.5) and ev.config["forward_chance"] == 0.5
    measured = claims.ReversalMeasured(fwd, rev, chance.last().y, ev.config["forward_chance"])
    assert ev.verdict is claims.judge_reversal(measured)
    assert ev.config["facts"] == 3 and ev.config["candidates"] == 2
    assert "control" in ev.finding.lower()
