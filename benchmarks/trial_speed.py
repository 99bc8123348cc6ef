"""Daily-use speed of the N-of-1 tracker (issue 12), on this machine.

1. Start-up: `quicktakes trial today` and `trial log --help` against `python -c pass` (median of
   5 fresh processes, peak RSS); targets 0.5 s and 100 MB.
2. `trial status` and `trial analyze --json` on a generated 1,100-day trial; target 2 s each.
3. Import throughput of a generated Apple Health export (`--import-mb`, default 400): sleep
   records per second and the importing process's peak RSS; target <= 400 MB.

Usage: python benchmarks/trial_speed.py [--import-mb MB]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = str(Path(sys.executable).with_name("quicktakes"))


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process."""
    start = time.perf_counter()
    # vfork/posix_spawn via subprocess: a forked child would report this process's memory
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    pid = child.pid
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def median_run(cmd: list[str], env: dict[str, str], n: int = 5) -> tuple[float, float]:
    runs = [run(cmd, env) for _ in range(n)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def make_trial(db_path: Path, days: int) -> None:
    import numpy as np

    from quicktakes.nof1 import store, trials

    db = store.connect(db_path)
    logged = days - 10  # the trial is still running today
    start = dt.date.today() - dt.timedelta(days=logged)
    trials.create(db, name="long", arms=("book", "phone", "laptop"), days=days,
                  start=start, seed=1, smallest_effect=5.0, lower_is_better=True,
                  outcome="minutes to fall asleep", assign_at="21:30", scheme="blocks")
    rng = np.random.default_rng(0)
    with store.transaction(db):
        for i in range(logged):
            trials._insert_observation(db, 1, start + dt.timedelta(days=i),
                                       float(rng.gamma(2.0, 8.0)), None, None, "bench", False)


def make_export(path: Path, megabytes: int) -> int:
    """A HealthKit export of about `megabytes` MB: per night an InBed and asleep stages from the
    watch, padded with heart-rate records as real exports are (most of a real file)."""
    night = 0
    records = 0
    day0 = dt.date(2020, 1, 1)
    with open(path, "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n')
        while f.tell() < megabytes * 1_000_000:
            d = day0 + dt.timedelta(days=night)
            n = d + dt.timedelta(days=1)
            for start, end, value in (
                (f"{d} 23:00:00", f"{n} 07:00:00", "InBed"),
                (f"{d} 23:14:00", f"{n} 02:00:00", "AsleepCore"),
                (f"{n} 02:00:00", f"{n} 06:50:00", "AsleepREM"),
            ):
                f.write(f'<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" '
                        f'startDate="{start} +0100" endDate="{end} +0100" '
                        f'value="HKCategoryValueSleepAnalysis{value}"/>\n')
                records += 1
            for k in range(300):
                t = f"{d} {k // 60 % 24:02d}:{k % 60:02d}:00 +0100"
                f.write(f'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" '
                        f'unit="count/min" startDate="{t}" endDate="{t}" value="{60 + k % 30}"/>\n')
                records += 1
            night += 1
        f.write("</HealthData>\n")
    return records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--import-mb", type=int, default=400)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "trials.db"
        env = os.environ | {"QUICKTAKES_DB": str(db)}
        make_trial(db, 1100)
        base, base_mb = median_run([sys.executable, "-c", "pass"], env)
        print(f"python -c pass                 {base:6.3f} s {base_mb:6.1f} MB")
        for name, cmd in (
            ("trial today long", [EXE, "trial", "today", "long"]),
            ("trial log --help", [EXE, "trial", "log", "--help"]),
        ):
            wall, mb = median_run(cmd, env)
            print(f"{name:29s} {wall:6.3f} s {mb:6.1f} MB  (target 0.5 s: {0.5 / wall:.2f}x, "
                  f"100 MB: {100 / mb:.2f}x)", flush=True)
        for name, cmd in (
            ("trial status (1,100 days)", [EXE, "trial", "status", "long", "--json"]),
            ("trial analyze (1,100 days)", [EXE, "trial", "analyze", "long", "--json"]),
        ):
            wall, mb = run(cmd, env)
            print(f"{name:29s} {wall:6.3f} s {mb:6.1f} MB  (target 2 s: {2 / wall:.2f}x)",
                  flush=True)
        export = Path(tmp) / "export.xml"
        records = make_export(export, args.import_mb)
        code = ("import sys; from pathlib import Path; from quicktakes.nof1.importers import read;"
                f"n = sum(1 for _ in read(Path({str(export)!r}), 'apple-health'))")
        wall, mb = run([sys.executable, "-c", code], env)
        size = export.stat().st_size / 1e6
        print(f"import {size:.0f} MB export       {wall:6.1f} s {mb:6.1f} MB  "
              f"({records / wall:,.0f} records/s; RSS target 400 MB: {400 / mb:.2f}x)")


if __name__ == "__main__":
    main()
