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
from quicktakes.reward.unroll import TanhNet, unroll
from quicktakes.reward.unroll import unrolled_jacobian as closed_form


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
    input_range: float = Field(12.0, gt=0.0, description="greedy design: pool uniform on +-this")
    positive_rates: bool = Field(
        False, description="only positive learning rates: flip signs through the targets y_i"
    )
    shoot: int | None = Field(
        None, ge=0, le=50,
        description="Levenberg-Marquardt iterations on the round's rates against the true "
        "unrolled sequence of SGD steps; default: up to 5 whenever the linearized round "
        "misses its aim by more than it gains; 0: never",
    )
    continuation: bool = Field(
        True,
        description="when rounds keep failing, aim at a nearer point on the straight segment "
        "from the start to the target, and move that point on as rounds succeed",
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
    shot: int = 0
    """Rounds whose rates the shooting correction set."""
    t: list[float] = field(default_factory=list)
    """Continuation: where each accepted round aimed, as a share of the way to the target."""
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
            "shot": self.shot, "t": self.t,
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
    target: torch.Tensor | None = None,
) -> SteeringResult:
    """Move a fresh network's weights to an independent random target, one single-pair SGD
    step on squared error at a time; every committed step is logged and replayable. Each
    round ends with `on_progress(round, rounds)` and a `note` of the distance left."""
    if cfg.positive_rates and cfg.target_scale <= 0:
        raise ConfigError("positive rates need a residual to carry the sign")
    model, theta_star = init_pair(cfg, generator)
    if target is not None:  # a chosen target instead of the random one (drawn all the same)
        if target.shape != theta_star.shape:
            raise ConfigError(
                f"the target has {target.numel()} weights; a network with {cfg.inputs} inputs "
                f"and hidden widths {list(cfg.hidden)} has {theta_star.numel()}"
            )
        theta_star = target.to(theta_star.dtype)
    P = theta_star.numel()
    N = int(np.ceil(cfg.oversample * P))
    theta0 = flat_params(model)
    d0 = float(torch.linalg.vector_norm(theta0 - theta_star))
    result = SteeringResult(cfg, P, N, distance=[1.0], steps=[0])
    kappa_pool = _pool(cfg, cfg.pool * P, generator)
    result.kappa["start"] = kappa_star(model, theta_star - theta0, kappa_pool)
    at_target = mlp(cfg.inputs, cfg.hidden)
    set_flat(at_target, theta_star)
    result.kappa["target"] = kappa_star(at_target, theta_star - theta0, kappa_pool)
    eps, damping = cfg.eps, 1e-3  # a fraction of the way; the rates' damping (x sigma_max^2)
    way = waypoint(cfg, theta0, theta_star) if cfg.continuation else None
    aim = Aim(theta0, theta_star, way, tanh_net(cfg) if cfg.continuation else None)
    steps = failed = slow = 0
    for r in range(cfg.rounds):
        if cfg.max_steps is not None and steps >= cfg.max_steps:
            break
        before = flat_params(model)
        goal = aim.point()
        delta = goal - before
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
        ordered = _ordered(x, y, lr, cfg.order)
        corrected = _corrected(model, ordered, before + step, goal, cfg)
        result.shot += corrected is not None
        pairs = corrected or ordered
        for xi, yi, li in pairs:
            sgd_step(model, xi, yi, float(li))
        steps += len(pairs)
        after = flat_params(model)
        new = float(torch.linalg.vector_norm(goal - after))
        predicted = dist - float(torch.linalg.vector_norm(delta - step))
        ok = np.isfinite(new) and new < dist
        if not ok:
            set_flat(model, before)
            result.rejected += 1
            failed += 1
            eps /= 2
            damping *= 8
            if cfg.continuation and failed >= CONTINUATION_AFTER and aim.shorten(before):
                damping, eps, failed = 1e-3, cfg.eps, 0  # a nearer aim: a fresh trust region
                continue
            if frac * dist < 1e-12 * d0 or damping > 1e12:
                result.stalled = True
                break
            continue
        failed = 0
        slow = slow + 1 if frac < SLOW_STEP else 0
        if cfg.continuation and slow >= CONTINUATION_AFTER and aim.shorten(after):
            damping, eps, slow = 1e-3, cfg.eps, 0
        result.log.extend(pairs)
        ratio = (dist - new) / max(predicted, 1e-300)
        if cfg.rates == "fraction":
            eps = min(1.0, eps * 2)
        elif ratio < 0.25:
            damping *= 4
        elif ratio > 0.75:
            damping = max(damping / 4, 1e-12)
        if aim.reached(after, cfg.tol):
            damping = 1e-3
        left = float(torch.linalg.vector_norm(after - theta_star)) / d0
        result.distance.append(left)
        result.steps.append(steps)
        result.t.append(aim.share)
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
            note(f"distance {left:.2e}" + (f" (aiming at {aim.share:.3f} of the way)"
                                           if aim.share < 1 else ""))
        if left < cfg.tol:
            break
    return result


