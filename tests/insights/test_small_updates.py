"""insights.small-updates: the bookkeeping of one run (shares, the participation ratio, the
removed and kept-alone readings) on a real small network, the one-layer arms able to get
there where a layer can, the judge on hand-made runs, and the claim end to end."""

import numpy as np
import pytest
import torch

from quicktakes.errors import ConfigError
from quicktakes.insights import claims
from quicktakes.insights.updates import (
    Arm,
    SmallUpdatesResult,
    SmallUpdatesSpec,
    facts,
    layer_params,
    make_net,
    run_small_updates,
)
from quicktakes.ledger import Budget, RunContext, Verdict

TINY = SmallUpdatesSpec(facts=24, width=16, depth=2, arm_rates=(1e-2, 3e-2), arm_steps=150)


def test_one_run_is_booked_as_it_happened():
    r = run_small_updates(TINY)
    net = make_net(TINY)
    sizes = [sum(p.numel() for p in ps) for ps in layer_params(net).values()]
    assert r.layers == ["layer 1", "layer 2", "output"] and r.params == sizes
    assert r.update_share.sum() == pytest.approx(1) and r.param_share.sum() == pytest.approx(1)
    assert 1 <= r.participation <= sum(sizes)
    assert r.steps is not None and r.loss <= TINY.target_loss  # the all-layer run got there
    assert r.accuracy[1] == TINY.facts > r.accuracy[0]
    assert r.norm == pytest.approx(np.sqrt(sum(r.delta_sq)))
    # every layer's update kept = the trained net; none kept = the start
    assert max(r.removed) <= r.accuracy[1] and min(r.alone) >= 0
    assert r.share_lost().shape == r.share_recovered().shape == (3,)
    again = run_small_updates(TINY)
    assert again.delta_sq == r.delta_sq and again.arms == r.arms  # seeded


def test_a_layer_that_can_learn_the_facts_alone_is_seen_to():
    """With 4 facts and 16 features the output layer alone can separate them: its arm must
    reach the loss (so arms that never do are not a broken arm)."""
    spec = SmallUpdatesSpec(facts=4, width=16, depth=1, arm_rates=(3e-2,), arm_steps=2000)
    r = run_small_updates(spec)
    out = next(a for a in r.arms if a.layer == "output")
    assert out.steps is not None and out.loss <= spec.target_loss
    x, y = facts(spec)
    assert len(x) == 4 and torch.equal(y, facts(spec)[1])


def _result(shares_alone, arms, steps=10, learned=(0, 10)) -> SmallUpdatesResult:
    n = len(shares_alone)
    return SmallUpdatesResult(
        TINY, [f"l{i}" for i in range(n)], [10] * n, [1.0] * n, 20.0, 0.01, steps, 1.0,
        learned, [learned[1] - 5] * n, [int(round(s * learned[1])) for s in shares_alone],
        arms,
    )


