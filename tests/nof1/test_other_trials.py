"""The tracker on trials other than the take's: a coffee trial scored 1-10 where higher is
better, a mood trial that can go negative, a count and a binary outcome; the seal on every
path in; damaged, read-only, missing and foreign-encoded input. Through the CLI on the real
store."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .conftest import START, dump


def day(i: int) -> str:
    return (START + dt.timedelta(days=i)).isoformat()


def new(cli, name: str, *args: str) -> None:
    r = cli("trial", "new", name, "--start", START.isoformat(), "--seed", "5", *args)
    assert r.exit_code == 0, r.output


@pytest.fixture
def coffee(cli, db) -> str:
    """Scored 1-10, higher better; the user's hypothesis: no coffee is better."""
    new(cli, "coffee", "--arm", "coffee", "--arm", "decaf", "--arm", "no coffee",
        "--contrast", "no coffee", "--kind", "continuous", "--min", "1", "--max", "10",
        "--outcome", "focus (1-10)", "--assign-at", "07:30", "--days", "12", "--scheme",
        "simple")
    return "coffee"


def log_by_arm(cli, db, name: str, by_arm: dict[str, list[float]], days: int) -> None:
    """Log each day the next value of its arm's list (the schedule decides the arms)."""
    export = json.loads(cli("trial", "export", name, "--format", "json").stdout)
    used = {a: 0 for a in by_arm}
    for row in export["days"][:days]:
        arm = row["arm"]
        value = by_arm[arm][used[arm] % len(by_arm[arm])]
        used[arm] += 1
        r = cli("trial", "log", name, str(value), "--date", row["date"])
        assert r.exit_code == 0, r.output


def test_the_hypothesis_is_recorded_and_every_output_speaks_its_direction(cli, db, coffee):
    r = cli("trial", "analyze", coffee)
    assert r.exit_code == 2  # nothing logged yet: one line
    log_by_arm(cli, db, coffee, {"no coffee": [4, 5], "decaf": [6, 6], "coffee": [7, 7, 8]}, 12)
    status = cli("trial", "status", coffee).stdout
    assert ("hypothesis: no coffee better than coffee and decaf, where higher focus (1-10) is "
            "better") in status
    assert "coffee and decaf" in status and "higher (worse)" not in status
    # the data go against the hypothesis: said in words, not only as a p near 1
    assert "against the hypothesis that no coffee is better" in status
    out = cli("trial", "analyze", coffee).stdout
    pairs = [ln for ln in out.splitlines() if "two-sided p" in ln]
    assert len(pairs) == 3
    assert all("higher (better)" in ln or "lower (worse)" in ln for ln in pairs), pairs
    assert "Normal per arm" in out


def test_a_mood_trial_takes_negative_values_and_gets_a_normal_model(cli, db):
    new(cli, "mood", "--arm", "walk", "--arm", "no walk", "--kind", "continuous", "--min", "-5",
        "--max", "5", "--outcome", "mood", "--days", "12", "--scheme", "blocks")
    assert cli("trial", "log", "mood", "-2", "--date", day(0)).exit_code == 0
    assert cli("trial", "log", "mood", "1,5", "--date", day(1)).exit_code == 0  # decimal comma
    rows = sqlite3.connect(db).execute("SELECT day, value FROM observations").fetchall()
    assert sorted(rows) == [(day(0), -2.0), (day(1), 1.5)]
    for i in range(2, 12):
        cli("trial", "log", "mood", str((-1) ** i * (i % 4)), "--date", day(i))
    post = json.loads(cli("trial", "analyze", "mood", "--json").stdout)["posterior"]
    assert post["model"].startswith("Normal")
    assert -10 < post["lo"] < post["hi"] < 10  # not the hurdle model's [-1374, ...]


@pytest.mark.parametrize("args, fragment", [
    (("--arm", "a"), "at least two arms"),
    (("--arm", "", "--arm", "b"), "arm names must not be empty"),
    (("--arm", "a", "--arm", "b", "--kind", "latency", "--min", "-5"), "cannot be negative"),
    (("--arm", "a", "--arm", "b", "--kind", "binary", "--max", "3"), "0 or 1"),
    (("--arm", "a", "--arm", "b", "--kind", "speed"), "--kind"),
    (("--arm", "a", "--arm", "b", "--better", "c"), "unknown arms"),
    (("--arm", "a", "--arm", "b", "--better", "a", "--better", "b"), "not all"),
    (("--arm", "a", "--arm", "b", "--days", "0"), "--days: must be at least 1"),
])
def test_a_bad_protocol_is_one_line_in_the_options_words(cli, db, one_line_error, args,
                                                        fragment):
    one_line_error(cli("trial", "new", "x", *args), fragment)
    assert not db.exists()  # refused before the store is opened: no file made


