import torch

from quicktakes.reward.steering import (
    SteeringConfig,
    mlp,
    per_example_grads,
    per_example_grads_loop,
    steer,
)


def test_vmap_gradients_equal_a_backward_loop():
    torch.manual_seed(0)
    model = mlp(3, (5, 4))
    x = torch.randn(7, 3, dtype=torch.float64)
    y = torch.randn(7, dtype=torch.float64)
    fast, _ = per_example_grads(model, x, y)
    assert torch.allclose(fast, per_example_grads_loop(model, x, y), atol=1e-12)


def test_steering_reaches_the_target_on_a_linear_model():
    res = steer(SteeringConfig(hidden=(), inputs=3, rounds=30), torch.Generator().manual_seed(0))
    assert res.reached
    assert res.distance[-1] < 1e-3


def test_positive_rate_variant_never_uses_a_negative_rate_and_reaches():
    cfg = SteeringConfig(hidden=(), inputs=3, rounds=30, positive_rates=True)
    res = steer(cfg, torch.Generator().manual_seed(1))
    assert res.reached
    assert res.negative_rates and all(n == 0 for n in res.negative_rates)


def test_signed_variant_does_use_negative_rates():
    res = steer(SteeringConfig(hidden=(), inputs=3, rounds=3), torch.Generator().manual_seed(1))
    assert any(n > 0 for n in res.negative_rates)


def test_every_accepted_round_gets_closer_on_a_nonlinear_network():
    res = steer(SteeringConfig(hidden=(4,), inputs=2, rounds=8), torch.Generator().manual_seed(0))
    assert all(b < a for a, b in zip(res.distance, res.distance[1:], strict=False))
    assert res.pairs_per_round >= res.parameters


def test_same_seed_same_trajectory():
    cfg = SteeringConfig(hidden=(3,), inputs=2, rounds=3)
    a = steer(cfg, torch.Generator().manual_seed(4)).distance
    b = steer(cfg, torch.Generator().manual_seed(4)).distance
    assert a == b
