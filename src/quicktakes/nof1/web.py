"""`trial serve`: the daily part of a trial on a phone. A Starlette app over the same store and
the same library calls as the CLI (`nof1.trials`), with no rules of its own: the arm appears
from its assignment time on, values go through `log_value`'s checks and transactions.

Reachable safely: an access token (made on first use, stored beside the database with mode
0600) is exchanged for an HttpOnly, SameSite=Strict cookie; every form carries a CSRF token
(signed with the access token, valid `CSRF_TTL`) and a nonce, so a reload or a double tap
records once; a POST from another origin is refused. Refusals are 403 pages and one line in
the server log, never a traceback.

Safe against the pages a person visits meanwhile: every template is escaped (whatever its
name), the message after a form is chosen from a fixed set by a code (never text from the
URL), and the server answers only to its own names (`Site.hosts`, with its port), so a site
whose name resolves to this machine (DNS rebinding) gets 400. Secrets in a URL (the access
token, a calendar key) are redacted from the access log.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import socket
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from quicktakes.errors import ConfigError, QuicktakesError, StoreError, UnknownNameError
from quicktakes.nof1 import trials
from quicktakes.nof1.pages import render
from quicktakes.nof1.store import connect

log = logging.getLogger("quicktakes.serve")

COOKIE = "quicktakes_trials"
CSRF_TTL = dt.timedelta(hours=12)
"""A form older than this is stale: reload the page for a fresh one."""
SEEN = 10_000
"""Nonces remembered (a form submitted again records nothing)."""

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
"""The names a loopback server answers to."""

SECRET_IN_URL = re.compile(r"((?:token|key)=)[^&\s\"]+")


class RedactSecrets(logging.Filter):
    """The access token and calendar keys never reach a log: uvicorn's access line prints
    the whole URL, the first of which carries the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                SECRET_IN_URL.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        record.msg = SECRET_IN_URL.sub(r"\1[redacted]", str(record.msg))
        return True


