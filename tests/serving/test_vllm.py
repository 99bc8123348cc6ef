"""The scale path against a real vLLM server: seeded sampling, exact move scores that agree
with the torch trainer in fp32, LoRA adapters loaded at run time by their weights' hash, a run
end to end through the CLI, and the refusals (another model served, a server restarted)."""

from __future__ import annotations

import json

import pytest
import torch
from tests.conftest import assert_one_line_error

from quicktakes.errors import BackendError, ConfigError
from quicktakes.llm.base import Sampling
from quicktakes.llm.remote import OpenAIBackend, ServedAdapters, check_served, over_candidates
from quicktakes.maze.env import probe_conversations as probes
from quicktakes.maze.grid import MOVES

MSGS = [{"role": "user", "content": "Name a colour."}]
AGREE = 1e-3
"""Nats: vLLM and torch, both fp32, on the same prompts."""

pytestmark = pytest.mark.xdist_group("vllm")  # one server: every test on one worker


@pytest.fixture(scope="module")
def trainer(model_folder):
    from quicktakes.llm.hf import HFBackend

    return HFBackend(model_folder, seed=0, finetune="lora", precision="fp32")


def nudge(trainer, seed: int, scale: float = 0.05) -> None:
    """Give the adapter weights of its own (LoRA starts as the base model: B = 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in trainer.model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * scale)
    trainer.refresh_identity()


def gap(a: list[list[float]], b: list[list[float]]) -> float:
    """Largest difference of two backends' move scores, each over the four moves (vLLM
    reports them so; torch over the vocabulary)."""
    return max(abs(x - y) for ra, rb in zip(a, b, strict=True)
               for x, y in zip(over_candidates(ra), over_candidates(rb), strict=True))


def test_seeded_sampling_gives_the_same_text_twice(vllm):
    be = OpenAIBackend(vllm.url, concurrency=2)
    s = Sampling(temperature=1.0, max_tokens=12)
    first = be.generate(MSGS, s, [5, 6])
    assert be.generate(MSGS, s, [5, 6]) == first and first[0] != first[1]


def test_move_scores_are_exact_and_agree_with_torch_in_fp32(vllm, trainer):
    trainer.reset()
    convs = probes(12)
    be = OpenAIBackend(vllm.url, concurrency=4)
    served = be.score_batch(convs, list(MOVES))
    assert be.exact  # restricted to the moves: every move scored, none from a top 20
    ours = trainer.score_batch(convs, list(MOVES))
    largest = gap(served, ours)
    print(f"largest |vLLM - torch| over {len(convs)} probes x 4 moves: {largest:.2e} nats")
    assert largest < AGREE
    assert [max(range(4), key=r.__getitem__) for r in served] == [
        max(range(4), key=r.__getitem__) for r in ours]


def test_an_adapter_loads_under_its_hash_and_scores_as_in_torch(vllm, trainer, tmp_path):
    convs = probes(4)
    served = ServedAdapters(OpenAIBackend(vllm.url, concurrency=4))
    base = served.backend.score_batch(convs, list(MOVES))
    names = []
    for k in range(2):  # two iterations: two names, never one name reloaded
        nudge(trainer, k)
        trainer.save(tmp_path / f"iter-{k}")
        served.publish(tmp_path / f"iter-{k}", trainer.weights_id)
        names.append(served.backend.model)
        theirs = served.backend.score_batch(convs, list(MOVES))
        assert gap(theirs, trainer.score_batch(convs, list(MOVES))) < AGREE
        assert gap(theirs, base) > 0.01  # the adapter changed the scores
    assert names[0] != names[1] and all(n.startswith("quicktakes-") for n in names)
    trainer.reset()


def test_an_adapter_above_the_servers_rank_is_refused_in_one_line(vllm, model_folder,
                                                                   tmp_path):
    from quicktakes.llm.hf import HFBackend

    big = HFBackend(model_folder, seed=0, finetune="lora", precision="fp32", lora_rank=16)
    nudge(big, 3)
    big.save(tmp_path / "r16")
    served = ServedAdapters(OpenAIBackend(vllm.url))
    with pytest.raises(BackendError, match="refused adapter") as err:
        served.publish(tmp_path / "r16", big.weights_id)
    assert "\n" not in str(err.value)


def test_the_probe_refuses_a_server_of_another_model(vllm, trainer, model_folder):
    from quicktakes.llm.hf import HFBackend

    be = OpenAIBackend(vllm.url)
    trainer.reset()
    assert check_served(be, trainer, MOVES) < AGREE
    other = HFBackend(model_folder, seed=0, finetune="lora", precision="fp32")
    nudge(other, 9, scale=1.0)
    other.absorb()  # its base is now another model than the served one
    with pytest.raises(ConfigError, match="does not serve the model being trained"):
        check_served(be, other, MOVES)


def test_sft_iter_runs_one_iteration_end_to_end_from_the_cli(vllm, model_folder, cli, tmp_path):
    r = cli("maze", "run", "--method", "sft-iter", "--backend", "openai", "--base-url",
            vllm.url, "--train-model", str(model_folder), "--iterations", "2", "--samples", "2",
            "--train-mazes", "2", "--test-mazes", "2", "--precision", "fp32",
            "--out", str(tmp_path), "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["served_by"] == vllm.url and len(data["iterations"]) == 2


def test_a_server_restarted_mid_run_ends_in_one_line_not_base_model_samples(
        vllm, trainer, tmp_path):
    nudge(trainer, 5)
    trainer.save(tmp_path / "a")
    served = ServedAdapters(OpenAIBackend(vllm.url, max_retries=1))
    served.publish(tmp_path / "a", trainer.weights_id)
    vllm.restart()  # the adapter is gone; its name now answers 404
    with pytest.raises(BackendError, match="404") as err:
        served.backend.score_batch(probes(1), list(MOVES))
    assert "\n" not in str(err.value)
    trainer.reset()


def test_a_train_model_that_is_not_the_served_one_is_refused_before_any_sample(
        vllm, model_folder, cli, tmp_path, monkeypatch):
    import shutil

    from safetensors.torch import load_file, save_file

    other = tmp_path / "other-model"
    shutil.copytree(model_folder, other)
    weights = load_file(other / "model.safetensors")
    g = torch.Generator().manual_seed(1)
    for name in [k for k in weights if "mlp.down_proj" in k]:
        weights[name] = weights[name] + torch.randn(weights[name].shape, generator=g) * 0.05
    save_file(weights, other / "model.safetensors", metadata={"format": "pt"})
    cache = tmp_path / "samples.db"
    monkeypatch.setenv("QUICKTAKES_LLM_CACHE", str(cache))
    r = cli("maze", "run", "--method", "sft-iter", "--backend", "openai", "--base-url",
            vllm.url, "--train-model", str(other), "--iterations", "2", "--samples", "1",
            "--train-mazes", "1", "--test-mazes", "1", "--precision", "fp32",
            "--out", str(tmp_path / "runs"))
    assert_one_line_error(r, "does not serve the model being trained")
    if cache.exists():
        import sqlite3

        con = sqlite3.connect(cache)
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert all(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] == 0
                   for t in tables if t != "_migrations")
