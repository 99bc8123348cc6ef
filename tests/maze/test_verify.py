"""Verified training with rollback (`maze.verify`), on the embedded model and the ladder's
one-step mazes: an update that helps the verification mazes is kept; one that hurts them is
undone exactly, the weights and the optimizer's state both, and the score it is judged
against stays the kept weights' score."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from quicktakes.llm.cache import SampleCache
from quicktakes.maze.env import OBSERVATIONS
from quicktakes.maze.grid import DELTAS
from quicktakes.maze.ladder import one_step_bank, one_step_maze
from quicktakes.maze.methods import episodes
from quicktakes.maze.policy import LLMPolicy
from quicktakes.maze.spec import LabSpec
from quicktakes.maze.train import Update, make_optimizer, train_steps
from quicktakes.maze.verify import Verifier

pytestmark = pytest.mark.slow

SEEDS = list(range(20_000, 20_016))
TRAIN = list(range(64))


def coin_move(seed: int) -> int:
    """The one move that takes a one-step maze's coin."""
    maze = one_step_maze(seed)
    (coin,) = maze.coins
    return DELTAS.index((coin[0] - maze.start[0], coin[1] - maze.start[1]))


def test_a_helpful_update_is_kept_and_a_harmful_one_is_undone(tmp_path):
    from quicktakes.maze.lab import make_trainer

    spec = LabSpec(method="oracle-bc", obs="coins", seed=1, precision="fp32", lr=3e-3)
    backend = make_trainer(spec)
    bank = one_step_bank()
    policy = LLMPolicy(backend, SampleCache(tmp_path / "cache.db"), temperature=0.7,
                       obs=OBSERVATIONS["coins"])
    verifier = Verifier(policy, bank, SEEDS, spec.seed)
    start = verifier.kept
    assert start < 0.5 and verifier.spent == len(SEEDS)  # the embedded model near chance

    # the training mazes' start states, labelled with the coin's move or the one away from it
    played = episodes(policy, bank, TRAIN, 1, spec.seed, "states")
    convs = [policy.messages(g[0].states[0]) for g in played]
    right = np.eye(4)[[coin_move(s) for s in TRAIN]]
    wrong = np.eye(4)[[coin_move(s) ^ 1 for s in TRAIN]]  # U<->D, L<->R: away from the coin
    rng = np.random.default_rng(0)
    opt = make_optimizer(backend, spec)

    helped = verifier.update(
        backend, opt, lambda: train_steps(backend, Update(convs, right), spec, rng, opt))
    assert helped["kept"] == 1.0 and helped["verify_before"] == start
    assert helped["verify_after"] > start + 0.3 and verifier.kept == helped["verify_after"]
    weights = backend.snapshot()
    moments = {k: v["exp_avg"].clone() for k, v in opt.state_dict()["state"].items()}
    steps = {k: float(v["step"]) for k, v in opt.state_dict()["state"].items()}
    identity = backend.weights_id

    hurt = verifier.update(
        backend, opt, lambda: train_steps(backend, Update(convs, wrong), spec, rng, opt))
    assert hurt["kept"] == 0.0 and hurt["verify_after"] < hurt["verify_before"], hurt
    assert verifier.kept == helped["verify_after"]  # judged against the kept weights
    after = backend.snapshot()
    assert all(torch.equal(weights[k], after[k]) for k in weights)
    assert backend.weights_id == identity  # the cached samples of the kept weights apply
    state = opt.state_dict()["state"]
    assert all(torch.equal(moments[k], state[k]["exp_avg"]) for k in moments)
    assert all(float(state[k]["step"]) == steps[k] for k in steps)
    assert verifier.score() == verifier.kept
