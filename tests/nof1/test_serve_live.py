"""`trial serve` live on loopback: in headless Chromium at a desktop and a phone width, under
200 concurrent form posts with CLI writes beside them, and killed mid-request."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests.nof1.conftest import START
from tests.nof1.test_web import Clock, fields

from quicktakes.nof1.web import Site, access_token, bind, make_app

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
SHOTS = os.environ.get("QUICKTAKES_SHOTS")
"""A folder to keep the browser test's screenshots in (to look at them)."""


class Live:
    """uvicorn serving `site` from a thread, on a free loopback port."""

    def __init__(self, site: Site, log_level: str = "warning") -> None:
        import uvicorn

        self.sock = bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        site.port = self.port
        self.server = uvicorn.Server(uvicorn.Config(make_app(site), lifespan="off",
                                                    log_level=log_level))
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def integrity(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def current_values(db: Path) -> dict[str, float]:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT day, value FROM observations WHERE superseded_by IS NULL")
    out = {d: v for d, v in rows}
    con.close()
    return out


@pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                    reason=".ci/run installs chromium and chromium-driver")
def test_a_day_in_the_browser_at_desktop_and_phone_width(db, trial, cli, tmp_path):
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    def submit(button: str, text: str) -> None:
        """Click `button`, wait for the page it posts to replace this one (reading the old
        page while the new one renders raced: "Node ... does not belong to the document"),
        then for the new page to show `text` in its message."""
        old = browser.find_element(By.ID, button)
        old.click()

        def gone(_) -> bool:
            # selenium's staleness_of catches only StaleElementReferenceException; mid-navigation
            # Chromium may instead answer "Node with given id does not belong to the document",
            # which says the same thing: the old page's node has left the document.
            try:
                old.is_enabled()
            except WebDriverException:
                return True
            return False

        WebDriverWait(browser, 20).until(gone)
        WebDriverWait(browser, 20, ignored_exceptions=(WebDriverException,)).until(
            ec.text_to_be_present_in_element((By.CLASS_NAME, "msg"), text))

    clock = Clock(dt.datetime.combine(START + dt.timedelta(days=2), dt.time(21, 0)))
    site = Site(db, access_token(db), require_token=True, clock=clock)
    live = Live(site)
    shots = Path(SHOTS) if SHOTS else tmp_path
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        opts.add_argument(flag)
    browser = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        for width in (1280, 400):
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": 860, "deviceScaleFactor": 1, "mobile": width < 500})
            clock.at = clock.at.replace(hour=21, minute=0)
            browser.delete_all_cookies()
            browser.get(f"{live.url}/?token={site.token}")
            assert "token" not in browser.current_url  # traded for the cookie
            browser.get(f"{live.url}/t/sleep")
            assert not browser.find_elements(By.ID, "arm")
            assert "revealed at 21:30" in browser.find_element(By.ID, "sealed").text
            browser.save_screenshot(str(shots / f"today-sealed-{width}.png"))
            clock.at = clock.at.replace(hour=21, minute=31)
            browser.refresh()
            arm = browser.find_element(By.ID, "arm").text
            assert arm in ("book", "phone", "laptop")
            night = START + dt.timedelta(days=1 if width == 1280 else 2)  # last night, tonight
            browser.find_element(By.CSS_SELECTOR, f'input[name=date][value="{night}"]').click()
            browser.find_element(By.ID, "value").send_keys("14")
            browser.find_element(By.ID, "note").send_keys(f"typed at {width} px")
            submit("save", f"Recorded 14 for {night}")
            overflow = browser.execute_script(
                "var w = window.innerWidth, out = [];"
                "document.querySelectorAll('body *').forEach(function (e) {"
                "  var r = e.getBoundingClientRect();"
                "  if (r.width && r.right > w + 1) out.push(e.tagName + '#' + e.id); });"
                "return [document.documentElement.scrollWidth, w, out];")
            assert overflow[0] <= overflow[1] and overflow[2] == [], overflow
            browser.save_screenshot(str(shots / f"today-logged-{width}.png"))
            if width == 400:
                browser.execute_script("arguments[0].value = arguments[1]",
                                       browser.find_element(By.ID, "ex-date"), night.isoformat())
                browser.find_element(By.ID, "reason").send_keys("woke at 3")
                submit("exclude", "excluded: woke at 3")
            browser.get(f"{live.url}/t/sleep/status")
            browser.save_screenshot(str(shots / f"status-{width}.png"))
            width_ok = browser.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth")
            assert width_ok
    finally:
        browser.quit()
        live.stop()
    status = cli("trial", "status", "sleep").stdout
    assert "1 excluded" in status and "1/20 days analysed" in status, status
    history = cli("trial", "history", "sleep", "--json").stdout
    assert history.count('"source": "web"') == 2 and '"action": "exclude"' in history


def _long_trial(cli, days: int, start: dt.date) -> None:
    r = cli("trial", "new", "long", "--arm", "a", "--arm", "b", "--days", str(days),
            "--start", start.isoformat(), "--seed", "5", "--max", "100000")
    assert r.exit_code == 0, r.output


