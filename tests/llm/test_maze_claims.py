"""The prompting claims end to end at a tiny budget on the embedded model: each runs (a crash
fails here, not in a user's report), and a subset or another order changes no number."""

import json

import pytest

from quicktakes.ledger import Budget, Verdict, get_claim, run_claim
from quicktakes.maze.grid import MazeConfig

RL_VS = "prompting.rl-vs-poor-mans-rl"


@pytest.fixture
def tiny(monkeypatch):
    import quicktakes.maze.alike as alike
    import quicktakes.maze.claims as claims
    import quicktakes.maze.compare as compare

    monkeypatch.setitem(compare.SIZES, Budget.FAST, compare.CompareSizes(
        iterations=2, samples=2, train_mazes=1, test_mazes=2))
    monkeypatch.setattr(
        compare, "DEFAULT_MAZE", MazeConfig(size=4, wall_density=0.2, coins=2, max_steps=4)
    )
    monkeypatch.setitem(claims.ALIKE_SIZES, Budget.FAST, claims.AlikeSizes(
        reps=3, samples=3, train_mazes=2, test_mazes=1, probes=4))
    monkeypatch.setattr(
        alike, "DEFAULT_MAZE", MazeConfig(size=4, wall_density=0.2, coins=2, max_steps=6)
    )
    return claims


def _fresh_process(monkeypatch, tmp_path, name):
    """What a new `quicktakes reproduce` would see: no runs on disk or cached (and, with a new
    `shared`, none in memory)."""
    # one thread whatever else the machine runs: another count sums in another order
    monkeypatch.setenv("QUICKTAKES_THREADS", "1")
    monkeypatch.setenv("QUICKTAKES_RUNS", str(tmp_path / name / "runs"))
    monkeypatch.setenv("QUICKTAKES_LLM_CACHE", str(tmp_path / name / "samples.db"))


def _numbers(result):
    d = result.to_dict()
    d.pop("seconds")
    return d


def test_a_claim_alone_and_after_another_gives_the_same_numbers(tiny, monkeypatch, tmp_path):
    _fresh_process(monkeypatch, tmp_path, "alone")
    alone = run_claim(get_claim(RL_VS), Budget.FAST, 3)
    assert alone.evidence.verdict is not Verdict.ERROR, alone.evidence.finding
    _fresh_process(monkeypatch, tmp_path, "after")
    shared: dict = {}  # one `reproduce` call: the second claim reads the first one's runs
    first = run_claim(get_claim("prompting.poor-mans-rl"), Budget.FAST, 3, shared=shared)
    assert first.evidence.verdict is not Verdict.ERROR, first.evidence.finding
    assert shared, "the comparison's runs are kept for the claims after it"
    after = run_claim(get_claim(RL_VS), Budget.FAST, 3, shared=shared)
    assert _numbers(after) == _numbers(alone)


def test_every_prompting_claim_runs_at_a_tiny_budget(tiny, monkeypatch, tmp_path):
    _fresh_process(monkeypatch, tmp_path, "all")
    for cid in ("prompting.very-poor-mans-rl", "prompting.updates-alike"):
        r = run_claim(get_claim(cid), Budget.FAST, 0)
        assert r.evidence.verdict is not Verdict.ERROR, (cid, r.evidence.finding)
        assert r.evidence.trends and r.evidence.finding
        if cid == "prompting.very-poor-mans-rl":  # few-shot read against prompting's ceiling
            assert "Prompting's ceiling here" in r.evidence.finding, r.evidence.finding


def test_every_method_starts_from_the_same_base_model_episodes(tiny, monkeypatch, tmp_path):
    """Iteration 0 is the base model for every method: one stream of episodes (common random
    numbers), scored once through the sample cache, so all of them report the same point."""
    from quicktakes.maze import compare
    from quicktakes.maze.compare import CompareSpec, run_compare

    _fresh_process(monkeypatch, tmp_path, "base")
    # sampled evaluation: greedy play would repeat the point by determinism alone
    monkeypatch.setitem(compare.SIZES, Budget.FAST, compare.CompareSizes(
        iterations=2, samples=2, train_mazes=1, test_mazes=6, evaluation="sampled"))
    cfg = CompareSpec(budget="fast", maze=MazeConfig(size=5, wall_density=0.2, coins=3,
                                                       max_steps=6))
    runs = run_compare(cfg, tmp_path / "runs", methods=("zero-shot", "few-shot", "oracle-bc",
                                                        "rl"))
    firsts = {m: runs[m].iterations[0] for m in ("zero-shot", "few-shot", "oracle-bc", "rl")}
    assert len({(i.mean, i.lo, i.hi, i.n) for i in firsts.values()}) == 1, firsts
    assert 0.0 < firsts["rl"].mean < 1.0  # a point that chance alone would not repeat
    assert len(runs["zero-shot"].iterations) == 1  # the base model's line: one evaluation