def test_the_judge_on_hand_made_runs():
    slow = [Arm("l0", 0.01, None, 1.0, 5.0), Arm("l1", 0.01, 40, 0.04, 3.0)]
    holds = _result([0.2, 0.3], slow)
    assert claims.judge_small_updates(claims.SmallUpdatesMeasured((holds, holds))) is Verdict.HOLDS
    local = _result([0.2, 0.3], [Arm("l0", 0.01, 40, 0.04, 0.5)])  # smaller update, got there
    assert claims.judge_small_updates(claims.SmallUpdatesMeasured((holds, local))) is Verdict.FAILS
    carried = _result([0.8, 0.1], slow)
    assert claims.judge_small_updates(claims.SmallUpdatesMeasured((carried,))) is Verdict.FAILS
    faster = _result([0.2, 0.3], [Arm("l0", 0.01, 5, 0.04, 3.0)])  # fewer steps, bigger update
    assert claims.judge_small_updates(claims.SmallUpdatesMeasured((faster,))) is Verdict.PARTLY
    # the embedded model's readings join the rule where they were taken (--full)
    from quicktakes.insights.updates import LandingResult

    spread = {"layer 1": (50, 1.0), "layer 2": (50, 1.2)}
    llm = LandingResult(spread, spread, 90.0, 100, (2, 12), {"layer 1": 8, "layer 2": 7},
                        {"layer 1": 4, "layer 2": 5})
    both = claims.SmallUpdatesMeasured((holds,), llm)
    assert claims.judge_small_updates(both) is Verdict.HOLDS
    one_layer = LandingResult(spread, spread, 90.0, 100, (2, 12), {"layer 1": 3},
                              {"layer 1": 9})  # one layer alone recovers 70%
    assert claims.judge_small_updates(claims.SmallUpdatesMeasured((holds,), one_layer)) is (
        Verdict.FAILS
    )
    # the embedded model's one-layer arms: the all-layer update has |dtheta| sqrt(2.2)
    from quicktakes.insights.updates import LLMArm

    def with_arms(*arms: LLMArm) -> claims.SmallUpdatesMeasured:
        r = LandingResult(spread, spread, 90.0, 100, (2, 12), {"layer 1": 8, "layer 2": 7},
                          {"layer 1": 4, "layer 2": 5}, loss=0.5, steps=20, arms=list(arms))
        return claims.SmallUpdatesMeasured((holds,), r)

    costly = LLMArm("layer 2", 1e-3, [0.9, 0.4], 40, 3.0, 9)  # there, later, larger
    never = LLMArm("layer 1", 5e-3, [0.9, 0.8], None, 0.5, 3)  # small, never there
    assert claims.judge_small_updates(with_arms(costly, never)) is Verdict.PARTLY
    assert claims.judge_small_updates(with_arms(costly)) is Verdict.HOLDS
    quick = LLMArm("layer 2", 1e-3, [0.4, 0.3], 10, 3.0, 9)  # fewer steps, larger update
    assert claims.judge_small_updates(with_arms(quick)) is Verdict.PARTLY
    cheap = LLMArm("layer 2", 1e-3, [0.9, 0.4], 40, 1.0, 9)  # there with a smaller update
    assert claims.judge_small_updates(with_arms(costly, cheap)) is Verdict.FAILS
    text = claims.describe_small_updates(with_arms(costly, never), Verdict.PARTLY)
    assert "layer 2 at 0.001: 40 steps, |dtheta| 3.0" in text
    assert "layer 1 at 0.005: not there (loss 0.800)" in text and "in 20 steps" in text
    shown = claims.show_small_updates(with_arms(costly)).config["llm"]
    assert shown["arms"][0]["steps"] == 40 and shown["steps"] == 20
    lopsided = {"layer 1": (90, 0.5), "layer 2": (10, 9.5)}  # 10% of weights, 95% of it
    piled = LandingResult(lopsided, lopsided, 9.0, 100, (2, 12), {}, {"layer 1": 3})
    assert claims.judge_small_updates(claims.SmallUpdatesMeasured((holds,), piled)) is (
        Verdict.PARTLY
    )
    stuck = _result([0.2, 0.3], slow, steps=None)
    assert claims.judge_small_updates(claims.SmallUpdatesMeasured((stuck,))) is (
        Verdict.INCONCLUSIVE
    )


def test_small_updates_claim_end_to_end(monkeypatch):
    monkeypatch.setitem(claims.SMALL_UPDATES_SIZES, Budget.FAST,
                        claims.SmallUpdatesSizes(updates_seeds=2, updates_arm_steps=60))
    ctx = RunContext(Budget.FAST, seed=0, claim_id="insights.small-updates")
    ev = claims.SMALL_UPDATES(ctx)
    assert len(ev.config["runs"]) == 2 and ev.config["rule"] == claims.SMALL_UPDATES_RULE
    assert ev.config["runs"][0]["seed"] != ev.config["runs"][1]["seed"]
    names = {t.name for t in ev.trends}
    assert {"share of |dtheta|^2", "share of the parameters"} <= names
    assert "Seed 2:" in ev.finding
    assert claims.SMALL_UPDATES(ctx).finding == ev.finding


