"""`trial calendar` parsed back by icalendar, and `trial serve`'s start-up refusals."""

from __future__ import annotations

import datetime as dt
import socket
import zoneinfo

import icalendar
import pytest
from tests.conftest import assert_one_line_error
from tests.nof1.conftest import dump


@pytest.fixture
def spring(cli, db) -> str:
    """A trial across Europe's change to summer time (2026-03-29)."""
    r = cli("trial", "new", "dst", "--arm", "book", "--arm", "phone", "--assign-at", "21:30",
            "--days", "6", "--start", "2026-03-26", "--seed", "3")
    assert r.exit_code == 0, r.output
    return "dst"


def test_the_calendar_has_two_events_a_day_at_local_times_across_dst(cli, spring, tmp_path):
    out = tmp_path / "dst.ics"
    r = cli("trial", "calendar", spring, "--out", str(out), "--tz", "Europe/Berlin")
    assert r.exit_code == 0, r.output
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 12
    starts = sorted(e.decoded("dtstart") for e in events if "choose" in str(e["summary"]))
    assert [s.date() for s in starts] == [dt.date(2026, 3, 26) + dt.timedelta(days=k)
                                          for k in range(6)]
    assert {(s.hour, s.minute) for s in starts} == {(21, 30)}  # wall clock, both sides
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    offsets = {s.astimezone(berlin).utcoffset() for s in starts}
    assert offsets == {dt.timedelta(hours=1), dt.timedelta(hours=2)}  # the change is in it
    mornings = [e.decoded("dtstart") for e in events if "log last night" in str(e["summary"])]
    assert min(mornings).date() == dt.date(2026, 3, 27) and {m.hour for m in mornings} == {8}
    assert len(list(cal.walk("VTIMEZONE"))) == 1
    text = out.read_text()
    assert "book" not in text and "phone" not in text  # the arms stay sealed


def test_the_calendar_without_a_zone_uses_floating_times(cli, spring, tmp_path):
    out = tmp_path / "f.ics"
    assert cli("trial", "calendar", spring, "--out", str(out)).exit_code == 0
    start = next(iter(icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")))
    assert start.decoded("dtstart").tzinfo is None


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--tz", "Mars/Olympus"], "unknown time zone"), (["--morning", "8am"], "HH:MM"),
     (["--out", "/nonexistent/dir/x.ics"], "does not exist")],
)
def test_calendar_bad_input_is_one_line_and_writes_nothing(cli, spring, tmp_path, args,
                                                           message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("trial", "calendar", spring, *args)
    assert_one_line_error(r, message)
    assert list(tmp_path.glob("*.ics")) == []


def test_serve_refuses_a_port_in_use(cli, spring, db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = cli("trial", "serve", "--port", str(port))
    assert_one_line_error(r, f"port {port} is in use")


def test_serve_refuses_an_address_of_another_machine(cli, spring):
    assert_one_line_error(cli("trial", "serve", "--host", "192.0.2.1"),
                          "not an address of this machine")
    assert_one_line_error(cli("trial", "serve", "--host", "no-such-host.invalid"),
                          "not an address")


def test_serve_refuses_a_missing_database_and_writes_nothing(cli, tmp_path):
    missing = tmp_path / "none.db"
    r = cli("trial", "serve", "--db", str(missing))
    assert_one_line_error(r, "no trial database")
    assert list(tmp_path.iterdir()) == []


def test_serve_refuses_a_bad_zone_before_it_listens(cli, spring, db):
    rows = dump(db)
    assert_one_line_error(cli("trial", "serve", "--tz", "Nowhere/Land"), "unknown time zone")
    assert dump(db) == rows