def test_with_step_selection_and_verification_every_learner_spends_the_same(
        tiny, monkeypatch, tmp_path):
    """A budget whose RL takes its credit per step, whose poor man's RL selects per step on
    RL's rollouts, and whose learners verify their updates (few-shot its prompt): RL's
    rollouts count as spent, few-shot and oracle BC draw as many more episodes per update,
    the verification episodes count, so every learner has spent the same at every
    checkpoint (`run_compare` refuses otherwise), and the findings say how each learner
    spent, selected and how many updates it kept."""
    from quicktakes.ledger import Budget
    from quicktakes.maze import compare
    from quicktakes.maze.claims import Runs, describe_poor
    from quicktakes.maze.compare import CompareSpec, run_compare

    _fresh_process(monkeypatch, tmp_path, "verified")
    monkeypatch.setitem(compare.SIZES, Budget.FAST, compare.CompareSizes(
        iterations=2, samples=2, train_mazes=2, test_mazes=2, max_pairs=3, credit="step",
        selection="step", verify=2))
    cfg = CompareSpec(budget="fast")
    assert {cfg.spec(m).extra_episodes for m in ("few-shot", "oracle-bc")} == {12}
    assert cfg.spec("oracle-bc").training_counts() == [8, 8]
    assert cfg.spec("sft-iter").select == cfg.spec("rl").select == "step"
    runs = run_compare(cfg, tmp_path / "runs", methods=compare.LEARNERS)
    spent = {m: [i.samples_used for i in runs[m].iterations] for m in compare.LEARNERS}
    # 4 episodes and 12 rollouts or more episodes; 2 verification mazes before and after
    assert set(map(tuple, spent.values())) == {(0, 2 * 2 + 4 * 3 + 2 + 2)}, spent
    assert all(len(runs[m].updates) == 1 and "kept" in runs[m].updates[0]
               for m in compare.LEARNERS)
    assert runs["rl"].updates[0]["rollouts"] == runs["sft-iter"].updates[0]["rollouts"] == 12
    m = Runs(runs)
    note = m.credit_note(("rl", "few-shot", "oracle-bc"))
    assert "credit per step (at 3 visited states" in note and "drew 12 more" in note
    poor = describe_poor(m, Verdict.INCONCLUSIVE)
    assert "SFT on the move that led to the most coins at each visited state" in poor
    assert "poor man's RL selected per step (at 3 visited states" in poor
    assert "Verified training with rollback (2 verification mazes" in poor
    assert "updates kept: poor man's RL " in poor and " of 1." in poor
    assert "updates kept: few-shot " in m.verify_note(("few-shot",))


def test_every_budget_trains_at_the_curves_rates_and_a_given_rate_or_tune_overrides():
    from quicktakes.maze.compare import CURVE_RATES, STEP_SELECTION_RATE, CompareSpec

    for budget in ("fast", "full"):
        cfg = CompareSpec(budget=budget)
        step = cfg.sizes().selection == "step"
        assert {m: cfg.rate(m) for m in CURVE_RATES} == CURVE_RATES | (
            {"sft-iter": STEP_SELECTION_RATE} if step else {})
    assert CompareSpec(budget="fast").rate("few-shot") is None  # nothing to train
    assert CompareSpec(budget="full", tune=True).rate("rl") is None  # the sweep decides
    assert CompareSpec(budget="full", rates={"rl": 1e-2}).rate("rl") == 1e-2


def test_maze_compare_reports_what_each_method_learned_paired(tiny, cli, monkeypatch, tmp_path):
    """`maze compare` writes and prints each learner's paired gain: its last iteration
    minus the base model on the same held-out mazes, recomputed here from the per-maze
    scores it also writes."""
    import numpy as np

    _fresh_process(monkeypatch, tmp_path, "compare")
    r = cli("maze", "compare", "--out", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "out" / "compare.json").read_text())
    methods, learned = data["methods"], data["learned"]
    assert set(learned) == {"few-shot", "oracle-bc", "sft-iter", "rl"}

    def scores(method, iteration):
        return np.array(methods[method]["iterations"][iteration]["scores"])

    expected = {m: scores(m, -1) - scores(m, 0) for m in ("oracle-bc", "sft-iter", "rl")}
    expected["few-shot"] = scores("few-shot", -1) - scores("zero-shot", -1)
    for m, d in expected.items():
        assert learned[m]["n"] == d.size == 2
        assert learned[m]["mean"] == pytest.approx(d.mean())
        assert learned[m]["lo"] <= learned[m]["mean"] <= learned[m]["hi"]
    assert "learned, oracle-bc:" in r.stdout
