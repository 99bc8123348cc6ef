import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from quicktakes.maze.alike import (
    adam_first_step,
    cosine,
    gradients,
    losses,
    mean_kl,
    random_band,
)
from quicktakes.maze.env import MazeState
from quicktakes.maze.policy import Trajectory


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 500))
def test_cosine_of_an_update_with_itself_and_its_negation(seed, dim):
    v = np.random.default_rng(seed).normal(size=dim)
    assert np.isclose(cosine(v, v), 1.0) and np.isclose(cosine(v, -v), -1.0)
    assert cosine(v, np.zeros(dim)) == 0.0


def test_random_directions_stay_inside_their_band():
    rng = np.random.default_rng(0)
    dim = 20_000
    cos = [cosine(rng.normal(size=dim), rng.normal(size=dim)) for _ in range(200)]
    inside = np.mean(np.abs(cos) < random_band(dim))
    assert 0.9 < inside <= 1.0 and abs(np.mean(cos)) < 0.01


def test_kl_of_a_distribution_with_itself_is_zero_and_positive_otherwise():
    p = np.log(np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]]))
    q = np.log(np.array([[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]]))
    assert mean_kl(p, p) == 0.0
    assert mean_kl(p[:1], q[:1]) > 0 and mean_kl(p[1:], q[1:]) > 0
    assert np.isclose(mean_kl(p[:1], q[:1]), 0.7 * np.log(2.8) + 0.3 * np.log(0.4))


def test_adams_first_step_is_what_torch_adamw_takes():
    g = torch.tensor([3.0, -1e-4, 2e-9, 0.5])
    w = torch.zeros(4, requires_grad=True)
    opt = torch.optim.AdamW([w], lr=1.0, weight_decay=0.0)
    w.grad = g.clone()
    opt.step()
    assert np.allclose(-w.detach().numpy(), adam_first_step(g.numpy()), atol=1e-6)
    # tiny coordinates move by nearly the rate: the sign pattern, not the gradient
    assert adam_first_step(g.numpy())[1] == pytest.approx(-1.0, abs=1e-3)


class Linear:
    """A softmax policy over four moves, linear in random state features: a model whose
    gradients are known in closed form."""

    def __init__(self, n: int, dim: int = 6, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.x = torch.tensor(rng.normal(size=(n, dim)), dtype=torch.float64)
        self.w = torch.tensor(rng.normal(size=(dim, 4)) * 0.3, requires_grad=True)

    def log_probs(self, rows: slice) -> torch.Tensor:
        return torch.log_softmax(self.x[rows] @ self.w, dim=-1)


def test_one_forward_pass_serves_every_loss_as_separate_passes_would():
    model, rng = Linear(40), np.random.default_rng(1)
    a = rng.normal(size=(40, 4)) * (rng.random((40, 1)) < 0.5)
    b = rng.normal(size=(40, 4))
    together = gradients(model.log_probs, 40, [model.w], {"a": a, "b": b, "a again": a})
    alone = gradients(model.log_probs, 40, [model.w], {"b": b}, batch=7)
    assert np.allclose(together["b"], alone["b"])
    assert cosine(together["a"], together["a again"]) == pytest.approx(1.0)
    # against the closed form: d/dW of -sum(c * log softmax(xW)) / rows
    logp = model.log_probs(slice(None)).detach()
    p, c = logp.exp().numpy(), b
    dlogits = -(c - p * c.sum(axis=1, keepdims=True))
    closed = (model.x.numpy().T @ dlogits) / 40
    assert np.allclose(together["b"], closed.flatten())


def test_permuted_advantages_carry_no_direction_on_random_data():
    n = 4000
    model, rng = Linear(n, dim=50), np.random.default_rng(2)
    moves = rng.integers(4, size=n)
    onehot = np.eye(4)[moves]
    # advantages that depend on the state: the real gradient has a direction to find
    adv = np.tanh(model.x.numpy()[:, 0]) * (moves == 1) + rng.normal(0, 0.1, n)
    g = gradients(model.log_probs, n, [model.w], {
        "rl": onehot * adv[:, None], "permuted": onehot * rng.permutation(adv)[:, None],
        "again": onehot * adv[:, None],
    }, batch=500)
    assert abs(cosine(g["rl"], g["permuted"])) < 0.2
    assert cosine(g["rl"], g["again"]) == pytest.approx(1.0)


def _episode(name: str, coins_after: list[int], moves: list[int]) -> Trajectory:
    """An episode on a two-coin maze: the coins held after each move."""
    before = [0, *coins_after][: len(moves)]
    visited = [MazeState((0, 0), (1 << c) - 1, t) for t, c in enumerate(before)]
    return Trajectory(1, [f"{name}{k}" for k in range(len(moves))], moves, visited,
                      coins_after[-1], 2)


def test_losses_read_the_rules_of_the_methods_they_stand_for():
    best = _episode("b", [1, 1, 2, 2], [0, 1, 2, 3])  # last coin on the third move
    worse = _episode("w", [0, 0, 0, 1], [-1, 0, 0, 3])  # a wasted reply first
    states, c = losses([[best, worse]], np.random.default_rng(0))
    # the wasted reply is read by no loss, so its state is left out
    assert states == ["b0", "b1", "b2", "b3", "w1", "w2", "w3"]
    # SFT: the best episode's moves up to its last coin, nothing after it
    assert c["sft"][:3].argmax(axis=1).tolist() == [0, 1, 2]
    assert c["sft"].sum(axis=1).tolist() == [1, 1, 1, 0, 0, 0, 0]
    # the null: another episode's moves, all of them
    assert c["sft random"].sum(axis=1).tolist() == [0, 0, 0, 0, 1, 1, 1]
    # RL: reward-to-go minus the group's mean at the same step (a coin is half of 2)
    togo_best, togo_worse = np.array([1.0, 0.5, 0.5, 0.0]), np.array([0.5, 0.5, 0.5, 0.5])
    mean = (togo_best + togo_worse) / 2
    credit = c["rl"].sum(axis=1)
    assert np.allclose(credit, [*(togo_best - mean), *(togo_worse - mean)[1:]])
    # permuted: the same advantages over the same credited moves, in another order
    moved = c["rl permuted"].sum(axis=1)
    assert sorted(moved) == pytest.approx(sorted(credit))
    assert ((c["rl permuted"] != 0) == (c["rl"] != 0)).all()
