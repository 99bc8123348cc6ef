import json
import sqlite3

import pytest

from .conftest import START, apple_health_xml, dump


def _day(i: int) -> str:
    import datetime as dt

    return (START + dt.timedelta(days=i)).isoformat()


def test_new_prints_the_commitment_and_verify_rederives_it(cli, trial, db):
    r = cli("trial", "verify", trial)
    assert r.exit_code == 0 and "ok" in r.stdout


def test_verify_detects_a_tampered_schedule(cli, trial, db, one_line_error):
    con = sqlite3.connect(db)
    sched = json.loads(con.execute("SELECT schedule FROM protocol_versions").fetchone()[0])
    sched[0] = (sched[0] + 1) % 3
    con.execute("UPDATE protocol_versions SET schedule = ?", (json.dumps(sched),))
    con.commit()
    con.close()
    r = cli("trial", "verify", trial)
    one_line_error(r, "commitment")
    assert "MISMATCH" in r.stdout


def test_today_reveals_only_from_the_assignment_time(cli, trial):
    before = cli("trial", "today", trial, "--at", f"{_day(2)}T21:29")
    after = cli("trial", "today", trial, "--at", f"{_day(2)}T21:30")
    assert "revealed at 21:30" in before.stdout
    arm = after.stdout.split(": ")[-1].strip()
    assert arm in {"book", "phone", "laptop"}
    again = cli("trial", "today", trial, "--at", f"{_day(2)}T23:59")
    assert again.stdout.split(": ")[-1].strip() == arm  # never re-rolls


def test_log_replace_keeps_history_and_export(cli, trial, db):
    assert cli("trial", "log", trial, "12", "--date", _day(0)).exit_code == 0
    assert (
        cli(
            "trial", "log", trial, "15", "--date", _day(0), "--replace", "--note", "watch was off"
        ).exit_code
        == 0
    )
    rows = sqlite3.connect(db).execute("SELECT value, superseded_by FROM observations").fetchall()
    assert len(rows) == 2 and rows[0][1] is not None and rows[1] == (15.0, None)
    out = cli("trial", "export", trial, "--format", "csv").stdout
    assert f"{_day(0)},1," in out and ",15.0," in out and "watch was off" in out
    data = json.loads(cli("trial", "export", trial, "--format", "json").stdout)
    assert len(data["days"]) == 20


def test_exclusions_manual_and_pre_registered(cli, trial):
    cli("trial", "log", trial, "3", "--date", _day(0), "--onset", f"{_day(0)}T21:31:00")
    cli("trial", "log", trial, "30", "--date", _day(1))
    cli("trial", "exclude", trial, "--date", _day(1), "--reason", "fever")
    days = json.loads(cli("trial", "export", trial, "--format", "json").stdout)["days"]
    assert days[0]["excluded"].startswith("pre-registered: sleep onset 21:31")
    assert days[1]["excluded"] == "fever"


def test_status_and_analyze_after_a_few_weeks(cli, trial, tmp_path):
    for i in range(20):
        assert cli("trial", "log", trial, str(5 + (i * 7) % 23), "--date", _day(i)).exit_code == 0
    s = json.loads(cli("trial", "status", trial, "--json").stdout)
    assert s["days_done"] == 20 and sum(s["per_arm"].values()) == 20
    assert s["estimate"]["p_value"] is not None
    assert "extra_days_needed" in s["power"]
    text = cli("trial", "status", trial).stdout
    assert "80% power" in text
    html = tmp_path / "a.html"
    r = cli("trial", "analyze", trial, "--html", str(html))
    assert r.exit_code == 0, r.output
    assert "omnibus" in r.stdout and "<svg" in html.read_text()
    a = json.loads(cli("trial", "analyze", trial, "--json").stdout)
    # 20 days in 3 arms have ~10^8 relabelings: past the exact limit, so Monte Carlo with its SE
    assert a["omnibus"]["method"].startswith("Monte Carlo")
    assert 0 < a["omnibus"]["mc_se"] < 0.01
    assert a["contrast_test"]["method"].startswith("exact")