def test_the_embedded_models_fine_tune_is_read_layer_by_layer():
    from quicktakes.insights.reversal import ReversalSpec
    from quicktakes.insights.updates import group_of, reversal_landing

    spec = ReversalSpec(facts=4, epochs=1, eval_every=1, finetune="full", lr=1e-4,
                        paraphrases=1, test_templates=1, candidates=2, seed=0)
    ticks: dict[str, list] = {"landing": [], "arms": []}
    r = reversal_landing(spec, layers=["layer 1", "layer 30"], arm_rates=(1e-3, 3e-3),
                         arm_layers=["layer 30"], arm_epochs=3,
                         on_progress=lambda d, t: ticks["landing"].append((d, t)),
                         on_arm_progress=lambda d, t: ticks["arms"].append((d, t)))
    assert ticks == {"landing": [(1, 2), (2, 2)], "arms": [(1, 2), (2, 2)]}  # each its own
    assert set(r.kinds) == {"attention", "MLP", "embeddings", "norms"}
    assert r.total == sum(p for p, _ in r.kinds.values()) == sum(p for p, _ in r.groups.values())
    assert 134_000_000 < r.total < 135_000_000  # SmolLM2-135M, the tied head counted once
    shares = r.shares(r.kinds)
    assert sum(q for _, q in shares.values()) == pytest.approx(1)
    assert 1 < r.participation <= r.total
    assert set(r.removed) == set(r.alone) == {"layer 1", "layer 30"}
    assert all(0 <= v <= spec.facts for v in [*r.removed.values(), *r.alone.values()])
    # the all-layer run's target, and one layer trained alone at the better of two rates
    assert r.loss is not None and r.loss > 0 and r.steps == 1  # 4 statements, one batch
    (arm,) = r.arms
    assert [a.lr for a in r.tried] == [1e-3, 3e-3] and arm in r.tried
    assert arm.layer == "layer 30" and arm.lr in (1e-3, 3e-3) and len(arm.losses) == 3
    assert arm.norm > 0 and 0 <= arm.recalled <= spec.facts
    assert arm.steps is None or arm.steps in (1, 2, 3)
    assert (arm.steps is not None) == (min(arm.losses) <= r.loss)
    assert r.norm == pytest.approx(np.sqrt(sum(q for _, q in r.groups.values())))
    with pytest.raises(ConfigError, match="no decoder layer 'layer 31': the model has layer 1 "
                       "to layer 30"):
        reversal_landing(spec, arm_rates=(1e-3,), arm_layers=["layer 31"])
    with pytest.raises(ConfigError, match="no decoder layer 'embeddings'"):
        reversal_landing(spec, arm_rates=(1e-3,), arm_layers=["embeddings"])
    assert group_of("model.layers.11.mlp.up_proj.weight") == ("layer 12", "MLP")
    assert group_of("model.layers.0.input_layernorm.weight") == ("layer 1", "norms")
    assert group_of("model.norm.weight") == ("norms", "norms")


def test_each_layers_best_rate_is_the_quickest_to_the_loss_then_the_lowest_loss():
    from quicktakes.insights.updates import LLMArm, best_arms

    tried = [
        LLMArm("layer 1", 1e-3, [2.0, 1.0], None, 5.0, 3),
        LLMArm("layer 1", 5e-3, [2.0, 0.8], None, 9.0, 4),  # lower loss, not there
        LLMArm("layer 2", 1e-3, [0.9, 0.4], 40, 3.0, 9),
        LLMArm("layer 2", 5e-3, [0.4, 0.3], 20, 8.0, 9),  # there sooner
        LLMArm("layer 2", 2e-2, [0.4, 0.2], 20, 7.0, 9),  # as soon, smaller update
    ]
    assert [(a.layer, a.lr) for a in best_arms(tried)] == [("layer 1", 5e-3), ("layer 2", 2e-2)]
