"""A maze run killed part-way resumes from the sample cache: the re-run recomputes nothing it
had already sampled and ends with the same result as an uninterrupted run."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time


def _run(args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "quicktakes.cli", "maze", "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _rows(path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as con:
            return int(con.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
    except sqlite3.OperationalError:  # the run has made the file, not yet its table
        return 0


def test_killed_run_resumes_from_the_cache(tmp_path):
    args = [
        "--method",
        "zero-shot",
        "--iterations",
        "1",
        "--test-mazes",
        "4",
        "--seed",
        "4",
        "--json",
        "--out",
        str(tmp_path / "runs"),
    ]
    cache = tmp_path / "resumed.db"
    env = {**os.environ, "QUICKTAKES_LLM_CACHE": str(cache)}
    proc = _run(args, env)
    deadline = time.time() + 120
    while _rows(cache) < 5 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = _rows(cache)
    assert kept >= 5

    resumed = json.loads(_run(args, env).communicate(timeout=300)[0])
    fresh_env = {**os.environ, "QUICKTAKES_LLM_CACHE": str(tmp_path / "fresh.db")}
    fresh = json.loads(_run(args, fresh_env).communicate(timeout=300)[0])
    assert resumed["iterations"] == fresh["iterations"]
    assert _rows(cache) == _rows(tmp_path / "fresh.db") >= kept