def test_import_apple_health_reports_taken_and_skipped(cli, trial, tmp_path):
    path = tmp_path / "export.xml"
    import datetime as dt

    nights = [(START + dt.timedelta(days=i), 10 + i) for i in range(3)]
    nights.append((START - dt.timedelta(days=3), 7))  # before the trial
    path.write_text(apple_health_xml(nights))
    r = cli(
        "trial", "import", trial, str(path), "--from", "apple-health", "--source", "Watch", "--json"
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [t["value"] for t in out["taken"]] == [10.0, 11.0, 12.0]
    assert any("outside the trial" in s["reason"] for s in out["skipped"])
    again = json.loads(
        cli(
            "trial",
            "import",
            trial,
            str(path),
            "--from",
            "apple-health",
            "--source",
            "Watch",
            "--json",
        ).stdout
    )
    assert not again["taken"] and all(
        "already has a value" in s["reason"] or "outside" in s["reason"] for s in again["skipped"]
    )


def test_import_csv(cli, trial, tmp_path):
    path = tmp_path / "days.csv"
    path.write_text(f"date,outcome\n{_day(0)},4\n{_day(1)},9\n")
    r = cli("trial", "import", trial, str(path), "--from", "csv")
    assert r.exit_code == 0 and "took 2 nights" in r.stdout


def test_list_and_example(cli, db):
    assert cli("trial", "example", "sleep-devices").exit_code == 0
    r = cli("trial", "analyze", "sleep-devices", "--json")
    assert json.loads(r.stdout)["contrast_test"]["p_value"] == pytest.approx(0.032967, abs=1e-6)
    assert "sleep-devices" in cli("trial", "list").stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("log", "nope", "5"), "unknown trial"),
        (("log", "sleep", "abc", "--date", "2026-01-05"), "must be a number"),
        (("log", "sleep", "--date", "2026-01-05", "--", "-3"), "between 0 and 1440"),
        (("log", "sleep", "2000", "--date", "2026-01-05"), "between 0 and 1440"),
        (("log", "sleep", "5", "--date", "2999-01-01"), "future"),
        (("log", "sleep", "5", "--date", "2025-12-01"), "outside the trial"),
        (("log", "sleep", "5", "--date", "yesterday"), "not a date"),
        (("log", "sleep", "9", "--date", "2026-01-06"), "already has a value"),
        (("exclude", "sleep", "--date", "2026-02-28", "--reason", "x"), "outside the trial"),
        (("today", "sleep", "--at", "noon"), "--at"),
        (("new", "sleep", "--arm", "a", "--arm", "b"), "already exists"),
        (("new", "other", "--arm", "a"), "arms"),
        (("new", "other", "--arm", "a", "--arm", "b", "--contrast", "c"), "unknown arms"),
        (("export", "sleep", "--format", "xlsx"), "format"),
        (("import", "sleep", "missing.xml", "--from", "apple-health"), "no such file"),
        (("import", "sleep", ".", "--from", "oura"), "is a folder"),
        (("new", "other", "--arm", "a", "--arm", "b", "--lights-out", "late"),
             "--lights-out: give a time as HH:MM"),
        (("example", "cats"), "unknown example"),
    ],
)
def test_bad_input_exits_2_and_leaves_the_database_unchanged(
    cli, trial, db, one_line_error, args, fragment
):
    cli("trial", "log", "sleep", "8", "--date", "2026-01-06")
    before = dump(db)
    one_line_error(cli("trial", *args), fragment)
    assert dump(db) == before


def test_malformed_import_changes_nothing(cli, trial, db, tmp_path, one_line_error):
    path = tmp_path / "bad.csv"
    path.write_text(f"date,outcome\n{_day(0)},4\n{_day(1)},many\n")
    before = dump(db)
    one_line_error(cli("trial", "import", trial, str(path), "--from", "csv"), "line 3")
    assert dump(db) == before


def test_corrupt_database_is_a_one_line_error(cli, tmp_path, one_line_error):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 100)
    one_line_error(cli("trial", "list", "--db", str(bad)), "not a database")
    assert bad.read_bytes() == b"not a database at all" * 100


def test_database_records_its_migrations(trial, db):
    names = [r[0] for r in sqlite3.connect(db).execute("SELECT name FROM _migrations")]
    assert names == ["_m001_initial", "_m002_history"]
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_amend_records_a_new_version_and_keeps_the_drawn_arms(cli, trial, db, one_line_error):
    before = cli("trial", "export", trial, "--format", "json").stdout
    r = cli("trial", "amend", trial, "--days", "30", "--reason", "more data")
    assert r.exit_code == 0 and "version 2" in r.stdout
    after = json.loads(cli("trial", "export", trial, "--format", "json").stdout)
    assert [d["arm"] for d in after["days"][:20]] == [d["arm"] for d in json.loads(before)["days"]]
    assert len(after["days"]) == 30
    assert cli("trial", "verify", trial).stdout.count("ok") == 2
    versions = sqlite3.connect(db).execute("SELECT version, reason FROM protocol_versions")
    assert [tuple(v) for v in versions] == [(1, "created"), (2, "more data")]


def test_dry_run_shows_nights_with_arm_and_rule_and_writes_nothing(cli, trial, db, tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(apple_health_xml([(START, 12)]))
    before = dump(db)
    r = cli("trial", "import", trial, str(path), "--from", "apple-health", "--source", "Watch",
            "--dry-run")
    assert r.exit_code == 0, r.output
    assert "would take 1 night" in r.stdout
    assert START.isoformat() in r.stdout and "in-bed start to first asleep sample" in r.stdout
    assert dump(db) == before


def test_watch_only_export_imports_with_the_protocols_lights_out(cli, db, tmp_path):
    import datetime as dt

    from .conftest import hk

    r = cli("trial", "new", "watch", "--arm", "a", "--arm", "b", "--days", "5", "--start",
            START.isoformat(), "--lights-out", "23:00", "--seed", "1")
    assert r.exit_code == 0, r.output
    nxt = START + dt.timedelta(days=1)
    path = tmp_path / "export.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n'
        + hk(f"{START} 23:25:00", f"{nxt} 06:30:00", "AsleepCore", "Apple Watch")
        + "\n</HealthData>\n"
    )
    r = cli("trial", "import", "watch", str(path), "--from", "apple-health", "--json")
    assert r.exit_code == 0, r.output
    taken = json.loads(r.stdout)["taken"]
    assert [(t["date"], t["value"]) for t in taken] == [(START.isoformat(), 25.0)]
    assert cli("trial", "verify", "watch").exit_code == 0


