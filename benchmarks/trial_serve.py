"""`trial serve` on a 1,100-day trial: start-up time, the today page and the status page,
against `trial today` from the CLI in the same run (the baseline: what a person waits for in
a terminal today).

Targets (issue 24): the today page under 50 ms at the median, the status page under 1 s,
ready (first page answered) under 2 s. The status page is analysed again after every change
to the trial (and once a day), then served as made; a change through the page's own form
starts that analysis in the background at once. Printed: the first view, a view after a
change made elsewhere (the CLI), right after a change through the form, and unchanged.

Usage: python benchmarks/trial_serve.py [--days 1100] [--repeats 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def make_trial(db: Path, days: int) -> str:
    from quicktakes.nof1 import trials
    from quicktakes.nof1.store import connect

    today = dt.date.today()
    start = today - dt.timedelta(days=days - 10)  # ten days left to go
    con = connect(db)
    trials.create(con, name="long", arms=("book", "phone"), start=start, days=days,
                  assign_at="21:30", seed=1, smallest_effect=5)
    for k in range(days - 10):
        trials.log_value(con, "long", str(10 + (k * 7919) % 23),
                         (start + dt.timedelta(days=k)).isoformat(), today=today)
    con.close()
    return "long"


def exclude(db: Path, name: str, k: int) -> None:
    from quicktakes.nof1 import trials
    from quicktakes.nof1.store import connect

    con = connect(db)
    start = trials.load(con, name).protocol.start
    trials.exclude(con, name, (start + dt.timedelta(days=k)).isoformat(), "benchmark")
    con.close()


def timed(fn, repeats: int) -> float:
    """Median wall time of `fn()` in seconds."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=1100)
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    exe = [sys.executable, "-m", "quicktakes.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "trials.db"
        name = make_trial(db, args.days)
        env = os.environ | {"QUICKTAKES_DB": str(db), "PYTHONUNBUFFERED": "1"}
        cli = timed(lambda: subprocess.run([*exe, "trial", "today", name], env=env, check=True,
                                           capture_output=True), 5)
        start = time.perf_counter()
        server = subprocess.Popen([*exe, "trial", "serve", "--port", "0"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            url = re.search(r"at (http://[\d.]+:\d+)/", server.stdout.readline()).group(1)
            with httpx.Client(timeout=30) as c:
                while True:
                    try:
                        c.get(f"{url}/").raise_for_status()
                        break
                    except httpx.TransportError:
                        time.sleep(0.01)
                ready = time.perf_counter() - start
                today = timed(lambda: c.get(f"{url}/t/{name}").raise_for_status(), args.repeats)
                page = f"{url}/t/{name}/status"
                first = timed(lambda: c.get(page).raise_for_status(), 1)
                changed, whole = [], []
                for k in range(3):  # a change to the trial: the page is analysed again
                    exclude(db, name, k)
                    changed.append(timed(lambda: c.get(page).raise_for_status(), 1))
                    whole.append(changed[-1] + sum(
                        timed(lambda f=f: c.get(f"{url}/t/{name}/{f}.svg").raise_for_status(), 1)
                        for f in ("timeline", "accrual")))
                status = statistics.median(changed)
                formed = []
                for k in range(3, 6):  # a change through the page's own form, then status
                    html = c.get(f"{url}/t/{name}").text
                    form = dict(re.findall(r'name="(csrf|nonce)" value="([^"]*)"', html))
                    day = (dt.date.today() - dt.timedelta(days=args.days - 10 - k)).isoformat()
                    c.post(f"{url}/t/{name}/exclude", data={**form, "date": day,
                                                            "reason": "benchmark"})
                    formed.append(timed(lambda: c.get(page).raise_for_status(), 1))
                cached = timed(lambda: c.get(page).raise_for_status(), 5)
        finally:
            server.terminate()
            server.wait(10)
    print(f"{args.days}-day trial, {args.days - 10} values logged")
    print(f"trial today (CLI, median of 5):  {cli * 1000:8.1f} ms  (baseline)")
    print(f"today page (median of {args.repeats}):    {today * 1000:8.1f} ms  "
          f"{today / cli:.3f} x the CLI   target < 50 ms: {'met' if today < 0.05 else 'MISSED'}")
    print(f"status page, first view:         {first * 1000:8.1f} ms  {first / cli:.3f} x the CLI")
    print(f"status page after a change (median of 3): {status * 1000:8.1f} ms  "
          f"{status / cli:.3f} x the CLI   target < 1 s: {'met' if status < 1 else 'MISSED'}")
    print(f"  with its two figures (images of their own): "
          f"{statistics.median(whole) * 1000:8.1f} ms")
    after = statistics.median(formed)
    print(f"status page right after a change through the form (median of 3): "
          f"{after * 1000:8.1f} ms  target < 1 s: {'met' if after < 1 else 'MISSED'}")
    print(f"status page unchanged (median of 5): {cached * 1000:8.1f} ms")
    print(f"serve ready (first page):        {ready * 1000:8.1f} ms  "
          f"{ready / cli:.3f} x the CLI   target < 2 s: {'met' if ready < 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
