"""Wall time of `quicktakes reproduce` per experiment family, against each issue's budget.

Runs in a fresh interpreter with an empty sample cache and run directory, so import costs
(axelrod's ~15 s, torch's) and every model call are counted as a first-time user pays them
(the dequantized SmolLM2 weights in the user cache directory are re-used: a one-time ~20 s).

Usage: python benchmarks/reproduce_budget.py [--full] [--out DIR] [FAMILY ...]
`--full` runs the full budgets, against the targets issues set for them (maze lab 60 min,
insights 30 min).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGETS: dict[str, tuple[float | None, list[str]]] = {
    "games": (60.0, ["games.lottery", "games.ipd-rounds", "games.newcomb-iterated"]),
    "nof1": (None, ["nof1.sleep-means", "nof1.sleep-effect"]),
    "reward": (90.0, ["reward.policy", "reward.values", "reward.steering"]),
    "maze-lab": (
        360.0,
        ["prompting.very-poor-mans-rl", "prompting.poor-mans-rl", "prompting.rl-vs-poor-mans-rl"],
    ),
    "updates-alike": (None, ["prompting.updates-alike"]),
    "insights": (180.0, ["insights.reversal-curse", "insights.verified-rollback"]),
}
"""Issue budgets for `--fast`: games 60 s (2), reward 90 s (4), the maze lab's comparison
(the three method claims share one run) 6 min (10), the two insights 3 min (15)."""
FULL_BUDGETS: dict[str, float] = {"maze-lab": 3600.0, "insights": 1800.0}


def measure(claims: list[str], full: bool, out: Path) -> float:
    exe = Path(sys.executable).with_name("quicktakes")
    with tempfile.TemporaryDirectory() as home:
        env = os.environ | {
            "XDG_DATA_HOME": str(Path(home) / "data"),
            "QUICKTAKES_LLM_CACHE": str(Path(home) / "samples.db"),
            "QUICKTAKES_RUNS": str(Path(home) / "runs"),
        }
        start = time.perf_counter()
        subprocess.run(
            [str(exe), "reproduce", *claims, "--full" if full else "--fast", "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("families", nargs="*", help=f"any of {', '.join(BUDGETS)} (default: all)")
    ap.add_argument("--full", action="store_true", help="full budgets (no target; timed only)")
    ap.add_argument("--out", type=Path, help="keep the reports here (default: discarded)")
    args = ap.parse_args()
    unknown = set(args.families) - set(BUDGETS)
    if unknown:
        ap.error(f"unknown families {sorted(unknown)}; valid: {', '.join(BUDGETS)}")
    for family in args.families or list(BUDGETS):
        budget, claims = BUDGETS[family]
        with tempfile.TemporaryDirectory() as tmp:
            out = args.out / family if args.out else Path(tmp)
            wall = measure(claims, args.full, out)
        line = f"{family}: reproduce {'--full' if args.full else '--fast'} "
        line += f"({len(claims)} claims) {wall:.1f} s"
        target = FULL_BUDGETS.get(family) if args.full else budget
        if target is not None:
            line += f"; budget {target:.0f} s; budget/measured = {target / wall:.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