def host_name(host: str) -> str:
    """How a bound address appears in a Host header: IPv6 in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def split_host(header: str) -> tuple[str, int | None]:
    """A Host header's name (lower case, IPv6 bracketed) and port (None when absent or not a
    number)."""
    header = header.strip().lower()
    if header.startswith("["):
        name, _, rest = header.partition("]")
        name += "]"
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = header.partition(":")
    return name, int(port) if port.isdigit() else None


MESSAGES = {
    "logged": "Recorded {value} for {date} (day {day}).",
    "excluded": "{date} excluded: {reason}.",
    "back": "{date} is back in the analysis.",
}
"""What the today page may say after a form: chosen by a code in the URL, filled from the
store, so a crafted link cannot put text (or markup) on the page."""


def token_file(db: Path) -> Path:
    return db.with_name(db.name + ".token")


def access_token(db: Path) -> str:
    """The database's access token: made on first use, stored beside it, readable by its
    owner only."""
    path = token_file(db)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text(encoding="ascii").strip()
        if not token:
            raise StoreError(f"the access token file {path} is empty; delete it") from None
        return token
    except OSError as exc:
        raise StoreError(f"cannot write the access token beside {db}: {exc.strerror}") from None
    token = secrets.token_urlsafe(24)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
    return token


@dataclass
class Site:
    """What one server serves: the database, its token and whether pages need it."""

    db: Path
    token: str
    require_token: bool = True
    read_only: bool = False
    tz: str | None = None
    """The calendar's IANA time zone (None: floating local times)."""
    clock: Callable[[], dt.datetime] = dt.datetime.now
    hosts: frozenset[str] = LOOPBACK_NAMES
    """The Host names answered (lower case, IPv6 in brackets); any other gets 400."""
    port: int | None = None
    """The port a Host header must name (None: any, for a test client without one)."""
    pages: dict[tuple[str, str], tuple[object, str]] = field(default_factory=dict)
    """Each trial's status page and figures, with the key (its last change, the day) each
    was made for."""
    _render: threading.Lock = field(default_factory=threading.Lock)
    """One matplotlib figure at a time (it is not thread-safe)."""
    _seen: OrderedDict[str, str] = field(default_factory=OrderedDict)
    _locks: dict[tuple[str, ...], threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def lock(self, *key: str) -> threading.Lock:
        """One lock per key (a form's nonce, a status part): a second request for the same
        thing waits for the first."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def sign(self, text: str) -> str:
        return hmac.new(self.token.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]

    def csrf(self) -> str:
        stamp = str(int(self.clock().timestamp()))
        return f"{stamp}.{self.sign('csrf:' + stamp)}"

    def csrf_refusal(self, value: str) -> str | None:
        """Why a form's CSRF token is refused, or None."""
        stamp, _, mac = value.partition(".")
        if not stamp.isdigit() or not same(mac, self.sign("csrf:" + stamp)):
            return "a missing or forged form token"
        age = self.clock() - dt.datetime.fromtimestamp(int(stamp))
        if age > CSRF_TTL:
            return "a stale form (reload the page for a fresh one)"
        return None

    def answers(self, header: str) -> bool:
        """Whether a Host (or an Origin's netloc) names this server."""
        name, port = split_host(header)
        if name not in self.hosts:
            return False
        return self.port is None or port == self.port or (port is None and self.port == 80)

    def calendar_key(self, name: str) -> str:
        return self.sign("ics:" + name)

    @contextmanager
    def once(self, nonce: str) -> Iterator[str | None]:
        """Run a submission once per nonce: yields the earlier outcome, or None to run it
        (then `done` records the outcome). Concurrent duplicates wait for the first."""
        with self.lock("nonce", nonce):
            yield self._seen.get(nonce)

    def done(self, nonce: str, outcome: str) -> None:
        with self._guard:
            self._seen[nonce] = outcome
            while len(self._seen) > SEEN:
                old, _ = self._seen.popitem(last=False)
                self._locks.pop(("nonce", old), None)


def _timeline(data: Any, narrow: bool = False) -> str:
    from quicktakes.nof1.plots import trial_svg  # matplotlib: for the figures only

    return _standalone(trial_svg(data, narrow=narrow))


def _accrual(data: Any, narrow: bool = False) -> str:
    from quicktakes.nof1.plots import accrual_svg

    return _standalone(accrual_svg(data, narrow=narrow))


def _standalone(svg: str) -> str:
    """An inline SVG as a file of its own (an <img> needs the namespace declared)."""
    return '<?xml version="1.0" encoding="utf-8"?>\n' + svg


FIGURES: dict[str, Callable[[Any], str]] = {
    "timeline": _timeline, "accrual": _accrual,
    "timeline-narrow": lambda d: _timeline(d, narrow=True),
    "accrual-narrow": lambda d: _accrual(d, narrow=True),
}
"""The status page's figures, served as SVG images: the plot of values by arm (the one the
analysis page draws) and the p-value as days accrue, each drawn for a desktop and for a
phone's width."""


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def refuse(request: Request, why: str) -> Response:
    client = request.client.host if request.client else "?"
    log.warning("refused %s %s from %s: %s", request.method, request.url.path, client, why)
    return page("message.html.j2", 403, title="Forbidden", error=f"Forbidden: {why}.")


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status_code=status)


class Guard(BaseHTTPMiddleware):
    """The access token (as a query once, then as a cookie), and same-origin POSTs."""

    def __init__(self, app: Any, site: Site) -> None:
        super().__init__(app)
        self.site = site

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        site = self.site
        host = request.headers.get("host", "")
        if not site.answers(host):
            client = request.client.host if request.client else "?"
            log.warning("refused %s %s from %s: Host %r is not this server's",
                        request.method, request.url.path, client, host[:100])
            return page("message.html.j2", 400, title="Bad request",
                        error="Bad request: this server does not answer to that name.")
        calendar = request.url.path.endswith("/calendar.ics")  # keyed per trial instead
        if site.require_token and not calendar:
            given = request.query_params.get("token")
            if given is not None:
                if not same(given, site.token):
                    return refuse(request, "a wrong access token")
                # the token leaves the address bar (and the history) for a cookie
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                r = RedirectResponse(target, status_code=303)
                r.set_cookie(COOKIE, site.token, max_age=400 * 86400, httponly=True,
                             samesite="strict", secure=request.url.scheme == "https")
                return r
            if not same(request.cookies.get(COOKIE, ""), site.token):
                return refuse(request, "no access token (open the address `trial serve` "
                              "printed)")
        if request.method == "POST":
            origin = request.headers.get("origin")
            if origin is not None and (
                urlsplit(origin).netloc.lower() != host.lower() or not site.answers(host)
            ):
                return refuse(request, f"a form posted from another origin ({origin[:100]})")
        return await call_next(request)


def _day(d: Any, label: str) -> dict[str, Any]:
    return {"label": label, "date": d.date.isoformat(), "value": d.value, "excluded": d.excluded}


