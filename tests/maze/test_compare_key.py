"""Each method's run in a comparison is keyed by its own settings: one made by an older
quicktakes with other sizes or defaults is left alone, not refused (a user reported every maze
claim of `reproduce` failing with "holds a run with other settings" after an upgrade), and a
change to one method (or a new method) leaves the others' finished runs where they are."""

from quicktakes.ledger import Budget
from quicktakes.maze import compare
from quicktakes.maze.compare import SIZES, CompareSpec, compare_root, settings_key


def test_the_key_follows_the_settings_but_not_the_iterations(monkeypatch):
    cfg = CompareSpec(budget="fast", seed=3)
    key = settings_key(cfg, "rl")
    assert len(key) == 8 and key == settings_key(CompareSpec(budget="fast", seed=3), "rl")
    assert settings_key(cfg, "sft-iter") != key
    assert settings_key(CompareSpec(budget="fast", seed=4), "rl") != key
    assert settings_key(CompareSpec(budget="fast", seed=3, precision="fp32"), "rl") != key
    monkeypatch.setitem(SIZES, Budget.FAST, SIZES[Budget.FAST].model_copy(
        update={"iterations": 9}))
    assert settings_key(cfg, "rl") == key  # more iterations resume the same run
    monkeypatch.setitem(SIZES, Budget.FAST, SIZES[Budget.FAST].model_copy(
        update={"test_mazes": 25}))
    assert settings_key(cfg, "rl") != key  # other held-out mazes: another run
    monkeypatch.setitem(SIZES, Budget.FAST, SIZES[Budget.FAST].model_copy(
        update={"test_mazes": 24}))
    assert settings_key(cfg, "rl") == key


def test_one_methods_rate_moves_its_own_run_only(monkeypatch):
    cfg = CompareSpec(budget="fast", seed=3)
    rl, pmrl = settings_key(cfg, "rl"), settings_key(cfg, "sft-iter")
    monkeypatch.setitem(compare.CURVE_RATES, "rl", 5e-4)
    assert settings_key(cfg, "rl") != rl  # another default rate: another run
    assert settings_key(cfg, "sft-iter") == pmrl


def test_a_warm_start_keys_every_method_and_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("QUICKTAKES_RUNS", str(tmp_path))
    cold = CompareSpec(budget="fast", seed=3)
    warm = cold.model_copy(update={"start": "warm"})
    assert settings_key(warm, "rl") != settings_key(cold, "rl")
    assert compare_root(warm) != compare_root(cold)
    assert compare_root(cold).parent == tmp_path
    assert compare_root(cold).name.endswith("-seed3") and "-warm-" in compare_root(warm).name
