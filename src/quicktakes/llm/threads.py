"""How many threads the model backends use: all free cores, and only those.

llama.cpp's workers spin-wait at every barrier: with more threads than free cores, each
barrier waits for a thread the OS has descheduled, and a 2-core machine running two other
busy processes slowed a scoring run 15x instead of the ~2.5x its share of CPU explains.
torch's intra-op pool behaves alike on small matrices. So the count follows the cores this
process may use times the share of them idle right now (sampled for a quarter second when a
backend starts, while this process itself waits; the load average would count this process's
own earlier work as someone else's).
"""

from __future__ import annotations

import os
import time

ENV = "QUICKTAKES_THREADS"


def _idle_share(window: float = 0.25) -> float:
    """The machine's idle share over `window` seconds, from /proc/stat (1.0 where absent)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    try:
        idle0, total0 = sample()
        time.sleep(window)
        idle1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return 1.0
    return (idle1 - idle0) / max(1, total1 - total0)


def cpu_threads() -> int:
    """`$QUICKTAKES_THREADS` if set; else the usable cores times their idle share now,
    rounded, at least 1."""
    if os.environ.get(ENV):
        return max(1, int(os.environ[ENV]))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, round(cores * _idle_share())))
