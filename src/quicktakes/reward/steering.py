"""Steering a network's weights to a chosen target with chosen data and learning rates.

The seed's sketch: pick N >= P random pairs (x_i, y_i); their loss gradients g_i span the
parameter space, so theta* - theta = -sum_i lambda_i g_i for some lambda; one SGD step per pair
with learning rate lambda_i * eps moves theta about eps of the way to theta*. Repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, Field
from torch import nn
from torch.func import functional_call, grad, vmap

from quicktakes.errors import ConfigError
from quicktakes.progress import Note, Progress


class SteeringSpec(BaseModel):
    hidden: tuple[int, ...] = Field((4,), description="hidden layer widths")
    inputs: int = Field(2, ge=1, le=1024, description="input dimension")
    rounds: int = Field(200, ge=1, le=100_000, description="rounds of single-pair SGD steps")
    max_steps: int | None = Field(
        None, ge=1, description="stop after this many SGD steps in all (a budget)"
    )
    design: Literal["random", "greedy", "lp"] = Field(
        "greedy",
        description="inputs and rates: random N(0, 1) inputs with minimum-norm rates; inputs "
        "picked greedily from a wide pool (well conditioned) with minimum-norm rates; or the "
        "shortest SGD path from the pool (a linear program: minimum sum |lr_i| ||g_i||)",
    )
    order: Literal["forward", "symmetric"] = Field(
        "symmetric",
        description="forward: each pair once; symmetric: forward at half rate, then backward "
        "at half rate (cancels the first error term of sequential steps)",
    )
    rates: Literal["fraction", "trust"] = Field(
        "trust",
        description="fraction: a fraction eps of the straight way per round (halved on "
        "failure); trust: damped least squares on the rates (Levenberg-Marquardt), the damping "
        "grown or shrunk by achieved vs predicted progress",
    )
    eps: float = Field(0.25, gt=0.0, le=1.0, description="initial fraction of the way per round")
    oversample: float = Field(4.0, ge=1.0, le=10.0, description="N = ceil(oversample * P)")
    pool: int = Field(20, ge=2, le=200, description="greedy design: candidates per parameter")
    input_range: float = Field(6.0, gt=0.0, description="greedy design: pool uniform on +-this")
    positive_rates: bool = Field(
        False, description="only positive learning rates: flip signs through the targets y_i"
    )
    shoot: int = Field(
        0, ge=0, le=50,
        description="Levenberg-Marquardt iterations on the round's rates against the true "
        "unrolled sequence of SGD steps (0: none)",
    )
    tol: float = Field(1e-6, gt=0.0, description="stop once relative distance falls below")
    target_scale: float = Field(
        10.0, gt=0.0, description="the residual |f(x_i) - y_i|: large, so the rate carries scale"
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
    config: SteeringSpec
    parameters: int
    pairs_per_round: int
    distance: list[float] = field(default_factory=list)
    """||theta - theta*|| / ||theta_0 - theta*||, before round 1 and after each accepted round."""
    steps: list[int] = field(default_factory=list)
    """SGD steps taken (accepted and undone) when each distance was reached."""
    condition: list[float] = field(default_factory=list)
    """Condition number of each accepted round's gradient matrix."""
    cancellation: list[float] = field(default_factory=list)
    """sum_i |lr_i| ||grad loss_i|| / ||step||: path length per unit of displacement."""
    radius: list[float] = field(default_factory=list)
    """Each accepted round's step length relative to ||theta_0 - theta*||."""
    negative_rates: list[int] = field(default_factory=list)
    rejected: int = 0
    """Rounds undone because they did not bring theta closer."""
    stalled: bool = False
    """The step shrank below 1e-12 of the distance without a round getting closer."""
    kappa: dict[str, float] = field(default_factory=dict)
    """kappa*: the least SGD path length per unit displacement over a pool of inputs (a linear
    program), at the start and at the target."""
    log: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = field(
        default_factory=list, repr=False
    )
    """Every committed single-pair step as (x, y, lr): replayable with torch.optim.SGD."""

    @property
    def reached(self) -> bool:
        return self.distance[-1] < self.config.tol

    def to_dict(self) -> dict[str, object]:
        return {
            "config": self.config.model_dump(), "parameters": self.parameters,
            "pairs_per_round": self.pairs_per_round, "distance": self.distance,
            "steps": self.steps, "condition": self.condition,
            "cancellation": self.cancellation, "radius": self.radius,
            "negative_rates": self.negative_rates, "rejected": self.rejected,
            "stalled": self.stalled, "kappa": self.kappa, "reached": self.reached,
        }


