from quicktakes.ledger import Budget, RunContext
from quicktakes.rng import derive_seed


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "a") == derive_seed(0, "a")
    assert derive_seed(0, "a") != derive_seed(0, "b")
    assert derive_seed(0, "a") != derive_seed(1, "a")


def test_each_claim_and_purpose_gets_its_own_stream():
    one = RunContext(Budget.FAST, 7, "x.one")
    draws = {
        "same": one.rng("s").random(3).tobytes(),
        "other claim": RunContext(Budget.FAST, 7, "x.two").rng("s").random(3).tobytes(),
        "other purpose": one.rng("t").random(3).tobytes(),
        "other seed": RunContext(Budget.FAST, 8, "x.one").rng("s").random(3).tobytes(),
    }
    assert len(set(draws.values())) == 4
    assert one.rng("s").random(3).tobytes() == draws["same"]


def test_a_shared_seed_ignores_which_claim_asks():
    a = RunContext(Budget.FAST, 7, "x.one").shared_seed("run")
    assert a == RunContext(Budget.FAST, 7, "x.two").shared_seed("run")
    assert a != RunContext(Budget.FAST, 8, "x.one").shared_seed("run")