def today_context(site: Site, con: sqlite3.Connection, name: str) -> dict[str, Any]:
    """What the today page shows: the arm once revealed (`trials.today_arm` decides), the last
    two nights' values, and the nights that can be logged now."""
    p = trials.load(con, name).protocol
    now = site.clock()
    try:
        r = trials.today_arm(con, name, now, now_=now)
        today: dict[str, Any] = {**r, "reveal": None if r["arm"] else p.assign_at}
    except QuicktakesError as exc:  # outside the trial
        today = {"arm": None, "reveal": None, "message": str(exc)}
    data = trials.trial_data(con, name)
    nights = []
    for back, label in ((1, p.words["last"]), (0, p.words["this"])):
        i = p.day_of(now.date()) - back
        if 0 <= i < p.days:
            nights.append(_day(data.days[i], label))
    loggable = [
        n for n in nights
        if n["label"] == p.words["last"] or now >= trials.revealed_at(p, now.date())
    ]
    return {
        "title": name, "name": name, "today": today, "days": p.days, "recent": nights,
        "dates": loggable, "outcome": p.outcome, "minimum": f"{p.minimum:g}",
        "maximum": f"{p.maximum:g}", "writable": not site.read_only, "csrf": site.csrf(),
        "nonce": secrets.token_urlsafe(12), "form": {"date": loggable[0]["date"]
                                                      if loggable else None},
        "calendar": f"/t/{name}/calendar.ics?key={site.calendar_key(name)}",
        "words": p.words, "onset": p.exclusions.onset_before is not None,
    }


