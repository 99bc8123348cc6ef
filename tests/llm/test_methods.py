import json

from quicktakes.llm import SampleCache
from quicktakes.maze.grid import MazeConfig
from quicktakes.maze.methods import best_examples, run_prompting
from quicktakes.maze.policy import LLMPolicy, Trajectory
from quicktakes.maze.spec import LabSpec

SMALL = MazeConfig(size=5, coins=2, max_steps=6)


def test_few_shot_budget_accounting_and_examples(local_backend, tmp_path):
    cfg = LabSpec(
        method="few-shot", iterations=2, samples=2, shots=3, train_mazes=2, test_mazes=2, maze=SMALL
    )
    policy = LLMPolicy(local_backend, SampleCache(tmp_path / "c.db"))
    r = run_prompting(cfg, policy)
    assert [i.samples_used for i in r.iterations] == [0, 2 * 2]  # training samples only
    assert len(policy.examples) <= 3
    assert all(reply in "UDLR" for _, reply in policy.examples)
    assert r.iterations[1].examples == len(policy.examples)


def test_best_of_n_uses_n_samples_per_test_maze(local_backend, tmp_path):
    cfg = LabSpec(method="best-of-n", iterations=1, samples=3, test_mazes=2, maze=SMALL)
    r = run_prompting(cfg, LLMPolicy(local_backend, SampleCache(tmp_path / "c.db")))
    assert r.iterations[0].samples_used == 6 and r.iterations[0].n == 2


def test_plan_mode_runs_with_the_grammar_and_counts_invalid_output(local_backend, tmp_path):
    cfg = LabSpec(method="zero-shot", mode="plan", iterations=1, test_mazes=2, maze=SMALL)
    r = run_prompting(cfg, LLMPolicy(local_backend, SampleCache(tmp_path / "c.db"), mode="plan"))
    it = r.iterations[0]
    assert 0 <= it.mean <= 1 and it.invalid_rate == 0.0  # the grammar allows only moves


def test_plan_mode_examples_are_whole_move_strings():
    t = Trajectory(1, states=["start"], moves=[0, 3, -1, 1], coins=1, optimum=2)
    assert best_examples([t], 4, mode="plan") == [("start", "URD")]


def test_llm_cache_cli(cli, local_backend):
    SampleCache().score(local_backend, [{"role": "user", "content": "hi"}], ["U", "D"])
    stats = json.loads(cli("llm", "cache", "stats", "--json").stdout)
    assert stats["entries"][0]["kind"] == "score" and stats["entries"][0]["count"] == 1
    kept = cli("llm", "cache", "clear", input="n\n")
    assert "nothing deleted" in kept.stdout
    assert json.loads(cli("llm", "cache", "stats", "--json").stdout)["entries"]
    assert json.loads(cli("llm", "cache", "stats", "--json").stdout)["size_bytes"] > 0
    assert "removed 1" in cli("llm", "cache", "clear", "--yes").stdout
    assert json.loads(cli("llm", "cache", "stats", "--json").stdout)["entries"] == []


def test_oracle_few_shot_spends_nothing_and_prompts_with_optimal_moves(local_backend, tmp_path):
    cfg = LabSpec(method="oracle-few-shot", iterations=2, shots=4, train_mazes=2,
                  test_mazes=2, maze=SMALL)
    policy = LLMPolicy(local_backend, SampleCache(tmp_path / "c.db"))
    r = run_prompting(cfg, policy)
    assert [i.samples_used for i in r.iterations] == [0, 0]  # the solver's labels are free
    assert [i.examples for i in r.iterations] == [len(policy.examples)] * 2
    assert 1 <= len(policy.examples) <= 4
    assert all(reply in "UDLR" for _, reply in policy.examples)


def _verified_few_shot(verify: int) -> LabSpec:
    return LabSpec(method="few-shot", iterations=3, samples=2, shots=3, train_mazes=2,
                   test_mazes=2, maze=SMALL, verify=verify)


def test_few_shot_verifies_each_new_prompt_and_counts_the_verification(local_backend, tmp_path):
    policy = LLMPolicy(local_backend, SampleCache(tmp_path / "c.db"))
    r = run_prompting(_verified_few_shot(2), policy)
    # 4 training episodes per update; 2 verification mazes before the first and after each
    assert [i.samples_used for i in r.iterations] == [0, 4 + 2 + 2, 4 + 2 + 2 + 4 + 2]
    assert [set(d) for d in r.updates] == [{"verify_before", "verify_after", "kept"}] * 2
    first, second = r.updates
    bar = first["verify_after"] if first["kept"] else first["verify_before"]
    assert second["verify_before"] == bar  # judged against the prompt kept so far


def test_a_few_shot_prompt_that_verifies_worse_is_put_back(local_backend, tmp_path, monkeypatch):
    from quicktakes.maze.verify import Verifier

    cache = SampleCache(tmp_path / "c.db")
    plain = run_prompting(_verified_few_shot(0), LLMPolicy(local_backend, cache))
    assert plain.iterations[1].examples > 0 and not plain.updates  # unverified: it changed

    scores = iter([0.5, 0.25, 0.0])  # the fault: every new prompt verifies worse
    monkeypatch.setattr(Verifier, "score", lambda self: next(scores))
    policy = LLMPolicy(local_backend, cache)
    r = run_prompting(_verified_few_shot(2), policy)
    assert [d["kept"] for d in r.updates] == [0.0, 0.0]
    assert [d["verify_before"] for d in r.updates] == [0.5, 0.5]
    assert [i.examples for i in r.iterations] == [0, 0, 0] and policy.examples == []
