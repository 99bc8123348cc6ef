"""`trial serve` attacked as a web page the user visits would attack it: markup in every
field a person types, a crafted message link, a foreign Host (DNS rebinding), a foreign Origin,
and the access token in the log. Each attack changes nothing in the database."""

from __future__ import annotations

import datetime as dt
import logging
import re

import httpx
import pytest
from starlette.testclient import TestClient
from tests.nof1.conftest import START, dump
from tests.nof1.test_serve_live import Live
from tests.nof1.test_web import Clock, fields

from quicktakes.nof1 import trials
from quicktakes.nof1.store import connect
from quicktakes.nof1.web import RedactSecrets, Site, access_token, make_app, split_host

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
LIVE = re.compile(r"<script>alert|<img src=x", re.I)


@pytest.fixture
def marked(cli, db) -> str:
    """A trial whose every free-text field holds markup."""
    r = cli("trial", "new", "xss", "--arm", SCRIPT, "--arm", IMG, "--outcome", f"mood {SCRIPT}",
            "--assign-at", "07:00", "--days", "12", "--start", START.isoformat(), "--seed", "3",
            "--scheme", "simple", "--smallest-effect", "1")
    assert r.exit_code == 0, r.output
    con = connect(db)
    at = dt.datetime.combine(START + dt.timedelta(days=10), dt.time(8))
    for k in range(9):
        trials.log_value(con, "xss", str(3 + k % 4), str(START + dt.timedelta(days=k)),
                         note=f"note {SCRIPT}", today=at.date(), at=at)
    trials.exclude(con, "xss", str(START + dt.timedelta(days=9)), f"why {IMG}", today=at.date())
    con.close()
    return "xss"


def client_for(db, clock, host="127.0.0.1:8765") -> tuple[Site, TestClient]:
    site = Site(db, access_token(db), require_token=False, clock=clock, port=8765)
    return site, TestClient(make_app(site), base_url=f"http://{host}")


def test_markup_in_every_field_is_shown_as_text_on_every_page(db, marked):
    clock = Clock(dt.datetime.combine(START + dt.timedelta(days=10), dt.time(8)))
    _, c = client_for(db, clock)
    pages = {
        path: c.get(path)
        for path in ("/", "/t/xss", "/t/xss/status", "/t/xss/analysis",
                     "/t/xss/timeline.svg", "/t/xss/accrual.svg",
                     f"/t/xss?msg={SCRIPT}", f"/t/xss?msg=logged&date={SCRIPT}",
                     "/t/nope<script>alert(1)</script>")
    }
    for path, r in pages.items():
        assert not LIVE.search(r.text), f"live markup on {path}"
    assert pages["/"].status_code == 200 and "&lt;script&gt;alert(1)" in pages["/"].text
    assert "&lt;img src=x" in pages["/t/xss/analysis"].text  # shown, as text
    assert "<script" not in pages["/t/xss/timeline.svg"].text
    assert SCRIPT not in pages[f"/t/xss?msg={SCRIPT}"].text  # no text from the URL at all


def test_a_message_link_says_only_what_the_store_holds(db, marked):
    clock = Clock(dt.datetime.combine(START + dt.timedelta(days=10), dt.time(8)))
    _, c = client_for(db, clock)
    day2 = START + dt.timedelta(days=1)
    assert "Recorded 4 for " + str(day2) in c.get(f"/t/xss?msg=logged&date={day2}").text
    assert 'class="card msg"' not in c.get("/t/xss?msg=Your+account+is+locked").text
    later = START + dt.timedelta(days=11)  # nothing logged: no "Recorded" claim
    assert 'class="card msg"' not in c.get(f"/t/xss?msg=logged&date={later}").text


@pytest.mark.parametrize("host", ["evil.example:8765", "127.0.0.1:9999", "localhost.evil:8765",
                                  "127.0.0.2:8765", "evil.example"])
def test_a_foreign_host_gets_400_and_changes_nothing(db, trial, host, caplog):
    clock = Clock(dt.datetime.combine(START + dt.timedelta(days=2), dt.time(22)))
    site, good = client_for(db, clock)
    page = good.get("/t/sleep").text
    form = {**fields(page, "/t/sleep/log"), "date": str(START), "value": "9"}
    rows = dump(db)
    _, evil = client_for(db, clock, host=host)
    for r in (evil.get("/t/sleep"), evil.get("/t/sleep/analysis"),
              evil.post("/t/sleep/log", data=form, headers={"origin": f"http://{host}"}),
              evil.post("/t/sleep/exclude", data={**form, "reason": "x"},
                        headers={"origin": f"http://{host}"})):
        assert r.status_code == 400 and "does not answer to that name" in r.text
    assert dump(db) == rows
    assert sum("is not this server's" in r.getMessage() for r in caplog.records) == 4