def make_app(site: Site) -> Starlette:
    """The app: a page per trial for today, its status and its analysis, two forms, and the
    calendar to subscribe to."""

    @contextmanager
    def store() -> Iterator[sqlite3.Connection]:
        con = connect(site.db, create=False)
        try:
            yield con
        finally:
            con.close()

    def render_today(name: str, status: int = 200, **extra: Any) -> Response:
        with store() as con:
            ctx = today_context(site, con, name)
        form = extra.pop("form", None)
        if form:
            ctx["form"] = {**ctx["form"], **form}
            ctx["nonce"] = form.get("nonce") or ctx["nonce"]
        return page("today.html.j2", status, **ctx, **extra)

    def index(request: Request) -> Response:
        with store() as con:
            rows = trials.list_trials(con)
        return page("index.html.j2", trials=rows, title="Trials")

    def today(request: Request) -> Response:
        name = request.path_params["name"]
        code, date = request.query_params.get("msg"), request.query_params.get("date")
        return render_today(name, message=after_form(name, code, date))

    def after_form(name: str, code: str | None, date: str | None) -> str | None:
        """The message a form's redirect asks for: a fixed sentence by its code, its blanks
        filled from the store (nothing from the URL but a code and a valid date)."""
        if code not in MESSAGES or date is None:
            return None
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            return None
        with store() as con:
            data = trials.trial_data(con, name)
        found = next((d for d in data.days if d.date == day), None)
        if found is None:
            return None
        if code == "logged" and found.value is None or code == "excluded" and not found.excluded:
            return None
        value = f"{found.value:g}" if found.value is not None else ""
        return MESSAGES[code].format(value=value, date=date, day=found.index + 1,
                                     reason=found.excluded or "")

    def status(request: Request) -> Response:
        return HTMLResponse(current(request.path_params["name"], "status"))

    def figure(request: Request) -> Response:
        name, kind = request.path_params["name"], request.path_params["kind"]
        if kind not in FIGURES:
            return page("message.html.j2", 404, title="Not found", error=f"No figure {kind}.")
        return Response(current(name, kind), media_type="image/svg+xml")

    def current(name: str, kind: str) -> str:
        """A status part (the page or one of its figures) for the trial as it is now: made
        again when the trial changed or the day did, else served as made."""
        with site.lock("status", name, kind), store() as con:
            key = (trials.version_key(con, name), site.clock().date())
            cached = site.pages.get((name, kind))
            if cached and cached[0] == key:
                return cached[1]
            if kind == "status":
                made = status_page(con, name)
            else:
                with site._render:
                    made = FIGURES[kind](trials.trial_data(con, name))
            site.pages[(name, kind)] = (key, made)
            return made

    def refresh_status(name: str) -> None:
        """After a form's change, in the background: the status page a person opens next
        is ready or being made (its figures are made when their images are asked for)."""
        try:
            current(name, "status")
        except Exception as exc:  # the page will say so when opened
            log.warning("could not refresh the status of %s: %s", name, exc)

    def status_page(con: sqlite3.Connection, name: str) -> str:
        """The numbers; the figures come as images of their own, so the page does not
        wait for matplotlib."""
        today = site.clock().date()
        s = trials.status(con, name, today=today)
        data = trials.trial_data(con, name)
        p = data.protocol
        left = max(0, p.days - max(0, p.day_of(today)))
        analysed = len(data.analysed())
        return render(
            "status.html.j2",
            title=f"{name}: status", name=name, s=s, left=left,
            timeline=analysed > 0, accrual=analysed >= 6,
        )

    def analysis(request: Request) -> Response:
        import numpy as np

        from quicktakes.nof1.analysis import analyze
        from quicktakes.nof1.plots import analysis_html

        name = request.path_params["name"]
        with store() as con:
            data = trials.trial_data(con, name)
            shown = trials.public_protocol(data.protocol, site.clock())
            versions = trials.versions(con, name)
        try:
            result = analyze(data, np.random.default_rng(0))
        except ValueError as exc:
            return page("message.html.j2", title=name, error=f"No analysis yet: {exc}")
        return HTMLResponse(analysis_html(data, result, versions, shown, home="/"))

    def calendar(request: Request) -> Response:
        from quicktakes.nof1.calendar import calendar_ics, time_zone

        name = request.path_params["name"]
        if not same(request.query_params.get("key", ""), site.calendar_key(name)):
            return refuse(request, "a wrong calendar key")
        with store() as con:
            p = trials.load(con, name).protocol
        url = str(request.url_for("today", name=name))
        body = calendar_ics(p, time_zone(site.tz), url=url)
        return Response(body, media_type="text/calendar; charset=utf-8")

    async def submit(request: Request, action: Callable[[dict[str, str]], str]) -> Response:
        """A form's common path: refusals, then the action once per nonce; a library error
        re-shows the page with the message and nothing written."""
        name = request.path_params["name"]
        if site.read_only:
            return refuse(request, "this server is read-only")
        try:
            raw = await request.form()
        except Exception:  # python-multipart's parse errors: a malformed body
            return refuse(request, "a malformed form")
        form = {k: v for k, v in raw.items() if isinstance(v, str)}
        why = site.csrf_refusal(form.get("csrf", ""))
        if why:
            return refuse(request, why)
        nonce = form.get("nonce", "")
        if not 8 <= len(nonce) <= 64:
            return refuse(request, "a form without its nonce")

        def run() -> tuple[int, str]:
            with site.once(nonce) as earlier:
                if earlier is not None:
                    return 303, earlier
                outcome = action(form)
                site.done(nonce, outcome)
                threading.Thread(target=refresh_status, args=(name,), daemon=True).start()
                return 303, outcome

        try:
            _, outcome = await run_in_threadpool(run)
        except UnknownNameError:
            raise
        except (QuicktakesError, sqlite3.Error) as exc:
            status, shown = refusal(exc)
            return await run_in_threadpool(render_today, name, status, form=form, **shown)
        return RedirectResponse(f"/t/{name}?{outcome}", status_code=303)

    async def log_form(request: Request) -> Response:
        name = request.path_params["name"]

        def action(form: dict[str, str]) -> str:
            with store() as con:
                replace = form.get("replace") == "1"
                date = form.get("date") or None
                trials.parse_value(form.get("value", ""), trials.load(con, name).protocol)
                if not replace and date:
                    data = trials.trial_data(con, name)
                    old = next((d for d in data.days if d.date.isoformat() == date), None)
                    if old is not None and old.value is not None:
                        raise NeedsConfirmation(
                            f"{date} already has {old.value:g}. Replace it with "
                            f"{form.get('value', '')}? The old value stays in the history.")
                now = site.clock()
                r = trials.log_value(
                    con, name, form.get("value", ""), date, form.get("note") or None, replace,
                    form.get("onset") or None, today=now.date(), source="web", at=now)
            return urlencode({"msg": "logged", "date": r["date"]})

        return await submit(request, action)

    async def exclude_form(request: Request) -> Response:
        name = request.path_params["name"]

        def action(form: dict[str, str]) -> str:
            with store() as con:
                date, reason = form.get("date", ""), form.get("reason", "")
                if form.get("action") == "unexclude":
                    r = trials.unexclude(con, name, date, reason)
                    return urlencode({"msg": "back", "date": r["date"]})
                r = trials.exclude(con, name, date, reason, today=site.clock().date())
                return urlencode({"msg": "excluded", "date": r["date"]})

        return await submit(request, action)

    async def unknown(request: Request, exc: Exception) -> Response:
        return page("message.html.j2", 404, title="Not found", error=str(exc))

    async def broken(request: Request, exc: Exception) -> Response:
        log.error("error on %s %s: %s", request.method, request.url.path, exc)
        return page("message.html.j2", 500, title="Error", error=f"Could not serve this: {exc}")

    return Starlette(
        routes=[
            Route("/", index),
            Route("/t/{name}", today, name="today"),
            Route("/t/{name}/status", status),
            Route("/t/{name}/{kind}.svg", figure),
            Route("/t/{name}/analysis", analysis),
            Route("/t/{name}/calendar.ics", calendar),
            Route("/t/{name}/log", log_form, methods=["POST"]),
            Route("/t/{name}/exclude", exclude_form, methods=["POST"]),
        ],
        middleware=[Middleware(Guard, site=site)],
        exception_handlers={UnknownNameError: unknown, StoreError: broken, Exception: broken},
    )


