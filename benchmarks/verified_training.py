"""Poor man's RL on the claims' 7x7 maze, with and without verified training and rollback.

The probe of docs/results.md (session 12): the ladder's `climb` on the 7x7 maze, 16 training
mazes with 4 episodes each, `--select step` at up to 256 states, `--sft-centre`, lr 1e-3,
greedy play on 48 held-out mazes after every update; `--verify N` verification mazes (0: no
rollback). Prints each checkpoint's greedy score and optimal moves' probability, each
update's entropy, KL moved and verification, and the paired gain (95%) of the last
checkpoint over the start. About 7 minutes per update on one thread.

Usage: python benchmarks/verified_training.py [--seed N] [--updates K] [--verify N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    import torch

    from quicktakes.llm.precision import resolve
    from quicktakes.maze.ladder import climb
    from quicktakes.maze.oracle import MazeBank
    from quicktakes.maze.spec import LabSpec

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--updates", type=int, default=6)
    ap.add_argument("--verify", type=int, default=16, help="verification mazes; 0: none")
    args = ap.parse_args()
    spec = LabSpec(method="sft-iter", select="step", sft_centre=True, max_pairs=256,
                   evaluation="greedy", lr=1e-3, seed=args.seed, verify=args.verify)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rung = climb(spec, args.updates, Path(tmp) / "cache.db", train=16, test=48,
                     bank=MazeBank(spec.maze), note=print)
    for u, d in enumerate(rung.updates, 1):
        check = (f", verification {d['verify_before']:.2f} -> {d['verify_after']:.2f}: "
                 + ("kept" if d["kept"] else "rolled back")) if "kept" in d else ""
        print(f"update {u}: entropy {d.get('entropy_after', float('nan')):.2f}, KL moved "
              f"{d.get('kl_moved', float('nan')):.2f}{check}")
    mean, lo, hi = rung.gain()
    print(json.dumps({
        "seed": args.seed, "verify": args.verify, "greedy": rung.greedy, "mass": rung.mass,
        "spent": rung.spent, "gain": [mean, lo, hi], "mass_gain": list(rung.gain("masses")),
        "precision": resolve(spec.precision), "cpu": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(), "seconds": round(time.perf_counter() - start, 1),
    }))


if __name__ == "__main__":
    main()
