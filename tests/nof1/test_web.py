"""`trial serve`'s app through Starlette's test client (real store, real library calls): the
sealed arm, the forms, the confirmations, and every refusal leaving the database as it was."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import stat

import pytest
from starlette.testclient import TestClient
from tests.nof1.conftest import START, dump

from quicktakes.nof1.web import CSRF_TTL, Site, access_token, make_app

DAY3 = START + dt.timedelta(days=2)


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime.combine(DAY3, dt.time(21, 0)))  # before the 21:30 assignment


@pytest.fixture
def site(db, trial, clock) -> Site:
    return Site(db, access_token(db), require_token=True, clock=clock)


@pytest.fixture
def client(site) -> TestClient:
    c = TestClient(make_app(site), base_url="http://127.0.0.1:8765")
    r = c.get(f"/?token={site.token}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    return c


def fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action`."""
    form = html[html.index(f'action="{action}"'):]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))


def test_the_token_is_made_once_and_kept_private(db, trial):
    token = access_token(db)
    assert access_token(db) == token and len(token) >= 32
    mode = stat.S_IMODE((db.parent / f"{db.name}.token").stat().st_mode)
    assert mode == 0o600


def test_the_arm_is_sealed_before_its_time_and_shown_from_it(client, clock, cli):
    before = client.get("/t/sleep").text
    assert 'id="arm"' not in before and "revealed at 21:30" in before
    clock.at = clock.at.replace(hour=21, minute=30)
    after = client.get("/t/sleep").text
    arm = re.search(r'id="arm">([^<]+)<', after).group(1)
    r = cli("trial", "today", "sleep", "--at", clock.at.isoformat(timespec="minutes"))
    assert r.stdout.strip().endswith(arm)  # the same arm the CLI reveals


