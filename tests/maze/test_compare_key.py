"""The comparison's folder is keyed by every method's settings: one made by an older
quicktakes with other sizes or defaults is left alone, not refused (a user reported every maze
claim of `reproduce` failing with "holds a run with other settings" after an upgrade)."""

from quicktakes.ledger import Budget
from quicktakes.maze import compare
from quicktakes.maze.compare import SIZES, CompareSpec, settings_key


def test_the_key_follows_the_settings_but_not_the_iterations(monkeypatch):
    cfg = CompareSpec(budget="fast", seed=3)
    key = settings_key(cfg)
    assert len(key) == 8 and key == settings_key(CompareSpec(budget="fast", seed=3))
    assert settings_key(CompareSpec(budget="fast", seed=4)) != key
    assert settings_key(CompareSpec(budget="fast", seed=3, precision="fp32")) != key
    monkeypatch.setitem(SIZES, Budget.FAST, SIZES[Budget.FAST].model_copy(
        update={"iterations": 9}))
    assert settings_key(cfg) == key  # more iterations resume the same run
    monkeypatch.setitem(SIZES, Budget.FAST, SIZES[Budget.FAST].model_copy(
        update={"test_mazes": 25}))
    assert settings_key(cfg) != key  # other held-out mazes: another run
    monkeypatch.setitem(compare.CURVE_RATES, "rl", 5e-4)
    monkeypatch.setitem(SIZES, Budget.FAST, SIZES[Budget.FAST].model_copy(
        update={"test_mazes": 24}))
    assert settings_key(cfg) != key  # another default rate: another run
