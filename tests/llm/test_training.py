"""Fine-tuning and RL on the real embedded weights (dequantized, LoRA), tiny budgets."""

import numpy as np
import pytest
import torch

from quicktakes.errors import ConfigError
from quicktakes.llm import SampleCache
from quicktakes.maze.compare import check_equal_budgets
from quicktakes.maze.grid import MazeConfig
from quicktakes.maze.methods import IterationResult, LabResult
from quicktakes.maze.policy import LLMPolicy, state_text
from quicktakes.maze.train import TrainConfig, move_log_probs, run_training, train_steps

TINY = MazeConfig(size=4, coins=1, max_steps=3)


@pytest.fixture(scope="session")
def hf():
    from quicktakes.llm.hf import HFBackend

    return HFBackend(seed=0)


@pytest.fixture
def fresh(hf):
    hf.reset_adapter()
    yield hf
    hf.reset_adapter()


def _conv(hf, i=0):
    from quicktakes.maze.grid import maze_for_seed

    maze = maze_for_seed(TINY, i)
    return LLMPolicy(hf, SampleCache()).messages(state_text(maze, maze.start, frozenset(), 3))


def test_an_sft_step_lowers_the_loss_on_a_tiny_batch(fresh):
    convs, moves = [_conv(fresh, i) for i in range(4)], [0, 1, 2, 3]
    cfg = TrainConfig(lr=5e-3, epochs=3, batch=4)
    losses = train_steps(fresh, convs, moves, [1.0] * 4, cfg, np.random.default_rng(0))
    assert losses[-1] < losses[0]


def test_rl_update_raises_the_probability_of_a_rewarded_action(fresh):
    conv = [_conv(fresh)]
    with torch.no_grad():
        before = move_log_probs(fresh, conv, 0.7)[0, 3].item()
    cfg = TrainConfig(lr=5e-3, epochs=2, batch=1)
    train_steps(fresh, conv, [3], [1.0], cfg, np.random.default_rng(0))  # advantage +1 on R
    with torch.no_grad():
        after = move_log_probs(fresh, conv, 0.7)[0, 3].item()
    assert after > before


def test_saved_adapters_reload_with_identical_scores(fresh, tmp_path):
    conv = _conv(fresh)
    train_steps(
        fresh, [conv], [2], [1.0], TrainConfig(lr=5e-3, epochs=1, batch=1), np.random.default_rng(0)
    )
    trained = fresh.score(conv, ["U", "D", "L", "R"])
    ident = fresh.model_id
    fresh.save(tmp_path / "adapter")
    fresh.reset_adapter()
    assert fresh.model_id != ident and fresh.score(conv, ["U", "D", "L", "R"]) != trained
    fresh.load(tmp_path / "adapter")
    assert fresh.model_id == ident
    assert fresh.score(conv, ["U", "D", "L", "R"]) == pytest.approx(trained, abs=1e-9)


def test_training_resumes_without_redoing_finished_iterations(fresh, tmp_path):
    cfg = TrainConfig(
        method="sft-iter", iterations=2, samples=2, train_mazes=1, test_mazes=1, epochs=1, maze=TINY
    )
    notes: list[str] = []
    first = run_training(cfg, fresh, SampleCache(), tmp_path / "run", notes.append)
    fresh.reset_adapter()
    longer = cfg.model_copy(update={"iterations": 3})
    notes.clear()
    again = run_training(longer, fresh, SampleCache(), tmp_path / "run", notes.append)
    assert sum("already done" in n for n in notes) == 2
    assert [vars(i) for i in again.iterations[:2]] == [vars(i) for i in first.iterations]
    assert len(again.iterations) == 3


def test_compare_refuses_unequal_budgets():
    def lab(used):
        r = LabResult(TrainConfig(), "m")
        r.iterations = [IterationResult(0, u, 0.5, 0.4, 0.6, 8, 0.0) for u in used]
        return r

    check_equal_budgets({"few-shot": lab([8, 24]), "sft-iter": lab([8, 24]), "rl": lab([8, 24])})
    with pytest.raises(ConfigError, match="unequal"):
        check_equal_budgets({"few-shot": lab([8, 24]), "sft-iter": lab([8, 40])})


def test_a_run_directory_only_resumes_the_same_run(fresh, tmp_path):
    cfg = TrainConfig(
        method="sft-iter", iterations=1, samples=1, train_mazes=1, test_mazes=1, maze=TINY
    )
    run_training(cfg, fresh, SampleCache(), tmp_path / "run")
    with pytest.raises(ConfigError, match="lr"):
        run_training(cfg.model_copy(update={"lr": 0.5}), fresh, SampleCache(), tmp_path / "run")