def init_pair(cfg: SteeringSpec, generator: torch.Generator) -> tuple[nn.Module, torch.Tensor]:
    """A fresh network and an independent random target's weights, N(0, 0.5^2) each."""
    model = mlp(cfg.inputs, cfg.hidden)
    target_model = mlp(cfg.inputs, cfg.hidden)
    for m in (model, target_model):
        for p in m.parameters():
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * 0.5)
    return model, flat_params(target_model)


def set_flat(model: nn.Module, theta: torch.Tensor) -> None:
    with torch.no_grad():
        k = 0
        for p in model.parameters():
            p.copy_(theta[k : k + p.numel()].reshape(p.shape))
            k += p.numel()


def _pool(cfg: SteeringSpec, n: int, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand(n, cfg.inputs, generator=generator, dtype=torch.float64)
    return (2 * u - 1) * cfg.input_range


def greedy_design(G: torch.Tensor, n: int, ridge: float = 1e-8) -> torch.Tensor:
    """Indices of `n` rows of the pool's gradient matrix `G`, picked one at a time to add the
    most information (largest g M^-1 g^T, M = the picked rows' Gram matrix + ridge): a
    D-optimal greedy design, O(pool * P^2) per pick with Sherman-Morrison updates."""
    g = G.numpy()
    P = g.shape[1]
    Minv = np.eye(P) / (ridge * (float((g * g).sum(1).mean()) or 1.0))
    free = np.ones(g.shape[0], dtype=bool)
    picked: list[int] = []
    for _ in range(min(n, g.shape[0])):
        score = np.einsum("ij,jk,ik->i", g, Minv, g)
        score[~free] = -np.inf
        i = int(np.argmax(score))
        Mg = Minv @ g[i]
        Minv -= np.outer(Mg, Mg) / (1.0 + g[i] @ Mg)
        picked.append(i)
        free[i] = False
    return torch.tensor(picked)


def kappa_star(model: nn.Module, direction: torch.Tensor, X: torch.Tensor) -> float:
    """The least sum_i |lambda_i| ||g_i|| with sum_i lambda_i g_i = direction / ||direction||,
    over the output gradients g_i of the inputs X: the shortest SGD path per unit displacement
    (scipy's HiGHS linear program on lambda = u - v, u, v >= 0)."""
    from scipy.optimize import linprog

    with torch.no_grad():
        fx = model(X)[:, 0]
    _, G = per_example_grads(model, X, fx)
    g = G.numpy()
    norms = np.linalg.norm(g, axis=1)
    d = (direction / torch.linalg.vector_norm(direction)).numpy()
    res = linprog(
        np.concatenate([norms, norms]),
        A_eq=np.hstack([g.T, -g.T]),
        b_eq=d,
        bounds=(0, None),
        method="highs",
    )
    return float(res.fun) if res.status == 0 else float("inf")


def steer(
    cfg: SteeringSpec,
    generator: torch.Generator,
    on_progress: Progress | None = None,
    note: Note | None = None,
) -> SteeringResult:
    """Move a fresh network's weights to an independent random target, one single-pair SGD
    step on squared error at a time; every committed step is logged and replayable. Each
    round ends with `on_progress(round, rounds)` and a `note` of the distance left."""
    if cfg.positive_rates and cfg.target_scale <= 0:
        raise ConfigError("positive rates need a residual to carry the sign")
    model, theta_star = init_pair(cfg, generator)
    P = theta_star.numel()
    N = int(np.ceil(cfg.oversample * P))
    theta0 = flat_params(model)
    d0 = float(torch.linalg.vector_norm(theta0 - theta_star))
    result = SteeringResult(cfg, P, N, distance=[1.0], steps=[0])
    kappa_pool = _pool(cfg, cfg.pool * P, generator)
    result.kappa["start"] = kappa_star(model, theta_star - theta0, kappa_pool)
    target = mlp(cfg.inputs, cfg.hidden)
    set_flat(target, theta_star)
    result.kappa["target"] = kappa_star(target, theta_star - theta0, kappa_pool)
    eps, damping = cfg.eps, 1e-3  # a fraction of the way; the rates' damping (x sigma_max^2)
    steps = 0
    for r in range(cfg.rounds):
        if cfg.max_steps is not None and steps >= cfg.max_steps:
            break
        before = flat_params(model)
        delta = theta_star - before
        dist = float(torch.linalg.vector_norm(delta))
        x, G = _inputs(model, cfg, N, generator)
        # Sum_i -lr_i * residual_i * g_i = step, through coefficients c_i = -lr_i * res_i
        if cfg.rates == "trust":
            # Levenberg-Marquardt on the rates: the step that best approaches theta* for a
            # damped (short) path; the damping follows achieved vs predicted progress
            U, S, Vh = torch.linalg.svd(G.T, full_matrices=False)
            mu = damping * float(S[0]) ** 2
            c = Vh.T @ ((S / (S * S + mu)) * (U.T @ delta))
            step = G.T @ c
            frac = float(torch.linalg.vector_norm(step)) / dist
        else:
            frac = eps
            step = frac * delta
            if cfg.design == "lp":
                c = _shortest_path(G, step)
                keep = c != 0
                x, G, c = x[keep], G[keep], c[keep]
            else:
                c = torch.linalg.lstsq(G.T, step[:, None], driver="gelsd").solution[:, 0]
        with torch.no_grad():
            fx = model(x)[:, 0]
        R = cfg.target_scale
        if cfg.positive_rates:  # the residual carries the sign: lr > 0
            y, lr = fx + torch.sign(c) * R, c.abs() / R
        else:  # a fixed residual R; the rate carries the sign
            y, lr = fx - R, -c / R
        pairs = _ordered(x, y, lr, cfg.order)
        if cfg.shoot:
            pairs = shoot(model, pairs, before + step, cfg.shoot)
        for xi, yi, li in pairs:
            sgd_step(model, xi, yi, float(li))
        steps += len(pairs)
        new = float(torch.linalg.vector_norm(flat_params(model) - theta_star))
        predicted = dist - float(torch.linalg.vector_norm(delta - step))
        ok = np.isfinite(new) and new < dist
        if not ok:
            set_flat(model, before)
            result.rejected += 1
            eps /= 2
            damping *= 8
            if frac * dist < 1e-12 * d0 or damping > 1e12:
                result.stalled = True
                break
            continue
        result.log.extend(pairs)
        ratio = (dist - new) / max(predicted, 1e-300)
        if cfg.rates == "fraction":
            eps = min(1.0, eps * 2)
        elif ratio < 0.25:
            damping *= 4
        elif ratio > 0.75:
            damping = max(damping / 4, 1e-12)
        result.distance.append(new / d0)
        result.steps.append(steps)
        result.condition.append(float(torch.linalg.cond(G)))
        result.cancellation.append(
            float((lr.abs() * R * torch.linalg.vector_norm(G, dim=1)).sum())
            / float(torch.linalg.vector_norm(step))
        )
        result.radius.append(frac * dist / d0)  # the step's length relative to d0
        result.negative_rates.append(int((lr < 0).sum()))
        if on_progress:
            on_progress(r + 1, cfg.rounds)
        if note:
            note(f"distance {new / d0:.2e}")
        if new / d0 < cfg.tol:
            break
    return result


def _shortest_path(G: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """Coefficients c with sum_i c_i g_i = step and the least sum |c_i| ||g_i||: a linear
    program whose basic solution uses at most P of the candidates."""
    from scipy.optimize import linprog

    g = G.numpy()
    norms = np.linalg.norm(g, axis=1)
    res = linprog(np.concatenate([norms, norms]), A_eq=np.hstack([g.T, -g.T]),
                  b_eq=step.numpy(), bounds=(0, None), method="highs")
    if res.status != 0:
        return torch.linalg.lstsq(G.T, step[:, None], driver="gelsd").solution[:, 0]
    n = g.shape[0]
    c = res.x[:n] - res.x[n:]
    c[np.abs(c) < 1e-14 * np.abs(c).max()] = 0.0
    return torch.from_numpy(c)


Step = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


FlatLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def flat_loss(model: nn.Module) -> FlatLoss:
    """1/2 (f(x) - y)^2 as a function of the flat weight vector (for torch.func)."""
    shapes = [(k, p.shape, p.numel()) for k, p in model.named_parameters()]

    def loss(flat: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        params, i = {}, 0
        for k, shape, n in shapes:
            params[k] = flat[i : i + n].reshape(shape)
            i += n
        return 0.5 * (functional_call(model, params, (x[None],))[0, 0] - y) ** 2

    return loss


def unrolled(model: nn.Module, theta: torch.Tensor, pairs: list[Step]) -> list[torch.Tensor]:
    """theta after each of the single-pair SGD steps `pairs`, computed functionally (the same
    arithmetic as `sgd_step`, without touching the model)."""
    grad_fn = grad(flat_loss(model))
    out = [theta]
    for x, y, lr in pairs:
        out.append(out[-1] - lr * grad_fn(out[-1], x, y))
    return out


def unrolled_jacobian(
    model: nn.Module, theta0: torch.Tensor, pairs: list[Step]
) -> tuple[torch.Tensor, torch.Tensor]:
    """theta_M after the steps `pairs`, and its exact Jacobian in the rates,
    d theta_M / d lr_k = -(prod_{j>k} (I - lr_j H_j)) g_k, by reverse-mode autodiff through
    the unrolled steps. On a 2-core CPU it is 2-4x faster than the O(M P^2) backward
    accumulation with Hessian-vector products (benchmarks/steering.py, P = 17..65: per-step
    overhead, not arithmetic, dominates at these sizes) and ~15x faster than the products of
    explicit Hessians it replaces."""
    from torch.func import jacrev

    rates = torch.stack([lr for _, _, lr in pairs])

    def end(r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        steps = [(x, y, lr) for (x, y, _), lr in zip(pairs, r, strict=True)]
        last = unrolled(model, theta0, steps)[-1]
        return last, last.detach()

    jac, last = jacrev(end, has_aux=True)(rates)
    return last, jac


def shoot(model: nn.Module, pairs: list[Step], aim: torch.Tensor, iterations: int) -> list[Step]:
    """Correct the rates so the true sequence of SGD steps lands nearer `aim`: Gauss-Newton
    (Levenberg-Marquardt damped) on the rates, with the exact Jacobian of the unrolled steps
    (`unrolled_jacobian`)."""
    theta0 = flat_params(model)
    lrs = torch.stack([lr for _, _, lr in pairs]).clone()
    mu = 1e-3
    for _ in range(iterations):
        current = [(x, y, lr) for (x, y, _), lr in zip(pairs, lrs, strict=True)]
        end, J = unrolled_jacobian(model, theta0, current)
        miss = aim - end
        JtJ = J.T @ J
        eye = torch.eye(len(pairs), dtype=theta0.dtype)
        delta = torch.linalg.solve(JtJ + mu * torch.diag(torch.diag(JtJ)) + 1e-12 * eye,
                                   J.T @ miss)
        trial = lrs + delta
        new_miss = aim - unrolled(model, theta0, [
            (x, y, lr) for (x, y, _), lr in zip(pairs, trial, strict=True)
        ])[-1]
        if torch.linalg.vector_norm(new_miss) < torch.linalg.vector_norm(miss):
            lrs, mu = trial, mu / 3
        else:
            mu *= 10
    return [(x, y, lr) for (x, y, _), lr in zip(pairs, lrs, strict=True)]


def _inputs(
    model: nn.Module, cfg: SteeringSpec, n: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The round's inputs and their output-gradient rows: N of them, or for the linear
    program the whole pool (it picks)."""
    if cfg.design == "random":
        x = torch.randn(n, cfg.inputs, generator=generator, dtype=torch.float64)
    else:
        x = _pool(cfg, cfg.pool * n // int(np.ceil(cfg.oversample)), generator)
    with torch.no_grad():
        fx = model(x)[:, 0]
    _, G = per_example_grads(model, x, fx)
    if cfg.design == "greedy":
        idx = greedy_design(G, n)
        x, G = x[idx], G[idx]
    return x, G


def _ordered(
    x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor, order: str
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    forward = list(zip(x, y, lr, strict=True))
    if order == "forward":
        return forward
    half = [(a, b, c / 2) for a, b, c in forward]
    return half + half[::-1]
