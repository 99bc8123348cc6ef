import numpy as np

from quicktakes.ledger import Budget, Verdict, get_claim, run_claim
from quicktakes.nof1 import example
from quicktakes.nof1.analysis import analyze, hodges_lehmann


def test_seed_data_are_rebuilt_faithfully():
    data = example.trial_data()
    kept = data.analysed()
    assert len(data.days) == 17 and len(kept) == 16
    assert sorted(d.value for d in kept if d.arm == "physical book") == [0, 0, 2, 5, 22]
    assert [d.excluded for d in data.days if d.excluded][0].startswith("pre-registered")


def test_analysis_of_the_seed_trial():
    r = analyze(example.trial_data(), np.random.default_rng(0), with_power=False)
    means = {a.arm: a.mean for a in r.arms}
    assert means == {"physical book": 5.8, "phone": 21.0, "laptop": 21.8}
    assert r.contrast_test.method == "exact (4,368 relabelings)"
    assert 0.01 < r.contrast_test.p_value < 0.05
    assert 0 <= r.posterior["p_effect_above_smallest"] <= 1


def test_hodges_lehmann_is_the_median_pairwise_difference():
    assert hodges_lehmann(np.array([0.0, 1.0]), np.array([10.0, 12.0])) == 10.5


def test_sleep_means_claim_finds_the_discrepancy_from_the_data():
    r = run_claim(get_claim("nof1.sleep-means"), Budget.FAST, 0)
    assert r.evidence.verdict is Verdict.DISCREPANCY
    assert "5.8" in r.evidence.finding and "5.4" in r.evidence.finding


def test_sleep_effect_claim_applies_its_stated_rule():
    r = run_claim(get_claim("nof1.sleep-effect"), Budget.FAST, 0)
    assert r.evidence.verdict is Verdict.PARTLY  # p = 0.033: below 0.05, not below 0.01
    p_trend = r.evidence.trends[0]
    assert p_trend.points[-1].y == np.float64(0.03296703296703297)
