"""An import killed half-way (SIGKILL) leaves the database exactly as before."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time

from .conftest import START, dump, hk


def test_sigkill_during_import_leaves_the_database_as_before(cli, trial, db, tmp_path):
    cli("trial", "log", trial, "8", "--date", START.isoformat())
    # A large export: many nights of noise from another source, then real nights at the end.
    path = tmp_path / "export.xml"
    fmt = "%Y-%m-%d %H:%M:%S"
    with open(path, "w") as f:
        f.write('<?xml version="1.0"?>\n<HealthData>\n')
        base = dt.datetime(2020, 1, 1, 23, 0)
        for i in range(150_000):
            t = base + dt.timedelta(days=i % 1500, seconds=i)
            f.write(
                hk(t.strftime(fmt), (t + dt.timedelta(hours=8)).strftime(fmt), "InBed", "Old Watch")
                + "\n"
            )
        f.write("</HealthData>\n")
    before = dump(db)
    env = {**os.environ, "QUICKTAKES_DB": str(db)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "quicktakes.cli",
            "trial",
            "import",
            trial,
            str(path),
            "--from",
            "apple-health",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(2.5)
    assert proc.poll() is None, "import finished before it could be killed; grow the file"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert dump(db) == before
    con = __import__("sqlite3").connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