CONTINUATION_AFTER = 3
"""Rejected rounds in a row, or rounds in a row whose steps were short (`SLOW_STEP`), after
which the engine aims at a nearer point: its trust region keeps shrinking."""
SLOW_STEP = 0.02
"""A round whose step covers less than this share of the distance to its aim is short."""


WAYPOINT_FLOOR = 0.5
"""The waypoint's output weights are at least this large in size, so every unit's input weights
get a gradient on the way to it."""
SHRINK = 0.1
"""A leg along which some output weight shrinks to under this share of its size is cautious:
that unit's input weights must be right before its output weight stops passing them a
gradient. The claim's 4-unit seeds and 15 others all reach 1e-6 with it (`benchmarks/
steering.py`)."""
CAUTIOUS_START = 0.1
"""A cautious leg's first aim, as a share of the leg."""
CAUTIOUS_LAST = 1e-3
"""On a cautious leg, each aim halves what is left of the leg until less than this is left."""


class Aim:
    """Continuation: each round aims at a point on a path of straight legs to the target, at
    a share t of the current leg. t starts at 1 (the leg's end); when rounds keep failing, it
    moves back halfway towards where the weights stand, and once an aim is reached it moves on
    by twice the last step, up to the leg's end, then on to the next leg. A leg's end short of
    the target counts as reached within the run's tolerance.

    The path goes through a waypoint when one is given (`waypoint`): a tanh unit whose output
    weight is near 0 passes almost no gradient to its input weights, so a straight path along
    which an output weight shrinks early strands that unit's inputs. For the same reason a leg
    along which an output weight shrinks towards 0 (`net` gives the layout) is walked
    cautiously: it starts at `CAUTIOUS_START`, each aim holds the shrinking units' input
    weights within the tolerance, and each next aim halves the rest of the leg
    (`CAUTIOUS_LAST`)."""

    def __init__(
        self, theta0: torch.Tensor, theta_star: torch.Tensor,
        waypoint: torch.Tensor | None = None, net: TanhNet | None = None,
    ) -> None:
        stops = [theta0] + ([waypoint] if waypoint is not None else []) + [theta_star]
        self.legs = list(zip(stops[:-1], stops[1:], strict=True))
        self.fragile = [self._fragile(a, b, net) for a, b in self.legs]
        self.scale = float(torch.linalg.vector_norm(theta_star - theta0))
        self._start(0)

    def _start(self, leg: int) -> None:
        """Aim at the leg's end, or at `CAUTIOUS_START` of a cautious leg."""
        self.leg = leg
        self.t = self.step = CAUTIOUS_START if self.cautious[leg] else 1.0

    @staticmethod
    def _fragile(a: torch.Tensor, b: torch.Tensor, net: TanhNet | None) -> torch.Tensor:
        """The input weights and biases of the units whose output weight shrinks to under
        `SHRINK` of its size from `a` to `b`."""
        if net is None:
            return torch.zeros(0, dtype=torch.long)
        out = torch.from_numpy(net.output_weights)
        shrinks = (b[out].abs() < SHRINK * a[out].abs()).numpy()
        return torch.from_numpy(net.blocks[shrinks].reshape(-1))

    @property
    def cautious(self) -> list[bool]:
        """Per leg: whether some output weight shrinks to under `SHRINK` of its size."""
        return [f.numel() > 0 for f in self.fragile]

    @property
    def share(self) -> float:
        """How far along the whole path the aim is, in [0, 1]."""
        return (self.leg + self.t) / len(self.legs)

    def point(self) -> torch.Tensor:
        a, b = self.legs[self.leg]
        return a + self.t * (b - a)

    def progress(self, theta: torch.Tensor) -> float:
        """Where `theta` projects on the current leg, as a t in [0, 1]."""
        a, b = self.legs[self.leg]
        way = b - a
        return float(torch.clamp((theta - a) @ way / (way @ way), 0, 1))

    def shorten(self, theta: torch.Tensor) -> bool:
        """Aim halfway between where `theta` stands on the leg and the current aim; False
        when the step would be too short to matter."""
        here = min(self.progress(theta), self.t)
        step = (self.t - here) / 2
        if step < 1e-4:
            return False
        self.t, self.step = here + step, step
        return True

    def reached(self, theta: torch.Tensor, tol: float) -> bool:
        """Once near an aim short of the target (within a tenth of the last step, or within
        `tol` at a leg's end; on a cautious leg the shrinking units' input weights within
        `tol` too), move it on; True when it moved."""
        last = self.leg == len(self.legs) - 1
        if last and self.t >= 1.0:
            return False
        gap = self.point() - theta
        near = tol if self.t >= 1.0 else max(0.1 * self.step, tol)
        if float(torch.linalg.vector_norm(gap)) > near * self.scale:
            return False
        # empty unless the leg is cautious
        if float(torch.linalg.vector_norm(gap[self.fragile[self.leg]])) > tol * self.scale:
            return False
        if self.t >= 1.0:
            self._start(self.leg + 1)
            return True
        rest = 1.0 - self.t
        if not self.cautious[self.leg]:
            self.step = min(2 * self.step, rest)
        else:
            self.step = rest if rest < CAUTIOUS_LAST else min(2 * self.step, rest / 2)
        self.t = min(1.0, self.t + self.step)
        return True