@pytest.mark.parametrize("host", ["localhost:8765", "127.0.0.1:8765", "[::1]:8765",
                                  "LOCALHOST:8765"])
def test_the_loopback_names_are_answered(db, trial, host):
    clock = Clock(dt.datetime.combine(START + dt.timedelta(days=2), dt.time(22)))
    _, c = client_for(db, clock, host=host)
    assert c.get("/t/sleep").status_code == 200


def test_a_foreign_origin_cannot_post_even_with_a_good_form(db, trial):
    clock = Clock(dt.datetime.combine(START + dt.timedelta(days=2), dt.time(22)))
    _, c = client_for(db, clock)
    page = c.get("/t/sleep").text
    form = {**fields(page, "/t/sleep/log"), "date": str(START), "value": "9"}
    rows = dump(db)
    for origin in ("http://evil.example:8765", "http://127.0.0.1:9999", "null",
                   "https://127.0.0.1:8765.evil.example"):
        r = c.post("/t/sleep/log", data=form, headers={"origin": origin})
        assert r.status_code == 403, origin
    assert dump(db) == rows
    ok = c.post("/t/sleep/log", data=form, headers={"origin": "http://127.0.0.1:8765"},
                follow_redirects=False)
    assert ok.status_code == 303 and dump(db) != rows


def test_the_access_token_never_reaches_the_log(db, trial):
    from quicktakes.nof1.web import redact_logs

    clock = Clock(dt.datetime.combine(START + dt.timedelta(days=2), dt.time(22)))
    site = Site(db, access_token(db), require_token=True, clock=clock)
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    live = Live(site, log_level="info")
    site.port = live.port
    redact_logs()
    access = logging.getLogger("uvicorn.access")
    keep = Keep()
    access.addHandler(keep)
    try:
        with httpx.Client(base_url=live.url, follow_redirects=True) as c:
            assert c.get(f"/?token={site.token}").status_code == 200  # through the redirect
            assert c.get(f"/t/sleep/calendar.ics?key={site.calendar_key('sleep')}"
                         ).status_code == 200
            assert c.get("/?token=wrong").status_code == 403
    finally:
        access.removeHandler(keep)
        live.stop()
    text = "\n".join(lines)
    assert "token=[redacted]" in text and "key=[redacted]" in text
    assert site.token not in text and site.calendar_key("sleep") not in text


def test_the_redaction_covers_every_argument_shape():
    f = RedactSecrets()
    rec = logging.LogRecord("x", logging.INFO, "", 0, '%s - "%s %s"', ("1.2.3.4", "GET",
                            "/?token=abc&x=1"), None)
    assert f.filter(rec) and "abc" not in rec.getMessage()
    rec = logging.LogRecord("x", logging.INFO, "", 0, "GET /?token=abc", None, None)
    assert f.filter(rec) and "abc" not in rec.getMessage()


def test_host_headers_are_split_like_a_browser_sends_them():
    assert split_host("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert split_host("[::1]:80") == ("[::1]", 80)
    assert split_host("Example.COM") == ("example.com", None)
    assert split_host("a:b") == ("a", None)


def test_the_names_answered_follow_the_bound_address():
    import ipaddress
    import socket

    from quicktakes.errors import ConfigError
    from quicktakes.nof1.web import answered_hosts, lan_addresses

    hosts, shown = answered_hosts("127.0.0.1", [])
    assert shown == ["127.0.0.1"] and hosts == {"localhost", "127.0.0.1", "[::1]"}
    hosts, shown = answered_hosts("0.0.0.0", ["Laptop.local"])
    assert shown == lan_addresses() and "laptop.local" in hosts
    assert socket.gethostname().lower() not in shown  # a phone cannot resolve "vm"
    assert all(not ipaddress.ip_address(a).is_loopback for a in shown)
    assert set(shown) <= hosts and "evil.example" not in hosts
    hosts, shown = answered_hosts("::1", [])
    assert shown == ["[::1]"]
    with pytest.raises(ConfigError, match="--allow-host"):
        answered_hosts("127.0.0.1", ["http://x/"])
