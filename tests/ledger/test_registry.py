import pytest

from quicktakes.errors import UnknownNameError
from quicktakes.ledger import (
    Budget,
    Claim,
    Evidence,
    Point,
    Trend,
    Verdict,
    all_claims,
    get_claim,
    registry,
)
from quicktakes.ledger.run import reproduce


def test_games_claims_are_registered():
    ids = [c.id for c in all_claims()]
    assert {"games.lottery", "games.ipd-rounds", "games.newcomb-iterated"} <= set(ids)
    for c in all_claims():
        assert c.quote and c.holds_if and c.take and c.author


def test_unknown_claim_lists_valid_ids():
    with pytest.raises(UnknownNameError, match="games.lottery"):
        get_claim("games.nope")


def test_a_claim_that_raises_is_an_error_row_and_the_rest_still_run(monkeypatch):
    def boom(ctx):
        raise RuntimeError("kaput")

    def fine(ctx):
        return Evidence(Verdict.HOLDS, "ok", "ok", (Trend.of("t", "x", "y", [Point.exact(0, 1)]),))

    monkeypatch.setattr(registry, "_CLAIMS", dict(registry._CLAIMS))
    registry.register(Claim("test.boom", "t", "q", "h", boom))
    registry.register(Claim("test.fine", "t", "q", "h", fine))
    report = reproduce(["test.boom", "test.fine"], Budget.FAST, seed=1)
    verdicts = {r.claim.id: r.evidence for r in report.results}
    assert verdicts["test.boom"].verdict is Verdict.ERROR
    assert "kaput" in verdicts["test.boom"].finding
    assert verdicts["test.fine"].verdict is Verdict.HOLDS


def test_registering_a_different_claim_under_a_taken_id_fails(monkeypatch):
    monkeypatch.setattr(registry, "_CLAIMS", dict(registry._CLAIMS))
    existing = get_claim("games.lottery")
    with pytest.raises(ValueError, match="twice"):
        registry.register(Claim(existing.id, "t", "q", "h", existing.run))
