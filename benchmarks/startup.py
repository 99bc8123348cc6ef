"""Start-up of the light commands against `python -c pass`, on this machine.

Each command runs in a fresh interpreter, several times; the median wall time and the peak
resident memory (ru_maxrss of the child) are printed with the targets of issue 13: under 0.6 s
and under 120 MB each.

Usage: python benchmarks/startup.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXE = str(Path(sys.executable).with_name("quicktakes"))
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "quicktakes --help": [EXE, "--help"],
    "quicktakes lottery --presses 100": [EXE, "lottery", "--presses", "100"],
    "quicktakes claims": [EXE, "claims"],
}
TARGET_S, TARGET_MB = 0.6, 120.0


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run in a fresh process."""
    start = time.perf_counter()
    # vfork/posix_spawn via subprocess: a forked child would report this process's memory
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=None)
    pid = child.pid
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    return wall, usage.ru_maxrss / 1024  # kB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    base = None
    for name, cmd in COMMANDS.items():
        runs = [measure(cmd) for _ in range(args.repeat)]
        wall = statistics.median(r[0] for r in runs)
        mb = max(r[1] for r in runs)
        base = base or wall
        line = f"{name:36s} {wall:6.3f} s  {mb:6.1f} MB"
        if name != "python -c pass":
            line += f"  ({wall / base:.1f}x python; target {TARGET_S} s: {TARGET_S / wall:.2f}x, "
            line += f"{TARGET_MB:.0f} MB: {TARGET_MB / mb:.2f}x)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