def test_a_value_logged_through_the_form_is_in_status_and_history(client, cli):
    assert 'id="done">0 of 20' in client.get("/t/sleep/status").text  # made, then kept
    page = client.get("/t/sleep").text
    r = client.post("/t/sleep/log", data={**fields(page, "/t/sleep/log"),
                                          "date": str(DAY3 - dt.timedelta(days=1)),
                                          "value": "17", "note": "late dinner"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "Recorded 17" in client.get(r.headers["location"]).text
    history = cli("trial", "history", "sleep", "--json").stdout
    assert '"action": "log"' in history and '"source": "web"' in history
    status = client.get("/t/sleep/status").text
    assert 'id="done">1 of 20' in status


def test_a_form_submitted_twice_records_once(client, db):
    page = client.get("/t/sleep").text
    form = {**fields(page, "/t/sleep/log"), "date": str(START), "value": "12"}
    first = client.post("/t/sleep/log", data=form, follow_redirects=False)
    rows = dump(db)
    again = client.post("/t/sleep/log", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert dump(db) == rows  # the reload wrote nothing


def test_replacing_a_value_needs_an_explicit_confirmation(client, db):
    page = client.get("/t/sleep").text
    client.post("/t/sleep/log", data={**fields(page, "/t/sleep/log"), "date": str(START),
                                      "value": "12"})
    page = client.get("/t/sleep").text
    rows = dump(db)
    ask = client.post("/t/sleep/log", data={**fields(page, "/t/sleep/log"),
                                            "date": str(START), "value": "30"})
    assert ask.status_code == 409 and "already has 12" in ask.text and 'id="confirm"' in ask.text
    assert dump(db) == rows
    done = client.post("/t/sleep/log", data={**fields(ask.text, "/t/sleep/log"),
                                             "date": str(START), "value": "30"},
                       follow_redirects=False)
    assert done.status_code == 303
    con = sqlite3.connect(db)
    values = [v for (v,) in con.execute("SELECT value FROM observations ORDER BY id")]
    assert values == [12, 30]  # the old value stays, superseded


def test_exclude_and_take_back_a_day(client, cli):
    page = client.get("/t/sleep").text
    hidden = fields(page, "/t/sleep/exclude")
    r = client.post("/t/sleep/exclude", data={**hidden, "date": str(START), "reason": "ill"})
    assert "excluded: ill" in r.text
    page = client.get("/t/sleep").text
    r = client.post("/t/sleep/exclude", data={**fields(page, "/t/sleep/exclude"),
                                              "date": str(START), "reason": "fine after all",
                                              "action": "unexclude"})
    assert "back in the analysis" in r.text
    actions = [ln for ln in cli("trial", "history", "sleep").stdout.splitlines()
               if "exclude" in ln]
    assert len(actions) == 2


@pytest.mark.parametrize(
    ("value", "date", "message"),
    [("abc", None, "must be a number"), ("5000", None, "between 0 and 1440"),
     ("10", "2025-01-01", "outside the trial"), ("10", "2026-13-01", "not a date")],
)
def test_bad_values_are_shown_on_the_page_and_write_nothing(client, db, value, date, message):
    page = client.get("/t/sleep").text
    rows = dump(db)
    r = client.post("/t/sleep/log", data={**fields(page, "/t/sleep/log"), "value": value,
                                          "date": date or str(START)})
    assert r.status_code == 400 and message in r.text
    assert dump(db) == rows


def test_refusals_are_403_and_change_nothing(site, client, clock, db, caplog):
    page = client.get("/t/sleep").text
    form = {**fields(page, "/t/sleep/log"), "date": str(START), "value": "9"}
    rows = dump(db)
    stranger = TestClient(make_app(site), base_url="http://127.0.0.1:8765")
    assert stranger.get("/t/sleep").status_code == 403  # no token
    assert stranger.get("/t/sleep?token=wrong").status_code == 403
    assert stranger.post("/t/sleep/log", data=form).status_code == 403
    forged = client.post("/t/sleep/log", data={**form, "csrf": "1.deadbeef"})
    assert forged.status_code == 403 and "forged" in forged.text
    other = client.post("/t/sleep/log", data=form, headers={"origin": "http://evil.example"})
    assert other.status_code == 403 and "another origin" in other.text
    clock.at += CSRF_TTL + dt.timedelta(minutes=1)
    stale = client.post("/t/sleep/log", data=form)
    assert stale.status_code == 403 and "stale" in stale.text
    assert dump(db) == rows
    assert "Traceback" not in stale.text
    assert sum("refused" in r.getMessage() for r in caplog.records) == 6


def test_a_read_only_server_shows_pages_and_refuses_forms(db, trial, clock):
    site = Site(db, access_token(db), require_token=False, read_only=True, clock=clock)
    c = TestClient(make_app(site), base_url="http://localhost:8765")
    page = c.get("/t/sleep").text
    assert "<form" not in page and "Read-only" in page
    rows = dump(db)
    assert c.post("/t/sleep/log", data={"value": "3"}).status_code == 403
    assert dump(db) == rows


def test_a_locked_database_refuses_the_form_with_a_message(client, db, monkeypatch):
    import quicktakes.sqlite as qs

    page = client.get("/t/sleep").text
    rows = dump(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(qs, "BUSY_MS", 200)
    try:
        r = client.post("/t/sleep/log", data={**fields(page, "/t/sleep/log"),
                                              "date": str(START), "value": "8"})
    finally:
        holder.execute("ROLLBACK")
    assert r.status_code == 503 and "locked" in r.text and "nothing was recorded" in r.text
    assert dump(db) == rows


def test_an_unknown_trial_is_a_404_page(client):
    r = client.get("/t/nope")
    assert r.status_code == 404 and "unknown trial" in r.text


def test_the_calendar_needs_its_key(client, site):
    assert client.get("/t/sleep/calendar.ics?key=bad").status_code == 403
    r = client.get(f"/t/sleep/calendar.ics?key={site.calendar_key('sleep')}")
    assert r.status_code == 200 and r.text.startswith("BEGIN:VCALENDAR")


def test_the_analysis_page_keeps_the_seed_sealed_while_the_trial_runs(client, clock, db):
    from quicktakes.nof1 import trials
    from quicktakes.nof1.store import connect

    clock.at = dt.datetime.combine(START + dt.timedelta(days=12), dt.time(8))
    con = connect(db)
    for k in range(12):
        trials.log_value(con, "sleep", str(10 + k % 3), str(START + dt.timedelta(days=k)),
                         today=clock.at.date(), at=clock.at)
    html = client.get("/t/sleep/analysis").text
    protocol = html.split("<h2>Protocol</h2>")[1].split("</table>")[0]
    assert "<th>seed</th><td>sealed until the trial ends</td>" in protocol


def test_the_status_figures_are_images_of_their_own(client, clock, db):
    from quicktakes.nof1 import trials
    from quicktakes.nof1.store import connect

    clock.at = dt.datetime.combine(START + dt.timedelta(days=12), dt.time(8))
    con = connect(db)
    for k in range(8):
        trials.log_value(con, "sleep", str(10 + k), str(START + dt.timedelta(days=k)),
                         today=clock.at.date(), at=clock.at)
    status = client.get("/t/sleep/status").text
    assert 'src="/t/sleep/timeline.svg"' in status and 'src="/t/sleep/accrual.svg"' in status
    for kind in ("timeline", "accrual"):
        r = client.get(f"/t/sleep/{kind}.svg")
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in r.text
    assert client.get("/t/sleep/other.svg").status_code == 404