def test_counts_and_binary_outcomes_take_whole_numbers_only(cli, db, one_line_error):
    new(cli, "steps", "--arm", "a", "--arm", "b", "--kind", "count", "--days", "6")
    one_line_error(cli("trial", "log", "steps", "2.5", "--date", day(0)), "whole number")
    new(cli, "headache", "--arm", "a", "--arm", "b", "--kind", "binary", "--days", "6")
    one_line_error(cli("trial", "log", "headache", "2", "--date", day(0)), "between 0 and 1")
    assert cli("trial", "log", "headache", "1", "--date", day(0)).exit_code == 0


def test_words_fit_a_daytime_trial(cli, db, coffee):
    from quicktakes.nof1 import calendar, trials
    from quicktakes.nof1.store import connect

    p = trials.load(connect(db), coffee).protocol
    assert p.words["unit"] == "day"
    ics = calendar.calendar_ics(p, None).decode() if isinstance(
        calendar.calendar_ics(p, None), bytes) else calendar.calendar_ics(p, None)
    assert "log yesterday" in ics and "night" not in ics


def test_the_seal_holds_on_import_and_dry_run(cli, db, tmp_path):
    new(cli, "late", "--arm", "a", "--arm", "b", "--assign-at", "00:35", "--days", "10",
        "--kind", "continuous", "--min", "0", "--max", "100")
    csv = tmp_path / "days.csv"
    csv.write_text("date,value\n" + "".join(f"{day(i)},{10 + i}\n" for i in range(5)))
    at = f"{day(2)}T00:22"  # before day 3's assignment
    rows = dump(db)
    dry = cli("trial", "import", "late", str(csv), "--from", "csv", "--dry-run", "--at", at)
    assert dry.exit_code == 0, dry.output
    assert "would take 2 days" in dry.stdout
    assert f"{day(2)} not yet" in dry.stdout and "12" not in dry.stdout.split("not yet")[0][-40:]
    assert f"{day(3)} later in the trial" in dry.stdout
    assert dump(db) == rows
    r = cli("trial", "import", "late", str(csv), "--from", "csv", "--at", at, "--json")
    taken = [t["date"] for t in json.loads(r.stdout)["taken"]]
    assert taken == [day(0), day(1)]


def test_log_without_a_date_takes_the_last_revealed_period(cli, trial, db):
    r = cli("trial", "log", trial, "14", "--at", f"{day(3)}T08:00")  # the morning after
    assert r.exit_code == 0 and day(2) in r.stdout
    r = cli("trial", "log", trial, "9", "--at", f"{day(3)}T22:00")  # after 21:30: tonight
    assert r.exit_code == 0 and day(3) in r.stdout


def corrupt(path: Path) -> None:
    """Keep the header page, scramble the rest (a damaged disk sector)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for k in range(page, len(data)):
        data[k] = (k * 131 + 7) % 256
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("args", [("list",), ("analyze", "sleep"), ("log", "sleep", "5"),
                                  ("status", "sleep"), ("export", "sleep"),
                                  ("verify", "sleep"), ("history", "sleep")])
def test_a_damaged_database_is_one_line_naming_the_file_and_the_way_out(
        cli, trial, db, one_line_error, args):
    cli("trial", "log", trial, "8", "--date", day(0))
    corrupt(db)
    before = db.read_bytes()
    r = cli("trial", *args)
    one_line_error(r, str(db), "damaged" if args[0] != "list" else "")
    assert "export" in r.stderr or "backup" in r.stderr
    assert db.read_bytes() == before


@pytest.mark.parametrize("args", [("list",), ("status", "sleep"), ("log", "sleep", "5")])
def test_a_missing_database_is_never_created_by_reading(cli, tmp_path, one_line_error, args):
    path = tmp_path / "typo" / "trials.db"
    one_line_error(cli("trial", *args, "--db", str(path)), f"no trial database at {path}")
    assert not path.parent.exists()


def _other_user(cmd: list[str]) -> list[str]:
    """`cmd` run as user nobody where this runs as root (root writes through any mode)."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", *cmd]


