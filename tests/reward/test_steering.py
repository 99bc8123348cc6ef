import numpy as np
import pytest
import torch

from quicktakes.reward.steering import (
    SteeringSpec,
    greedy_design,
    init_pair,
    kappa_star,
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


def test_a_linear_model_reaches_the_target_to_1e_6():
    res = steer(SteeringSpec(hidden=(), inputs=3, rounds=50), torch.Generator().manual_seed(0))
    assert res.reached and res.distance[-1] < 1e-6


def test_a_four_unit_tanh_network_reaches_1e_6():
    cfg = SteeringSpec(hidden=(4,), inputs=2, rounds=200, max_steps=20_000)
    res = steer(cfg, torch.Generator().manual_seed(1))
    assert res.reached, res.distance[-1]
    assert res.steps[-1] <= 20_000


def test_every_committed_update_is_one_plain_sgd_step():
    """Replaying the logged (x, y, lr) with torch.optim.SGD on squared error from the same
    start gives the same weights: nothing but single-pair SGD moved them."""
    cfg = SteeringSpec(hidden=(3,), inputs=2, rounds=6)
    res = steer(cfg, torch.Generator().manual_seed(5))
    model, theta_star = init_pair(cfg, torch.Generator().manual_seed(5))
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    for x, y, lr in res.log:
        for group in opt.param_groups:
            group["lr"] = float(lr)
        opt.zero_grad()
        (0.5 * (model(x[None])[0, 0] - y) ** 2).backward()
        opt.step()
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    replayed = float(torch.linalg.vector_norm(theta - theta_star))
    start, _ = init_pair(cfg, torch.Generator().manual_seed(5))
    d0 = float(torch.linalg.vector_norm(
        torch.cat([p.detach().reshape(-1) for p in start.parameters()]) - theta_star))
    assert replayed / d0 == pytest.approx(res.distance[-1], rel=1e-6, abs=1e-12)


def test_positive_rates_never_go_negative_and_signed_rates_do():
    pos = steer(SteeringSpec(hidden=(), inputs=3, rounds=20, positive_rates=True),
                torch.Generator().manual_seed(1))
    assert pos.reached and all(n == 0 for n in pos.negative_rates)
    signed = steer(SteeringSpec(hidden=(), inputs=3, rounds=3), torch.Generator().manual_seed(1))
    assert any(n > 0 for n in signed.negative_rates)


def test_greedy_design_picks_distinct_informative_rows():
    rng = np.random.default_rng(0)
    G = torch.from_numpy(np.vstack([rng.normal(size=(3, 4)), np.zeros((5, 4)), np.eye(4)]))
    idx = greedy_design(G, 4).tolist()
    assert len(set(idx)) == 4 and not set(idx) & set(range(3, 8))  # never a zero row


def test_kappa_star_of_a_linear_model_is_the_shortest_path():
    """For f(x) = w.x + b every gradient row is (x, 1); with unit inputs on the axes the
    cheapest way to move the bias alone is known."""
    model = mlp(1, ())
    X = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    # rows (1, 1) and (-1, 1): bias direction (0, 1) = 0.5 (1, 1) + 0.5 (-1, 1)
    k = kappa_star(model, torch.tensor([0.0, 1.0], dtype=torch.float64), X)
    assert k == pytest.approx(np.sqrt(2), rel=1e-9)


def test_same_seed_same_trajectory():
    cfg = SteeringSpec(hidden=(3,), inputs=2, rounds=3)
    a = steer(cfg, torch.Generator().manual_seed(4)).distance
    b = steer(cfg, torch.Generator().manual_seed(4)).distance
    assert a == b


def test_shooting_lands_the_unrolled_steps_nearer_their_aim():
    from quicktakes.reward.steering import _ordered, flat_params, shoot, unrolled

    cfg = SteeringSpec(hidden=(3,), inputs=2)
    model, theta_star = init_pair(cfg, torch.Generator().manual_seed(2))
    theta = flat_params(model)
    x = torch.randn(12, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        y = model(x)[:, 0] - 10.0
    _, G = per_example_grads(model, x, y)
    aim = theta + 0.3 * (theta_star - theta)
    c = torch.linalg.lstsq(G.T, (aim - theta)[:, None]).solution[:, 0]
    pairs = _ordered(x, y, -c / 10.0, "forward")
    before = torch.linalg.vector_norm(unrolled(model, theta, pairs)[-1] - aim)
    after = torch.linalg.vector_norm(unrolled(model, theta, shoot(model, pairs, aim, 3))[-1] - aim)
    assert after < 0.5 * before


def test_the_unrolled_jacobian_matches_finite_differences_of_the_sgd_steps():
    from quicktakes.reward.steering import flat_params, unrolled, unrolled_jacobian

    torch.manual_seed(1)
    model = mlp(2, (4,)).double()
    theta = flat_params(model)
    g = torch.Generator().manual_seed(2)
    xs = torch.rand(12, 2, generator=g, dtype=torch.float64) * 6 - 3
    ys = torch.randn(12, generator=g, dtype=torch.float64)
    lrs = torch.rand(12, generator=g, dtype=torch.float64) * 0.05
    pairs = list(zip(xs, ys, lrs, strict=True))

    def end(rates: torch.Tensor) -> torch.Tensor:
        steps = [(x, y, r) for (x, y, _), r in zip(pairs, rates, strict=True)]
        return unrolled(model, theta, steps)[-1]

    last, J = unrolled_jacobian(model, theta, pairs)
    assert torch.equal(last, end(lrs))
    h = 1e-6
    for k in range(12):
        e = torch.zeros(12, dtype=torch.float64)
        e[k] = h
        fd = (end(lrs + e) - end(lrs - e)) / (2 * h)
        assert torch.allclose(J[:, k], fd, atol=1e-7), k


def _random_round(hidden: int, steps: int, seed: int = 2) -> tuple:
    from quicktakes.reward.steering import flat_params

    torch.manual_seed(seed)
    model = mlp(2, (hidden,))
    g = torch.Generator().manual_seed(seed)
    xs = torch.rand(steps, 2, generator=g, dtype=torch.float64) * 6 - 3
    ys = torch.randn(steps, generator=g, dtype=torch.float64) * 3
    lrs = torch.rand(steps, generator=g, dtype=torch.float64) * 0.05
    return model, flat_params(model), xs, ys, lrs


def test_the_closed_form_jacobian_matches_finite_differences_on_a_two_unit_network():
    from quicktakes.reward.unroll import TanhNet, unroll, unrolled_jacobian

    model, theta, xs, ys, lrs = _random_round(2, 10)
    net = TanhNet(2, 2)
    x, y, lr = xs.numpy(), ys.numpy(), lrs.numpy()
    last, J = unrolled_jacobian(net, theta.numpy(), x, y, lr)
    assert np.array_equal(last, unroll(net, theta.numpy(), x, y, lr)[-1])
    h = 1e-6
    for k in range(10):
        e = np.zeros(10)
        e[k] = h
        fd = (unroll(net, theta.numpy(), x, y, lr + e)[-1]
              - unroll(net, theta.numpy(), x, y, lr - e)[-1]) / (2 * h)
        assert np.allclose(J[:, k], fd, atol=1e-7), k


@pytest.mark.parametrize("hidden", [1, 4, 8])
def test_the_closed_form_equals_autograd_through_the_module(hidden):
    """The engine's fast path and the torch.func path it replaced, in float64: the same
    steps (each one `sgd_step`'s arithmetic) and the same Jacobian to 1e-10."""
    from quicktakes.reward.steering import Unrolled, unrolled, unrolled_jacobian

    model, theta, xs, ys, lrs = _random_round(hidden, 24)
    pairs = list(zip(xs, ys, lrs, strict=True))
    fast = Unrolled(model, pairs)
    assert fast.net is not None  # one hidden layer: the closed form
    end, J = fast.jacobian(lrs)
    end_ref, J_ref = unrolled_jacobian(model, theta, pairs)
    assert torch.allclose(end, unrolled(model, theta, pairs)[-1], atol=1e-12, rtol=0)
    assert float((J - J_ref).abs().max()) <= 1e-10
    assert torch.allclose(end, end_ref, atol=1e-12, rtol=0)


def test_continuation_reaches_a_target_the_straight_engine_does_not():
    """A target whose unit 0 ends with an output weight near 0 while its input weights must
    move far: on the straight way the output weight shrinks first and strands the inputs
    (they get almost no gradient); the path through the waypoint moves the inputs first."""
    from quicktakes.reward.steering import flat_params

    cfg = SteeringSpec(hidden=(2,), inputs=2, rounds=200, tol=1e-6)
    model, target = init_pair(cfg, torch.Generator().manual_seed(1))
    theta0 = flat_params(model)
    target[6] = 0.02
    target[0:2] = theta0[0:2] + torch.tensor([1.5, -1.5], dtype=torch.float64)
    straight = steer(cfg.model_copy(update={"continuation": False}),
                     torch.Generator().manual_seed(1), target=target)
    bent = steer(cfg, torch.Generator().manual_seed(1), target=target)
    assert not straight.reached and straight.distance[-1] > 1e-2
    assert bent.reached and bent.steps[-1] < straight.steps[-1]
    assert bent.t[0] == 0.5 and bent.t[-1] == 1.0  # the waypoint, then the target
    assert any(0.5 < t < 1.0 for t in bent.t)  # output weight 0 shrinks: a cautious leg
    assert set(straight.t) == {1.0}


def test_the_default_engine_shoots_only_where_the_linear_round_misses():
    easy = steer(SteeringSpec(hidden=(), inputs=2, rounds=5, input_range=6.0),
                 torch.Generator().manual_seed(0))
    assert easy.shot == 0  # a linear model, moderate inputs: the round lands where it aims
    hard = steer(SteeringSpec(hidden=(4,), inputs=2, rounds=20), torch.Generator().manual_seed(12))
    assert hard.shot > 0
    never = steer(SteeringSpec(hidden=(4,), inputs=2, rounds=20, shoot=0),
                  torch.Generator().manual_seed(12))
    assert never.shot == 0


def test_a_target_of_another_shape_is_refused():
    from quicktakes.errors import ConfigError

    with pytest.raises(ConfigError, match="has 17"):
        steer(SteeringSpec(hidden=(4,)), torch.Generator(), target=torch.zeros(9))


def test_a_leg_into_a_vanishing_output_weight_is_walked_cautiously():
    """Where an output weight shrinks towards 0 its unit's inputs must be right before they stop
    getting a gradient: the leg starts at a tenth, each aim must be reached within the
    tolerance, and each next aim halves the rest of the leg."""
    from quicktakes.reward.steering import CAUTIOUS_LAST, CAUTIOUS_START, Aim
    from quicktakes.reward.unroll import TanhNet

    net = TanhNet(1, 2)  # weights w0 w1, biases b0 b1, outputs v0 v1, output bias
    theta0 = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.5, -0.5, 0.0], dtype=torch.float64)
    way = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.5, -0.5, 0.0], dtype=torch.float64)
    target = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.5, 0.01, 0.0], dtype=torch.float64)
    aim = Aim(theta0, target, way, net)
    assert aim.cautious == [False, True]
    assert aim.fragile[1].tolist() == [1, 3]  # unit 1's input weight and bias
    assert aim.t == 1.0 and aim.reached(way + 1e-3, 1e-6) is False  # a leg's end: tol
    assert aim.reached(way, 1e-6) and aim.leg == 1 and aim.t == CAUTIOUS_START
    ts = [aim.t]
    off = torch.zeros(7, dtype=torch.float64)
    while aim.t < 1.0:
        off[1] = 1e-4  # the shrinking unit's input weight: within the tolerance, no more
        assert not aim.reached(aim.point() + off, 1e-6)
        off[1], off[0] = 0.0, 0.05 * aim.step * aim.scale  # another's: a tenth of the step
        assert aim.reached(aim.point() + off, 1e-6)
        ts.append(aim.t)
    rests = [1 - t for t in ts]
    assert all(a / 2 - 1e-12 <= b < a for a, b in zip(rests[:-2], rests[1:-1], strict=True))
    assert rests[-2] < CAUTIOUS_LAST <= rests[-3] and rests[-1] == 0.0
    plain = Aim(theta0, way, None, net)  # no output weight shrinks: the leg's end at once
    assert plain.cautious == [False] and plain.t == 1.0


def test_the_waypoint_keeps_every_output_weight_large():
    from quicktakes.reward.steering import WAYPOINT_FLOOR, output_weights, waypoint

    cfg = SteeringSpec(hidden=(2,), inputs=2)
    theta0 = torch.full((9,), 0.01, dtype=torch.float64)
    target = torch.full((9,), 0.2, dtype=torch.float64)
    target[7] = -0.9
    way = waypoint(cfg, theta0, target)
    idx = output_weights(cfg)
    assert way is not None and idx is not None and idx.tolist() == [6, 7]
    assert way[6] == WAYPOINT_FLOOR and way[7] == -0.9  # raised to the floor; kept, sign kept
    keep = torch.ones(9, dtype=torch.bool)
    keep[idx] = False
    assert torch.equal(way[keep], target[keep])  # the target's input weights and biases
