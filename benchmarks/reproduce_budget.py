"""Wall time of `quicktakes reproduce --fast` per experiment family, against each issue's budget.

Runs in a fresh interpreter, so import costs (axelrod's ~15 s, torch's) are counted as a user
pays them. Usage: python benchmarks/reproduce_budget.py [FAMILY ...]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGETS: dict[str, tuple[float | None, list[str]]] = {
    "games": (60.0, ["games.lottery", "games.ipd-rounds", "games.newcomb-iterated"]),
    "nof1": (None, ["nof1.sleep-means", "nof1.sleep-effect"]),
    "reward": (90.0, ["reward.policy", "reward.values", "reward.steering"]),
    "prompting": (240.0, ["prompting.very-poor-mans-rl"]),
    "fine-tuning": (360.0, ["prompting.poor-mans-rl", "prompting.rl-vs-poor-mans-rl"]),
}
"""Issue budgets: games 60 s (2), reward 90 s (4), the prompting claim 4 min (5), the two
fine-tuning claims 6 min together (6). Run with a warm sample cache these measure re-use; the
numbers in the closing notes come from an empty cache (QUICKTAKES_LLM_CACHE=/tmp/new.db)."""


def measure(claims: list[str]) -> float:
    exe = Path(sys.executable).with_name("quicktakes")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [str(exe), "reproduce", *claims, "--fast", "--out", out],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def main(families: list[str]) -> None:
    for family in families or list(BUDGETS):
        budget, claims = BUDGETS[family]
        wall = measure(claims)
        line = f"{family}: reproduce --fast ({len(claims)} claims) {wall:.1f} s"
        if budget is not None:
            line += f"; budget {budget:.0f} s; budget/measured = {budget / wall:.2f}x"
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