def as_other_user(args: list[str], home: str) -> subprocess.CompletedProcess[str]:
    cmd = _other_user([sys.executable, "-m", "quicktakes.cli", *args])
    env = {**os.environ, "QUICKTAKES_HOME": home, "HOME": home}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def _other_user_can_import() -> bool:
    """The other user must be able to read this checkout's environment (a clone under a
    private folder, such as `mktemp -d`'s, is root's alone): else the test cannot run."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return True
    cmd = _other_user([sys.executable, "-c", "import quicktakes.cli"])
    return subprocess.run(cmd, capture_output=True, timeout=120).returncode == 0


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None,
                    reason="root writes anything; setpriv runs the CLI as another user")
def test_a_read_only_database_serves_reads_and_refuses_writes_in_one_line(cli, trial, db):
    if not _other_user_can_import():
        pytest.skip("the checkout is not readable by another user (a private parent folder)")
    for i in range(6):
        assert cli("trial", "log", trial, str(8 + i), "--date", day(i)).exit_code == 0
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    folder = Path(tempfile.mkdtemp())
    home = Path(tempfile.mkdtemp())
    try:
        folder.chmod(0o755)
        home.chmod(0o777)
        copy = folder / "trials.db"
        shutil.copy(db, copy)
        copy.chmod(0o444)
        before = copy.read_bytes()
        for args in (["list"], ["status", "sleep"], ["analyze", "sleep"], ["export", "sleep"],
                     ["history", "sleep"], ["verify", "sleep"]):
            r = as_other_user(["trial", *args, "--db", str(copy)], str(home))
            assert r.returncode == 0, (args, r.stderr)
        r = as_other_user(["trial", "log", "sleep", "5", "--date", day(7), "--db", str(copy)],
                          str(home))
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and "read-only" in lines[0], r.stderr
        assert "Traceback" not in r.stderr
        assert copy.read_bytes() == before
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


CSV_ROWS = "Day;Minutes;Comment\n{d0};12,5;café au lait\n{d1};;watch off\n{d2};5000;odd\n{d3};7;\n"


@pytest.mark.parametrize("encoding, sep", [("cp1252", ";"), ("utf-8-sig", ";"),
                                           ("utf-16", "\t"), ("utf-8", ";")])
def test_csv_as_excel_writes_it(cli, trial, db, tmp_path, encoding, sep):
    text = CSV_ROWS.format(d0=day(0), d1=day(1), d2=day(2), d3=day(3)).replace(";", sep)
    path = tmp_path / "sleep.csv"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    r = cli("trial", "import", trial, str(path), "--from", "csv", "--json",
            "--columns", "date=Day,value=Minutes,note=Comment")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [(t["date"], t["value"]) for t in out["taken"]] == [(day(0), 12.5), (day(3), 7.0)]
    reasons = [s["reason"] for s in out["skipped"]]
    assert len(reasons) == 2 and "blank value" in reasons[0] and "between" in reasons[1]
    notes = dict(sqlite3.connect(db).execute("SELECT day, note FROM observations"))
    assert notes[day(0)] == "café au lait"


def test_columns_that_name_nothing_is_one_line(cli, trial, tmp_path, one_line_error):
    path = tmp_path / "a.csv"
    path.write_text(f"Day,Minutes\n{day(0)},3\n")
    one_line_error(cli("trial", "import", trial, str(path), "--from", "csv", "--columns",
                       "when=Day"), "--columns")
    one_line_error(cli("trial", "import", trial, str(path), "--from", "csv"), "--columns")


def test_a_fitbit_log_with_another_spelling_or_a_missing_field_is_skipped_not_a_traceback(
        cli, trial, tmp_path):
    start = f"{day(0)}T23:00:00.000"
    rec = {"startTime": start, "minutesToFallAsleep": 0, "mainSleep": True,
           "levels": {"data": [{"datetime": f"{day(0)}T23:00:00.000", "level": "wake"},
                               {"datetime": f"{day(0)}T23:14:00.000", "level": "light"}]}}
    bad = {"startTime": f"{day(1)}T23:00:00.000", "minutesToFallAsleep": 0, "mainSleep": True,
           "levels": {"data": [{"level": "light"}]}}
    path = tmp_path / "sleep-2026-01-05.json"
    path.write_text(json.dumps([rec, bad]))
    r = cli("trial", "import", trial, str(path), "--from", "fitbit", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [(t["date"], t["value"]) for t in out["taken"]] == [(day(0), 14.0)]
    assert "dateTime" in out["skipped"][0]["reason"]


def test_an_apple_record_without_its_dates_is_skipped(cli, trial, tmp_path):
    from .conftest import apple_health_xml

    extra = ('\n<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Apple Watch" '
             'value="HKCategoryValueSleepAnalysisAsleepCore"/>')
    path = tmp_path / "export.xml"
    path.write_text(apple_health_xml([(START, 12)], extra))
    r = cli("trial", "import", trial, str(path), "--from", "apple-health", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert len(out["taken"]) == 1
    assert any("startDate" in s["reason"] for s in out["skipped"])


def test_the_phone_page_speaks_of_the_trials_own_period_and_checks_before_it_asks(cli, db,
                                                                                coffee):
    import re

    from starlette.testclient import TestClient

    from quicktakes.nof1.web import Site, access_token, make_app

    from .test_web import Clock, fields

    clock = Clock(dt.datetime.combine(START + dt.timedelta(days=2), dt.time(9)))
    site = Site(db, access_token(db), require_token=False, clock=clock, port=8765)
    c = TestClient(make_app(site), base_url="http://127.0.0.1:8765")
    page = c.get("/t/coffee").text
    assert "Log a day" in page and "yesterday" in page
    assert not re.search(r"night|Sleep onset", page, re.I)
    form = {**fields(page, "/t/coffee/log"), "date": day(1), "value": "7,5"}
    r = c.post("/t/coffee/log", data=form)
    assert r.status_code == 200 and "Recorded 7.5" in r.text  # a decimal comma, as typed
    rows = dump(db)
    page = c.get("/t/coffee").text
    bad = c.post("/t/coffee/log", data={**fields(page, "/t/coffee/log"), "date": day(1),
                                        "value": "eleven"})
    assert bad.status_code == 400 and "must be a number" in bad.text  # not "replace it?"
    assert "Replace it" not in bad.text and dump(db) == rows