def _post(client: httpx.Client, url: str, csrf: str, date: dt.date, value: int) -> int:
    r = client.post(f"{url}/t/long/log", data={"csrf": csrf, "nonce": secrets.token_hex(8),
                                               "date": date.isoformat(), "value": str(value)})
    return r.status_code


def test_two_hundred_posts_from_eight_threads_and_the_cli_at_once(db, cli):
    start = dt.date(2026, 1, 1)
    _long_trial(cli, 260, start)
    clock = Clock(dt.datetime.combine(start + dt.timedelta(days=259), dt.time(8)))
    site = Site(db, access_token(db), require_token=False, clock=clock)
    live = Live(site)
    env = os.environ | {"QUICKTAKES_DB": str(db)}
    try:
        with httpx.Client() as c:
            csrf = fields(c.get(f"{live.url}/t/long").text, "/t/long/log")["csrf"]
        terminal = [
            subprocess.Popen([sys.executable, "-m", "quicktakes.cli", "trial", "log", "long",
                              str(1000 + k), "--date", str(start + dt.timedelta(days=200 + k))],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for k in range(4)
        ]

        def worker(k: int) -> list[tuple[int, int]]:
            with httpx.Client(timeout=60) as c:
                return [(i, _post(c, live.url, csrf, start + dt.timedelta(days=i), i))
                        for i in range(k, 200, 8)]

        with ThreadPoolExecutor(8) as pool:
            answers = [a for part in pool.map(worker, range(8)) for a in part]
        assert all(p.wait(120) == 0 for p in terminal), [p.stderr.read() for p in terminal]
    finally:
        live.stop()
    accepted = [i for i, code in answers if code == 303]
    assert len(accepted) == 200, sorted({code for _, code in answers})
    values = current_values(db)
    assert {start + dt.timedelta(days=i): float(i) for i in accepted}.items() <= {
        dt.date.fromisoformat(d): v for d, v in values.items()}.items()
    assert len(values) == 204 and integrity(db) == "ok"
    con = sqlite3.connect(db)
    logged = con.execute("SELECT COUNT(*) FROM history WHERE action = 'log'").fetchone()[0]
    assert logged == 204  # every value once in the history


def test_a_server_killed_mid_request_leaves_every_accepted_value_and_nothing_broken(db, cli):
    today = dt.date.today()
    start = today - dt.timedelta(days=300)
    _long_trial(cli, 300, start)
    env = os.environ | {"QUICKTAKES_DB": str(db), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "quicktakes.cli", "trial", "serve", "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = server.stdout.readline()
        url = re.search(r"at (http://127\.0\.0\.1:\d+)/", line).group(1)
        with httpx.Client() as c:
            for _ in range(100):
                try:
                    csrf = fields(c.get(f"{url}/t/long").text, "/t/long/log")["csrf"]
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
        answers: list[tuple[int, int | None]] = []

        def worker(k: int) -> None:
            with httpx.Client(timeout=10) as c:
                for i in range(k, 280, 4):
                    try:
                        answers.append((i, _post(c, url, csrf, start + dt.timedelta(days=i), i)))
                    except httpx.TransportError:
                        answers.append((i, None))

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while sum(code == 303 for _, code in answers) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)
        for t in threads:
            t.join(60)
    finally:
        server.kill()
        server.wait()
    accepted = {i for i, code in answers if code == 303}
    assert 20 <= len(accepted) < 280 and any(code is None for _, code in answers)
    values = {dt.date.fromisoformat(d): v for d, v in current_values(db).items()}
    assert all(values.get(start + dt.timedelta(days=i)) == i for i in accepted)
    assert set(values) <= {start + dt.timedelta(days=i) for i, _ in answers}
    assert integrity(db) == "ok"


def test_beyond_loopback_the_printed_address_carries_the_token_and_nothing_opens_without(
        db, trial):
    env = os.environ | {"QUICKTAKES_DB": str(db), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "quicktakes.cli", "trial", "serve", "--host", "0.0.0.0",
         "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = server.stdout.readline()
        port, token = re.search(r":(\d+)/\?token=([\w-]+)", first).groups()
        assert token == access_token(db)
        qr = [server.stdout.readline() for _ in range(3)][1:]
        assert all("█" in line or "▀" in line or "▄" in line for line in qr), qr
        url = f"http://127.0.0.1:{port}"
        with httpx.Client() as c:
            for _ in range(200):
                try:
                    r = c.get(f"{url}/t/sleep")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            assert r.status_code == 403 and "Traceback" not in r.text
            assert c.get(f"{url}/t/sleep?token=nope").status_code == 403
            r = c.get(f"{url}/t/sleep?token={token}", follow_redirects=True)  # cookie, then page
            assert r.status_code == 200 and "sleep" in r.text and "token=" not in str(r.url)
    finally:
        server.terminate()
        _, log = server.communicate(timeout=10)
    assert log.count("refused GET /t/sleep") == 2
