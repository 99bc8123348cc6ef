"""meta.trends: the readings' arithmetic on hand-made draws, the judge on each verdict's case,
and the claim end to end at a tiny size (a real fine-tune and real Q-learning)."""

import numpy as np
import pytest

from quicktakes.insights import claims
from quicktakes.insights.trends import (
    QLearningDraws,
    Reading,
    Study,
    qlearning_study,
    spread_ratio,
    top1_share,
)
from quicktakes.ledger import Budget, RunContext, Verdict


def study(a, b, name="s") -> Study:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return Study(name, "hand-made", "share", (
        Reading("A", "level", tuple(a)),
        Reading("B", "level", tuple(b)),
        Reading("A minus B", "contrast", tuple(a - b)),
    ), ("A", "B"))


def test_readings_spread_sign_and_cross_draw_flips():
    s = study([2.0, 3.0], [0.0, 2.5])
    a, c = s.reading("A"), s.reading("A minus B")
    assert a.mean == 2.5 and a.sd == pytest.approx(np.std([2, 3], ddof=1))
    assert a.relative == pytest.approx(a.sd / 2.5)
    assert c.values == (2.0, 0.5) and c.sign_kept == 1.0
    # draw 0's A (2) against draw 1's B (2.5) points the wrong way; draw 1's A against 0's B not
    assert s.cross_flips() == 0.5
    assert Reading("x", "contrast", (1.0, -1.0)).sign_kept == 0.0  # mean 0: no sign to keep
    assert Reading("x", "contrast", (1.0, -0.5, 2.0)).sign_kept == pytest.approx(2 / 3)


def test_top1_counts_ties_first_and_reads_only_the_pool():
    table = np.array([[1.0, 1.0, 5.0],   # ties its pool's rival; 5 is outside its pool
                      [2.0, 0.0, 0.0],   # beaten by a rival in its pool
                      [0.0, 0.0, 3.0]])
    pool = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]], bool)
    assert top1_share(table, pool) == pytest.approx(2 / 3)


def _judged(*studies: Study) -> Verdict:
    rng = np.random.default_rng(0)
    return claims.judge_trends(
        claims.TrendsMeasured(studies, tuple(spread_ratio(s, rng) for s in studies))
    )


def test_the_judge_on_each_case():
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 0.1, 40)  # a draw's nuisance moves both levels together
    steady = study(0.8 + shared + rng.normal(0, 0.01, 40), 0.3 + shared)
    assert _judged(steady, steady) is Verdict.HOLDS
    # independent noise on each level: the contrast is the noisier reading
    noisy = study(0.8 + rng.normal(0, 0.01, 40), 0.79 + rng.normal(0, 0.01, 40))
    assert _judged(steady, noisy) is Verdict.FAILS  # its sign is kept in about half the draws
    wide = study(0.8 + rng.normal(0, 0.02, 40), 0.3 + rng.normal(0, 0.1, 40))
    verdicts = {_judged(steady, wide), _judged(wide, wide)}
    assert verdicts <= {Verdict.PARTLY, Verdict.INCONCLUSIVE, Verdict.FAILS}
    assert _judged(steady, wide) is not Verdict.HOLDS
    few = study([0.8, 0.9, 0.7], [0.3, 0.5, 0.2])
    assert _judged(few, steady) is Verdict.INCONCLUSIVE  # 3 draws place no spread


def test_qlearning_draws_are_seeded_and_bad_budgets_refused():
    spec = QLearningDraws(draws=4, mdps=20)
    a, b = qlearning_study(spec), qlearning_study(spec)
    assert a.to_dict() == b.to_dict() and a.draws == 4
    early, late = (r.mean for r in a.of("level"))
    assert late > early  # more updates learn more: the contrast has a sign to keep
    with pytest.raises(ValueError, match="early"):
        qlearning_study(QLearningDraws(early=10, updates=10))


TINY_REVERSAL = claims.ReversalSizes(
    facts=4, epochs=2, eval_every=1, paraphrases=1, test_templates=1, candidates=2, lr=1e-4
)


def test_trends_claim_end_to_end(monkeypatch):
    monkeypatch.setitem(claims.REVERSAL_SIZES, Budget.FAST, TINY_REVERSAL)
    monkeypatch.setitem(claims.TRENDS_SIZES, Budget.FAST, claims.TrendsSizes(
        trends_trainings=1, trends_pools=4, trends_q_draws=6, trends_q_mdps=20))
    ctx = RunContext(Budget.FAST, seed=0, claim_id="meta.trends")
    ev = claims.TRENDS(ctx)
    studies = ev.config["studies"]
    assert set(studies) == {"reversal curse", "Q-learning"}
    assert studies["reversal curse"]["draws"] == 4 and studies["Q-learning"]["draws"] == 6
    assert ev.config["rule"] == claims.TRENDS_RULE
    assert {t.name for t in ev.trends} >= {"reversal curse: forward minus reverse (contrast)"}
    assert "order the wrong way" in ev.finding
    assert ev.verdict is Verdict.INCONCLUSIVE  # 4 draws: under MIN_DRAWS
    assert claims.TRENDS(ctx).finding == ev.finding  # the same seed, the same evidence