def test_commitments_made_before_lights_out_existed_still_verify():
    """An unset field added later must not change the hash of an existing protocol."""
    import datetime as dt

    from quicktakes.nof1.protocol import Protocol, commitment

    p = Protocol(name="x", arms=("a", "b"), start=dt.date(2026, 1, 1), days=2, seed=1)
    assert "lights_out" not in p.canonical()
    assert commitment(p, [0, 1]) == commitment(
        Protocol(**p.model_dump(exclude={"lights_out"})), [0, 1]
    )


def test_a_database_from_before_the_history_migrates_and_keeps_its_exclusions(tmp_path):
    from quicktakes.nof1 import store, trials
    from quicktakes.sqlite import open_db

    path = tmp_path / "old.db"
    old = open_db(path, [store._m001_initial], "trial database")
    old.execute("INSERT INTO trials (id, name, created_at) VALUES (1, 't', 'x')")
    old.execute("INSERT INTO exclusions (trial_id, day, reason, created_at) "
                "VALUES (1, '2026-01-05', 'fever', 'x')")
    old.commit()
    old.close()
    db = store.connect(path)
    assert trials._exclusions(db, 1) == {"2026-01-05": "fever"}
    assert db.execute("SELECT COUNT(*) FROM history").fetchone()[0] == 0


def test_history_keeps_every_change_and_replace_keeps_the_onset(cli, trial, db):
    day = START.isoformat()
    onset = f"{day}T22:40:00"
    assert cli("trial", "log", trial, "8", "--date", day, "--onset", onset).exit_code == 0
    assert cli("trial", "log", trial, "9", "--date", day, "--replace").exit_code == 0
    data = json.loads(cli("trial", "export", trial, "--format", "json").stdout)
    first = data["days"][0]
    assert first["value"] == 9 and first["onset"] == onset
    assert first["excluded"].startswith("pre-registered")  # the onset rule still applies
    other = (START + __import__("datetime").timedelta(days=1)).isoformat()
    assert cli("trial", "exclude", trial, "--date", other, "--reason", "fever").exit_code == 0
    r = cli("trial", "exclude", trial, "--date", other, "--reason", "again")
    assert r.exit_code == 2 and "already excluded" in r.stderr
    assert cli("trial", "unexclude", trial, "--date", other, "--reason", "typo").exit_code == 0
    actions = [h["action"] for h in json.loads(cli("trial", "history", trial, "--json").stdout)]
    assert actions == ["create", "log", "replace", "exclude", "unexclude"]


def test_amend_refuses_a_no_op_and_cutting_logged_days(cli, trial, one_line_error):
    late = (START + __import__("datetime").timedelta(days=9)).isoformat()
    assert cli("trial", "log", trial, "8", "--date", late).exit_code == 0
    one_line_error(cli("trial", "amend", trial, "--reason", "x", "--days", "20"), "changes nothing")
    one_line_error(cli("trial", "amend", trial, "--reason", "x", "--days", "5"), "last logged day")


def test_the_schedule_stays_sealed(cli, db):
    import datetime as dt

    today = dt.date.today()
    r = cli("trial", "new", "sealed", "--arm", "a", "--arm", "b", "--days", "10",
            "--assign-at", "21:30", "--seed", "3", "--start", today.isoformat())
    assert r.exit_code == 0, r.output
    future = dt.datetime.combine(today + dt.timedelta(days=3), dt.time(22, 0))
    r = cli("trial", "today", "sealed", "--at", future.isoformat())
    assert r.exit_code == 2 and "future" in r.stderr
    data = json.loads(cli("trial", "export", "sealed", "--format", "json").stdout)
    assert all(d["arm"] == "sealed" for d in data["days"][1:])
    assert data["protocol"]["seed"] == "sealed until the trial ends"
    r = cli("trial", "today", "sealed", "--at", f"{today}T21:45:00+00:00")
    assert r.exit_code in (0, 2) and "Traceback" not in r.output  # a time zone is understood


def test_new_trials_use_permuted_blocks_by_default(cli, db):
    r = cli("trial", "new", "blocky", "--arm", "a", "--arm", "b", "--arm", "c", "--days", "9",
            "--start", START.isoformat(), "--seed", "4")
    assert r.exit_code == 0 and "power is not computed" in r.stdout
    from quicktakes.nof1 import store, trials

    schedule = trials.load(store.connect(db), "blocky").schedule
    assert all(sorted(schedule[k : k + 3]) == [0, 1, 2] for k in range(0, 9, 3))
