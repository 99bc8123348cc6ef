"""Poor man's RL or RL on the claims' 7x7 maze, with and without verified training and rollback.

The probe of docs/results.md (sessions 12 and 13): the ladder's `climb` on the 7x7 maze, 16
training mazes with 4 episodes each, `--select step` at up to `--states` states (256), greedy
play on 48 held-out mazes after every update; `--verify N` verification mazes (0: no
rollback). Poor man's RL (`--method sft-iter`) trains with `--sft-centre` at lr 1e-3; RL
(`--method rl`) takes its credit per step at lr 1e-3 and the lab's KL and clip. Prints each
checkpoint's greedy score and optimal moves' probability, each
update's entropy, KL moved and verification, and the paired gain (95%) of the last
checkpoint over the start. About 7 minutes per update on one thread at 256 states.

Usage: python benchmarks/verified_training.py [--method sft-iter|rl] [--states S] [--seed N]
       [--updates K] [--verify N]
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
    from quicktakes.maze.verify import verdict

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=("sft-iter", "rl"), default="sft-iter")
    ap.add_argument("--states", type=int, default=256, help="states whose moves are rolled out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--updates", type=int, default=6)
    ap.add_argument("--verify", type=int, default=16, help="verification mazes; 0: none")
    args = ap.parse_args()
    spec = LabSpec(method=args.method, select="step", sft_centre=args.method == "sft-iter",
                   max_pairs=args.states, evaluation="greedy", lr=1e-3, seed=args.seed,
                   verify=args.verify)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rung = climb(spec, args.updates, Path(tmp) / "cache.db", train=16, test=48,
                     bank=MazeBank(spec.maze), note=lambda s: print(s, flush=True))
    for u, d in enumerate(rung.updates, 1):
        check = f", verification {verdict(d, digits=2)}" if "kept" in d else ""
        print(f"update {u}: entropy {d.get('entropy_after', float('nan')):.2f}, KL moved "
              f"{d.get('kl_moved', float('nan')):.2f}{check}")
    mean, lo, hi = rung.gain()
    print(json.dumps({
        "method": args.method, "states": args.states, "seed": args.seed, "verify": args.verify,
        "greedy": rung.greedy, "mass": rung.mass,
        "spent": rung.spent, "gain": [mean, lo, hi], "mass_gain": list(rung.gain("masses")),
        "precision": resolve(spec.precision), "cpu": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(), "seconds": round(time.perf_counter() - start, 1),
    }))


if __name__ == "__main__":
    main()