class NeedsConfirmation(QuicktakesError):
    """The day has a value: replacing it needs the form's explicit confirmation."""


def refusal(exc: Exception) -> tuple[int, dict[str, str]]:
    """How the today page shows a form the library refused: nothing was written."""
    if isinstance(exc, NeedsConfirmation):
        return 409, {"confirm": str(exc)}
    if isinstance(exc, sqlite3.Error):  # a locked or read-only database
        return 503, {"error": f"The database refused the change ({exc}); nothing was recorded."}
    return 400, {"error": str(exc)}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is served, so a port in use or an address
    of another machine is a one-line error at start-up."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be 0-65535, got {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        raise ConfigError(f"--host {host}: not an address or a known host name") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} is in use on {host}; pick another --port") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(f"--host {host} is not an address of this machine") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (what a phone on the network can reach),
    read from the interfaces without sending anything; the host name's addresses where the
    interfaces cannot be read."""
    found: list[str] = []
    try:
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                try:
                    raw = fcntl.ioctl(s.fileno(), 0x8915,  # SIOCGIFADDR
                                      struct.pack("256s", name.encode()[:15]))
                except OSError:
                    continue  # an interface without an IPv4 address
                found.append(socket.inet_ntoa(raw[20:24]))
    except (ImportError, OSError):
        pass
    if not found:
        try:
            found = [str(a[4][0]) for a in socket.getaddrinfo(socket.gethostname(), None,
                                                               socket.AF_INET)]
        except OSError:
            found = []
    out = []
    for a in found:
        if not ipaddress.ip_address(a).is_loopback and a not in out:
            out.append(a)
    return out


def answered_hosts(host: str, allow: list[str]) -> tuple[frozenset[str], list[str]]:
    """The Host names a server bound to `host` answers to, and the addresses to print: on
    loopback its loopback names; on a wildcard every LAN address; else the address itself;
    always the loopback names (the machine itself) and each `--allow-host`."""
    if is_loopback(host):
        shown = [host_name(host)]
    elif host in ("0.0.0.0", "::", ""):
        shown = lan_addresses()
    else:
        shown = [host_name(host)]
    names = set(LOOPBACK_NAMES) | {n.lower() for n in shown}
    for a in allow:
        a = a.strip().lower()
        if not a or "/" in a or " " in a:
            raise ConfigError(f"--allow-host {a!r}: give a host name or an address, no scheme")
        names.add(host_name(a))
    return frozenset(names), shown


def _warm() -> None:
    """Import what the status page needs (matplotlib, scipy: seconds) while the first pages
    are already served."""
    import quicktakes.nof1.analysis
    import quicktakes.nof1.plots  # noqa: F401


def redact_logs() -> None:
    """Every log line that may carry a URL goes through `RedactSecrets` (after uvicorn has
    configured its loggers, which keeps filters)."""
    for name in ("uvicorn.access", "uvicorn.error", "quicktakes.serve"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


def serve(site: Site, sock: socket.socket) -> None:
    """Serve until interrupted (uvicorn; its access log and ours go to stderr)."""
    import uvicorn

    config = uvicorn.Config(make_app(site), lifespan="off", log_level="info",
                            timeout_graceful_shutdown=5)
    redact_logs()
    threading.Thread(target=_warm, daemon=True).start()
    uvicorn.Server(config).run(sockets=[sock])