def tanh_net(cfg: SteeringSpec) -> TanhNet | None:
    """The flat weights' layout, for one hidden layer."""
    return TanhNet(cfg.inputs, cfg.hidden[0]) if len(cfg.hidden) == 1 else None


def output_weights(cfg: SteeringSpec) -> torch.Tensor | None:
    """Where the output weights sit in the flat weights, for one hidden layer."""
    net = tanh_net(cfg)
    return None if net is None else torch.from_numpy(net.output_weights)


def waypoint(
    cfg: SteeringSpec, theta0: torch.Tensor, theta_star: torch.Tensor
) -> torch.Tensor | None:
    """For one hidden layer: the target's input weights with each unit's output weight at the
    larger in size of its start and target values, and at least `WAYPOINT_FLOOR`, so every
    unit's inputs move while its output weight still passes them a gradient; the output
    weights then move alone."""
    idx = output_weights(cfg)
    if idx is None:
        return None
    way = theta_star.clone()
    a, b = theta0[idx], theta_star[idx]
    big = torch.where(a.abs() > b.abs(), a, b)
    sign = torch.where(big < 0, -1.0, 1.0).to(big.dtype)
    way[idx] = sign * torch.clamp(big.abs(), min=WAYPOINT_FLOOR)
    return way


def _corrected(
    model: nn.Module, pairs: list[Step], aim: torch.Tensor, goal: torch.Tensor,
    cfg: SteeringSpec,
) -> list[Step] | None:
    """The round's pairs with their rates corrected by `shoot`, or None when the engine does
    not shoot: `--shoot 0`, or by default when the linearized round gains more than it misses
    its aim by (the true steps land within the step's own progress)."""
    if cfg.shoot == 0:
        return None
    steps = Unrolled(model, pairs)
    if cfg.shoot is None:
        landed = steps.end(steps.rates)
        miss = float(torch.linalg.vector_norm(aim - landed))
        gain = float(torch.linalg.vector_norm(goal - steps.theta0)
                     - torch.linalg.vector_norm(goal - landed))
        if miss <= gain:
            return None
    return _shoot(steps, aim, cfg.shoot or AUTO_SHOOT)


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


AUTO_SHOOT = 5
"""Levenberg-Marquardt iterations of the default engine's correction."""


class Unrolled:
    """The round's end and its Jacobian in the rates: in closed form (numpy, `unroll`) for a
    one-hidden-layer tanh network, else by torch.func through the module (`unrolled_jacobian`).
    """

    def __init__(self, model: nn.Module, pairs: list[Step]) -> None:
        self.model, self.theta0 = model, flat_params(model)
        linear = [m for m in model if isinstance(m, nn.Linear)]  # type: ignore[attr-defined]
        self.net = (TanhNet(linear[0].in_features, linear[0].out_features)
                    if len(linear) == 2 else None)
        self.x = torch.stack([x for x, _, _ in pairs])
        self.y = torch.stack([y for _, y, _ in pairs])
        self.rates = torch.stack([lr for _, _, lr in pairs])

    def end(self, rates: torch.Tensor) -> torch.Tensor:
        if self.net is None:
            return unrolled(self.model, self.theta0, self.pairs(rates))[-1]
        return torch.from_numpy(unroll(self.net, self.theta0.numpy(), self.x.numpy(),
                                       self.y.numpy(), rates.numpy())[-1])

    def jacobian(self, rates: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.net is None:
            return unrolled_jacobian(self.model, self.theta0, self.pairs(rates))
        end, jac = closed_form(self.net, self.theta0.numpy(), self.x.numpy(), self.y.numpy(),
                               rates.numpy())
        return torch.from_numpy(end), torch.from_numpy(jac)

    def pairs(self, rates: torch.Tensor) -> list[Step]:
        return list(zip(self.x, self.y, rates, strict=True))


def shoot(model: nn.Module, pairs: list[Step], aim: torch.Tensor, iterations: int) -> list[Step]:
    """Correct the rates so the true sequence of SGD steps lands nearer `aim`: Gauss-Newton
    (Levenberg-Marquardt damped) on the rates, with the exact Jacobian of the unrolled steps
    (`Unrolled`)."""
    return _shoot(Unrolled(model, pairs), aim, iterations)


def _shoot(steps: Unrolled, aim: torch.Tensor, iterations: int) -> list[Step]:
    lrs = steps.rates.clone()
    mu = 1e-3
    for _ in range(iterations):
        end, J = steps.jacobian(lrs)
        miss = aim - end
        JtJ = J.T @ J
        eye = torch.eye(len(lrs), dtype=lrs.dtype)
        delta = torch.linalg.solve(JtJ + mu * torch.diag(torch.diag(JtJ)) + 1e-12 * eye,
                                   J.T @ miss)
        trial = lrs + delta
        if torch.linalg.vector_norm(aim - steps.end(trial)) < torch.linalg.vector_norm(miss):
            lrs, mu = trial, mu / 3
        else:
            mu *= 10
    return steps.pairs(lrs)


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
