"""The one-update learning-rate sweep (`maze compare --tune`) against `maze.compare.CURVE_RATES`.

For each learner: one update at each rate of `maze.sweep.RATES`, at the full budget's sizes
and seed 1, scored on validation mazes (the training split's next ones, never the held-out
test mazes) as the paired gain over the model before the update. Prints each gain, the rate
chosen and whether it is the one `CURVE_RATES` holds (chosen from several updates' learning
curves: a one-update criterion favours doing nothing, so a different choice here is
expected, not a sign to regenerate). About 20 minutes on two cores.

Usage: python benchmarks/maze_rates.py [--budget fast|full] [--seed N] [--out sweep.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    from quicktakes.llm import SampleCache
    from quicktakes.maze.compare import CURVE_RATES, CompareSpec
    from quicktakes.maze.lab import make_trainer
    from quicktakes.maze.sweep import sweep_rate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", choices=("fast", "full"), default="full")
    ap.add_argument("--seed", type=int, default=1, help="the comparison seed swept at")
    ap.add_argument("--out", type=Path, help="also write the sweeps as JSON here")
    args = ap.parse_args()
    if args.out and not args.out.parent.is_dir():
        ap.error(f"no folder {args.out.parent} to write {args.out.name} in")

    cfg = CompareSpec(budget=args.budget, seed=args.seed)
    trainer = make_trainer(cfg.spec("oracle-bc"))
    sweeps = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as runs:
        for method in CURVE_RATES:
            sweep = sweep_rate(cfg.spec(method), Path(runs) / method, cache=SampleCache(),
                               trainer=trainer, note=lambda s: print(f"  {s}", flush=True))
            sweeps[method] = sweep.to_dict()
            gains = ", ".join(f"{r:g} {g:+.3f}" for r, g in zip(sweep.rates, sweep.gains,
                                                                  strict=True))
            same = "same as CURVE_RATES" if sweep.chosen == CURVE_RATES[method] else (
                f"CURVE_RATES holds {CURVE_RATES[method]:g}, from the curves")
            print(f"{method}: {gains}; chosen {sweep.chosen:g} ({same})", flush=True)
    print(f"{time.perf_counter() - start:.0f} s, budget {args.budget}, seed {args.seed}")
    if args.out:
        args.out.write_text(json.dumps(sweeps, indent=2) + "\n")


if __name__ == "__main__":
    main()
