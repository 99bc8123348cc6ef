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


def test_listing_claims_imports_no_experiment(tmp_path):
    """The catalogs declare the claims; their experiments (and scipy, torch, axelrod...) load
    only when a claim runs."""
    import subprocess
    import sys

    code = (
        "import sys; from quicktakes.ledger import all_claims; n = len(all_claims()); "
        "heavy = [m for m in sys.modules if m.endswith('.claims') or m.split('.')[0] in "
        "('scipy', 'torch', 'matplotlib', 'gymnasium', 'axelrod', 'transformers')]; "
        "print(n, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n, heavy = out.stdout.split(" ", 1)
    assert int(n) >= 12 and heavy.strip() == "[]"


def test_a_plugin_family_registers_through_its_entry_point(tmp_path, monkeypatch):
    from importlib import metadata

    (tmp_path / "qt_plugin_family.py").write_text(
        "from quicktakes.ledger import Claim, register\n"
        "register(Claim('plugin.demo', 'a take', 'a quote', 'a rule', 'qt_plugin_family:run'))\n"
        "def run(ctx):\n"
        "    from quicktakes.ledger import Evidence, Point, Trend, Verdict\n"
        "    trend = Trend.of('t', 'x', 'y', [Point.exact(0, 1)])\n"
        "    return Evidence(Verdict.HOLDS, 'f', 'm', (trend,))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_CLAIMS", dict(registry._CLAIMS))
    ep = metadata.EntryPoint("demo", "qt_plugin_family", registry.ENTRY_POINTS)
    real = metadata.entry_points
    monkeypatch.setattr(
        metadata, "entry_points",
        lambda **kw: [ep] if kw.get("group") == registry.ENTRY_POINTS else real(**kw),
    )
    ids = [c.id for c in all_claims()]
    assert ids[-1] == "plugin.demo" and "games.lottery" in ids
    result = reproduce(["plugin.demo"], Budget.FAST, seed=0).results[0]
    assert result.evidence.verdict is Verdict.HOLDS


def test_every_claim_follows_the_contract():
    """One way to lay out a claim: each registered one is an `Experiment` with sizes for
    every budget (pydantic models, recorded in results.json) and a rule in words."""
    from pydantic import BaseModel

    from quicktakes.ledger import Experiment

    for c in all_claims():
        exp = c.experiment()
        assert isinstance(exp, Experiment), c.id
        assert set(exp.sizes) == set(Budget), c.id
        assert all(isinstance(s, BaseModel) for s in exp.sizes.values()), c.id
        assert len(exp.rule_text()) > 40, c.id
