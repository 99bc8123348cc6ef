"""Steering a 4-unit tanh network (P = 17) to 1e-6: the engine against the bare sketch.

For 5 seeds, the default engine (designed inputs, damped rates, symmetric order) runs until
relative distance 1e-6 (at most 60,000 SGD steps); the sketch (random inputs, a straight
fraction of the way, forward order) then gets the same number of SGD steps. Prints each
seed's wall time and steps, the median wall time against the 30 s target, and the sketch's
distance after the same steps.

Then the shooting correction's Jacobian of the unrolled steps (M = 4P single-pair steps):
the O(M P^2) backward accumulation with Hessian-vector products against autograd through
the whole sequence (torch.func.jacrev), same inputs, with the largest difference.

Usage: python benchmarks/steering.py [--seeds 5] [--hidden 4]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn
from torch.func import grad, vmap

from quicktakes.reward.steering import (
    SteeringSpec,
    Step,
    flat_loss,
    flat_params,
    mlp,
    steer,
    unrolled,
    unrolled_jacobian,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=4)
    args = ap.parse_args()
    walls = []
    for seed in range(args.seeds):
        cfg = SteeringSpec(hidden=(args.hidden,), inputs=2, rounds=100_000, max_steps=60_000)
        start = time.perf_counter()
        res = steer(cfg, torch.Generator().manual_seed(seed))
        wall = time.perf_counter() - start
        walls.append(wall)
        sketch = SteeringSpec(hidden=(args.hidden,), inputs=2, rounds=100_000,
                                max_steps=max(res.steps[-1], 1), design="random",
                                rates="fraction", order="forward")
        old = steer(sketch, torch.Generator().manual_seed(seed))
        print(f"seed {seed}: engine {res.distance[-1]:.1e} after {res.steps[-1]:,} steps in "
              f"{wall:.1f} s ({'reached' if res.reached else 'not reached'}); sketch "
              f"{old.distance[-1]:.1e} after {old.steps[-1]:,} steps; kappa* "
              f"{res.kappa['start']:.0f}/{res.kappa['target']:.0f}", flush=True)
    med = statistics.median(walls)
    print(f"median wall time {med:.1f} s; target 30 s: {30 / med:.2f}x")
    for hidden in (4, 8, 16):
        jacobian(hidden)


def hvp_accumulation(
    model: nn.Module, theta0: torch.Tensor, pairs: list[Step]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The Jacobian the issue proposed: d theta_M / d lr_k = -(prod_{j>k} (I - lr_j H_j)) g_k
    accumulated backward, the product carried as A and updated as A - lr_j (H_j A^T)^T with
    one Hessian-vector product per row of A: O(M P^2), never forming H_j."""
    from torch.func import jvp

    loss = flat_loss(model)
    grad_fn = grad(loss)
    path = unrolled(model, theta0, pairs)
    P = theta0.numel()
    A = torch.eye(P, dtype=theta0.dtype)
    J = torch.empty(P, len(pairs), dtype=theta0.dtype)
    for k in reversed(range(len(pairs))):
        x, y, lr = pairs[k]

        def hvp(v: torch.Tensor, at: torch.Tensor = path[k], x: torch.Tensor = x,
                y: torch.Tensor = y) -> torch.Tensor:
            return jvp(lambda t: grad_fn(t, x, y), (at,), (v,))[1]

        J[:, k] = -A @ grad_fn(path[k], x, y)
        A = A - lr * vmap(hvp)(A)
    return path[-1], J


def jacobian(hidden: int, repeat: int = 3) -> None:
    torch.manual_seed(0)
    model = mlp(2, (hidden,)).double()
    theta = flat_params(model)
    m = 4 * theta.numel()
    g = torch.Generator().manual_seed(1)
    xs = torch.rand(m, 2, generator=g, dtype=torch.float64) * 12 - 6
    ys = torch.randn(m, generator=g, dtype=torch.float64)
    lrs = torch.rand(m, generator=g, dtype=torch.float64) * 0.01
    pairs = list(zip(xs, ys, lrs, strict=True))

    def best(fn: object) -> tuple[float, torch.Tensor]:
        """The fastest of `repeat` runs, and the Jacobian it returned."""
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            _, jac = fn()  # type: ignore[operator]
            times.append(time.perf_counter() - start)
        return min(times), jac

    ours, j_ours = best(lambda: hvp_accumulation(model, theta, pairs))
    auto, j_auto = best(lambda: unrolled_jacobian(model, theta, pairs))
    diff = j_ours - j_auto
    print(f"Jacobian of {m} unrolled steps (P = {theta.numel()}): O(M P^2) HVP accumulation "
          f"{ours:.3f} s, autograd through the sequence (the engine's) {auto:.3f} s: "
          f"HVP/autograd time {ours / auto:.2f}x; largest difference {float(diff.abs().max()):.1e}")


if __name__ == "__main__":
    main()
