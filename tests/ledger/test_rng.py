from quicktakes.ledger import Budget, RunContext
from quicktakes.rng import derive_seed


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "a") == derive_seed(0, "a")
    assert derive_seed(0, "a") != derive_seed(0, "b")
    assert derive_seed(0, "a") != derive_seed(1, "a")


def test_context_streams_depend_on_claim_not_on_run_order():
    a = RunContext(Budget.FAST, 7, "x.one").rng("s").random(3)
    RunContext(Budget.FAST, 7, "x.two").rng("s").random(3)
    b = RunContext(Budget.FAST, 7, "x.one").rng("s").random(3)
    assert (a == b).all()
