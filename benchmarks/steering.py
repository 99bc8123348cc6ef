"""Steering a 4-unit tanh network (P = 17) to 1e-6: the engine against the bare sketch.

For 5 seeds, the default engine (designed inputs, damped rates, symmetric order) runs until
relative distance 1e-6 (at most 60,000 SGD steps); the sketch (random inputs, a straight
fraction of the way, forward order) then gets the same number of SGD steps. Prints each
seed's wall time and steps, the median wall time against the 30 s target, and the sketch's
distance after the same steps.

Usage: python benchmarks/steering.py [--seeds 5] [--hidden 4]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from quicktakes.reward.steering import SteeringConfig, steer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=4)
    args = ap.parse_args()
    walls = []
    for seed in range(args.seeds):
        cfg = SteeringConfig(hidden=(args.hidden,), inputs=2, rounds=100_000, max_steps=60_000)
        start = time.perf_counter()
        res = steer(cfg, torch.Generator().manual_seed(seed))
        wall = time.perf_counter() - start
        walls.append(wall)
        sketch = SteeringConfig(hidden=(args.hidden,), inputs=2, rounds=100_000,
                                max_steps=max(res.steps[-1], 1), design="random",
                                rates="fraction", order="forward")
        old = steer(sketch, torch.Generator().manual_seed(seed))
        print(f"seed {seed}: engine {res.distance[-1]:.1e} after {res.steps[-1]:,} steps in "
              f"{wall:.1f} s ({'reached' if res.reached else 'not reached'}); sketch "
              f"{old.distance[-1]:.1e} after {old.steps[-1]:,} steps; kappa* "
              f"{res.kappa['start']:.0f}/{res.kappa['target']:.0f}", flush=True)
    med = statistics.median(walls)
    print(f"median wall time {med:.1f} s; target 30 s: {30 / med:.2f}x")


if __name__ == "__main__":
    main()
