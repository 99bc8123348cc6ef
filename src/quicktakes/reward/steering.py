"""Steering a network's weights to a chosen target with chosen data and learning rates.

The seed's sketch: pick N >= P random pairs (x_i, y_i); their loss gradients g_i span the
parameter space, so theta* - theta = -sum_i lambda_i g_i for some lambda; one SGD step per pair
with learning rate lambda_i * eps moves theta about eps of the way to theta*. Repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from pydantic import BaseModel, Field
from torch import nn
from torch.func import functional_call, grad, vmap

from quicktakes.errors import ConfigError


class SteeringConfig(BaseModel):
    hidden: tuple[int, ...] = Field((16, 16), description="hidden layer widths")
    inputs: int = Field(4, ge=1, le=1024, description="input dimension")
    rounds: int = Field(30, ge=1, le=10_000, description="rounds of N single-pair SGD steps")
    eps: float = Field(0.25, gt=0.0, le=1.0, description="initial fraction of the way per round")
    oversample: float = Field(2.0, ge=1.0, le=10.0, description="N = ceil(oversample * P)")
    positive_rates: bool = Field(
        False, description="only positive learning rates: flip signs through the targets y_i"
    )
    tol: float = Field(1e-3, gt=0.0, description="stop once relative distance falls below")
    target_scale: float = Field(
        10.0, gt=0.0, description="scale of the outputs y_i; large keeps residuals steady"
    )


def mlp(inputs: int, hidden: tuple[int, ...]) -> nn.Sequential:
    """A tanh MLP with one output: smooth, so per-example gradients are generically independent."""
    if any(h < 1 for h in hidden):
        raise ConfigError(f"hidden widths must be positive, got {hidden}")
    layers: list[nn.Module] = []
    width = inputs
    for h in hidden:
        layers += [nn.Linear(width, h), nn.Tanh()]
        width = h
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers).double()


def flat_params(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def per_example_grads(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example gradients of 1/2 (f(x_i) - y_i)^2 as an (N, P) matrix, with torch.func.

    Also returns the (N, P) output Jacobian rows grad f(x_i), which the positive-rate
    variant needs: the loss gradient is the residual times this row.
    """
    params = {k: v.detach() for k, v in model.named_parameters()}

    def out(p: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        return functional_call(model, p, (xi[None],))[0, 0]

    def loss(p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        return 0.5 * (out(p, xi) - yi) ** 2

    def stack(g: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([g[k].reshape(x.shape[0], -1) for k in params], dim=1)

    g_loss = stack(vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y))
    g_out = stack(vmap(grad(out), in_dims=(None, 0))(params, x))
    return g_loss, g_out


def per_example_grads_loop(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The baseline: one backward() per example."""
    rows = []
    for xi, yi in zip(x, y, strict=True):
        model.zero_grad()
        (0.5 * (model(xi[None])[0, 0] - yi) ** 2).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))  # type: ignore[union-attr]
    return torch.stack(rows)


def sgd_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float) -> None:
    """Plain backprop on one pair: theta <- theta - lr * grad 1/2 (f(x) - y)^2."""
    model.zero_grad()
    (0.5 * (model(x[None])[0, 0] - y) ** 2).backward()
    with torch.no_grad():
        for p in model.parameters():
            p.sub_(lr * p.grad)  # type: ignore[operator]


@dataclass
class SteeringResult:
    config: SteeringConfig
    parameters: int
    pairs_per_round: int
    distance: list[float] = field(default_factory=list)
    """||theta - theta*|| / ||theta_0 - theta*||, before round 1 and after each round."""
    condition: list[float] = field(default_factory=list)
    """Condition number of the round's gradient matrix."""
    negative_rates: list[int] = field(default_factory=list)
    """How many of the round's learning rates were negative."""
    eps: list[float] = field(default_factory=list)
    """The step fraction each round used."""
    rejected: int = 0
    """Rounds undone because they did not bring theta closer (eps was halved)."""
    stalled: bool = False
    """eps fell below 1e-6 without a round getting closer: first order no longer holds."""

    @property
    def reached(self) -> bool:
        return self.distance[-1] < self.config.tol


def steer(
    cfg: SteeringConfig,
    generator: torch.Generator,
    on_round: Callable[[int, float], None] | None = None,
) -> SteeringResult:
    """Move a fresh network's weights to an independent random target, one pair at a time."""
    model = mlp(cfg.inputs, cfg.hidden)
    target_model = mlp(cfg.inputs, cfg.hidden)
    for m in (model, target_model):
        for p in m.parameters():
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * 0.5)
    theta_star = flat_params(target_model)
    P = theta_star.numel()
    N = int(np.ceil(cfg.oversample * P))
    d0 = float(torch.linalg.vector_norm(flat_params(model) - theta_star))
    result = SteeringResult(cfg, P, N, distance=[1.0])
    eps = cfg.eps
    for r in range(cfg.rounds):
        # The sketch is first order: each SGD step sees the weights moved by the steps before
        # it. The drift is second order in eps * ||delta||, so a round that fails to get closer
        # is undone and retried with half the eps; a round that succeeds lets eps grow back.
        before = [p.detach().clone() for p in model.parameters()]
        dist_before = result.distance[-1]
        while True:
            dist, cond, negatives = _round(model, theta_star, d0, eps, N, cfg, generator)
            if np.isfinite(dist) and dist < dist_before:
                break
            result.rejected += 1
            with torch.no_grad():
                for p, b in zip(model.parameters(), before, strict=True):
                    p.copy_(b)
            eps /= 2
            if eps < 1e-6:
                result.stalled = True
                return result
        result.distance.append(dist)
        result.condition.append(cond)
        result.negative_rates.append(negatives)
        result.eps.append(eps)
        eps = min(1.0, eps * 2)
        if on_round:
            on_round(r + 1, dist)
        if dist < cfg.tol:
            break
    return result


def _round(
    model: nn.Module,
    theta_star: torch.Tensor,
    d0: float,
    eps: float,
    N: int,
    cfg: SteeringConfig,
    generator: torch.Generator,
) -> tuple[float, float, int]:
    """One round of the sketch: N fresh pairs, their rates, N single-pair SGD steps."""
    x = torch.randn(N, cfg.inputs, generator=generator, dtype=torch.float64)
    delta = theta_star - flat_params(model)
    with torch.no_grad():
        fx = model(x)[:, 0]
    if cfg.positive_rates:
        # Loss gradient = (f(x_i) - y_i) * grad f(x_i): choose y_i = f(x_i) - sign(c_i), so the
        # residual carries the sign and the learning rate |c_i| * eps stays positive.
        _, G = per_example_grads(model, x, fx)
        c = torch.linalg.lstsq(G.T, -delta[:, None], driver="gelsd").solution[:, 0]
        y = fx - torch.sign(c) * cfg.target_scale
        lr = c.abs() / cfg.target_scale * eps
    else:
        y = torch.randn(N, generator=generator, dtype=torch.float64) * cfg.target_scale
        G, _ = per_example_grads(model, x, y)
        lam = torch.linalg.lstsq(G.T, -delta[:, None], driver="gelsd").solution[:, 0]
        lr = lam * eps
    for i in range(N):
        sgd_step(model, x[i], y[i], float(lr[i]))
    dist = float(torch.linalg.vector_norm(flat_params(model) - theta_star)) / d0
    return dist, float(torch.linalg.cond(G)), int((lr < 0).sum())
