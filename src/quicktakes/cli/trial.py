"""`quicktakes trial ...`: the N-of-1 trial tracker."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from quicktakes.cli._app import about, commands
from quicktakes.cli.output import JSON_OPTION, emit_json
from quicktakes.errors import ConfigError
from quicktakes.nof1 import trials
from quicktakes.nof1.store import connect

app = commands()

trial_app = typer.Typer(help=about("trial"), no_args_is_help=True)
app.add_typer(trial_app, name="trial")

DB = typer.Option(
    None, "--db",
    help="trial database [default: $QUICKTAKES_DB, else trials.db in $QUICKTAKES_HOME/data or "
    "the user data directory]",
)


def _now(at: str | None) -> dt.datetime:
    if at is None:
        return dt.datetime.now()
    try:
        when = dt.datetime.fromisoformat(at)
    except ValueError:
        raise ConfigError(
            f"--at must be an ISO datetime like 2026-11-26T21:45, got {at!r}"
        ) from None
    # a time zone given: the same instant in local time, which the trial's times are in
    return when.astimezone().replace(tzinfo=None) if when.tzinfo else when


@trial_app.command("new")
def new_cmd(
    name: str,
    arm: list[str] = typer.Option(..., "--arm", help="an arm (repeat, at least two)"),
    outcome: str = typer.Option("outcome", help="what is measured, with its unit"),
    lower_is_better: bool = typer.Option(False, "--lower-is-better"),
    assign_at: str = typer.Option("00:00", help="HH:MM from which today's arm is revealed"),
    days: int = typer.Option(30, help="planned days"),
    start: str = typer.Option(None, help="first day (default today)"),
    scheme: str = typer.Option(
        "blocks", help="blocks (each arm once per block, shuffled; the default) | simple"
    ),
    block_size: int = typer.Option(None, help="block size (a multiple of the number of arms)"),
    max_run: int = typer.Option(None, help="at most this many days in a row on one arm"),
    smallest_effect: float = typer.Option(0.0, help="smallest effect of interest"),
    treatment: list[str] = typer.Option(
        None,
        "--contrast",
        help="arms of the primary contrast (repeat); default: the first arm vs the rest",
    ),
    minimum: float = typer.Option(0.0, "--min", help="smallest valid outcome"),
    maximum: float = typer.Option(1440.0, "--max", help="largest valid outcome (24 h in min)"),
    exclude_onset_before: str = typer.Option(
        None, help="pre-registered: exclude days whose sleep onset is before HH:MM"
    ),
    exclude_above: float = typer.Option(None, help="pre-registered: exclude values above"),
    seed: int = typer.Option(None, help="schedule seed (default: a fresh random one)"),
    lights_out: str = typer.Option(
        None,
        "--lights-out",
        help="HH:MM lights out: where a wearable records sleep but not bedtime, latency "
        "counts from here",
    ),
    db: Path = DB,
) -> None:
    """Create a trial: freeze the protocol, draw the schedule, print its SHA-256."""
    fields = dict(
        name=name,
        arms=tuple(arm),
        outcome=outcome,
        lower_is_better=lower_is_better,
        assign_at=assign_at,
        days=days,
        start=trials.parse_date(start, dt.date.today()),
        scheme=scheme,
        block_size=block_size,
        max_run=max_run,
        smallest_effect=smallest_effect,
        treatment=tuple(treatment or ()),
        minimum=minimum,
        maximum=maximum,
        exclusions={"onset_before": exclude_onset_before, "value_above": exclude_above},
        seed=seed if seed is not None else secrets.randbelow(2**63),
        lights_out=lights_out,
    )
    c = trials.create(connect(db), **fields)
    counts = {a: c.schedule.count(i) for i, a in enumerate(c.protocol.arms)}
    typer.echo(
        f"created {c.protocol.name}: {c.protocol.days} days from {c.protocol.start}, arms {counts}"
    )
    typer.echo(f"commitment sha256 {c.sha256}  (publish it now: it proves the schedule later)")
    if not c.protocol.smallest_effect:
        typer.echo("note: power is not computed without --smallest-effect")


@trial_app.command("verify")
def verify_cmd(name: str, db: Path = DB) -> None:
    """Re-derive the schedule from the protocol and check the stored SHA-256."""
    results = trials.verify(connect(db, create=False), name)
    for r in results:
        typer.echo(f"version {r['version']}: {'ok' if r['ok'] else 'MISMATCH'} {r['recomputed']}")
    if not all(r["ok"] for r in results):
        raise ConfigError(
            f"trial {name!r} does not match its commitment: protocol or schedule was edited"
        )


@trial_app.command("amend")
def amend_cmd(
    name: str,
    reason: str = typer.Option(..., help="why the protocol changes (recorded)"),
    days: int = typer.Option(None, help="new planned days"),
    smallest_effect: float = typer.Option(None),
    db: Path = DB,
) -> None:
    """Record a new protocol version; the arms already drawn cannot change."""
    c = trials.amend(
        connect(db, create=False), name, reason, days=days, smallest_effect=smallest_effect
    )
    typer.echo(f"{name}: version {c.version}, sha256 {c.sha256}")


@trial_app.command("today")
def today_cmd(
    name: str, at: str = typer.Option(None, help="pretend it is this ISO datetime"), db: Path = DB
) -> None:
    """Today's arm, from the assignment time on."""
    r = trials.today_arm(connect(db, create=False), name, _now(at))
    typer.echo(f"day {r['day']} ({r['date']}): {r['arm'] or r['message']}")


@trial_app.command("log")
def log_cmd(
    name: str,
    value: str = typer.Argument(..., help="the outcome for the day"),
    date: str = typer.Option(None, help="the trial day (default today)"),
    note: str = typer.Option(None),
    onset: str = typer.Option(None, help="sleep onset as an ISO datetime (for exclusion rules)"),
    replace: bool = typer.Option(
        False, "--replace", help="supersede the day's value (kept in history)"
    ),
    db: Path = DB,
) -> None:
    """Record a day's outcome."""
    r = trials.log_value(connect(db, create=False), name, value, date, note, replace, onset)
    typer.echo(f"{name} {r['date']} (day {r['day']}, {r['arm']}): {r['value']:g}")


@trial_app.command("exclude")
def exclude_cmd(
    name: str, date: str = typer.Option(...), reason: str = typer.Option(...), db: Path = DB
) -> None:
    """Exclude a day, with a reason (the value stays in the database)."""
    r = trials.exclude(connect(db, create=False), name, date, reason)
    typer.echo(f"{name} {r['date']} excluded: {r['reason']}")


@trial_app.command("unexclude")
def unexclude_cmd(
    name: str,
    date: str = typer.Option(..., help="the excluded day (YYYY-MM-DD)"),
    reason: str = typer.Option(..., help="why the day comes back (recorded)"),
    db: Path = DB,
) -> None:
    """Take a manually excluded day back into the analysis (recorded in the history)."""
    r = trials.unexclude(connect(db, create=False), name, date, reason)
    typer.echo(f"{name} {r['date']} back in the analysis: {r['reason']}")


@trial_app.command("history")
def history_cmd(name: str, as_json: bool = JSON_OPTION, db: Path = DB) -> None:
    """Every change to a trial, oldest first: created, logged, replaced, (un)excluded,
    amended, imported."""
    rows = trials.history(connect(db, create=False), name)
    if as_json:
        emit_json(rows)
        return
    t = Table("at", "action", "day", "detail")
    for r in rows:
        detail = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("at", "action", "day"))
        t.add_row(r["at"], r["action"], r["day"] or "", detail)
    Console().print(t)


@trial_app.command("status")
def status_cmd(name: str, as_json: bool = JSON_OPTION, db: Path = DB) -> None:
    """Progress, the current estimate, and how many more days 80% power needs."""
    s = trials.status(connect(db, create=False), name)
    if as_json:
        emit_json(s)
        return
    typer.echo(
        f"{s['trial']}: {s['days_done']}/{s['days_planned']} days analysed, "
        f"{s['excluded']} excluded, {len(s['missing_days'])} missing"
    )
    typer.echo("per arm: " + ", ".join(f"{a} {n}" for a, n in s["per_arm"].items()))
    if s["missing_days"]:
        typer.echo("missing: " + ", ".join(s["missing_days"][:10]))
    est = s.get("estimate")
    if est:
        typer.echo(
            f"{est['contrast']}: difference in means {est['difference_in_means']:.2f} "
            f"[{est['lo']:.2f}, {est['hi']:.2f}], one-sided p = {est['p_value']:.3f}"
        )
        power = s.get("power") or {}
        need = power.get("extra_days_interpolated")
        if not power:
            typer.echo("power: not computed (the protocol has no smallest effect of interest)")
        elif need is None:
            last = power["curve"][-1]["extra_days"]
            typer.echo(f"80% power at the smallest effect needs more than {last} more days")
        else:
            lo, hi = power["extra_days_interval"]
            band = "-".join("?" if d is None else f"{d:.0f}" for d in (lo, hi))
            typer.echo(
                f"80% power at the smallest effect ({power['smallest_effect']:g}) needs about "
                f"{need:.0f} more days (Monte Carlo interval {band})"
            )
        if s.get("imbalance"):
            typer.echo(f"warning: {s['imbalance']}")
    else:
        typer.echo(s.get("note", "no estimate yet"))


@trial_app.command("analyze")
def analyze_cmd(
    name: str,
    as_json: bool = JSON_OPTION,
    html_out: Path = typer.Option(None, "--html", help="write an HTML report"),
    seed: int = typer.Option(0, help="seed for bootstrap and simulation"),
    db: Path = DB,
) -> None:
    """The planned analysis: exact randomization tests, effects, posterior, power."""
    import numpy as np

    from quicktakes.nof1.analysis import analyze
    from quicktakes.paths import atomic_write, output_file

    if html_out:
        output_file(html_out, "--html")
    con = connect(db, create=False)
    data = trials.trial_data(con, name)
    try:
        result = analyze(data, np.random.default_rng(seed))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if html_out:
        from quicktakes.nof1.plots import analysis_html  # matplotlib: only for the page

        page = analysis_html(data, result, trials.versions(con, name),
                             trials.public_protocol(data.protocol, dt.datetime.now()))
        atomic_write(html_out, page)
    if as_json:
        emit_json(result.to_dict())
        return
    t = Table("arm", "n", "mean", "median", "sd", title=f"{name}: {data.protocol.outcome}")
    for a in result.arms:
        t.add_row(
            a.arm,
            str(a.n),
            *(f"{x:.2f}" if x is not None else "–" for x in (a.mean, a.median, a.sd)),
        )
    Console().print(t)
    ct = result.contrast_test
    typer.echo(f"{result.contrast} ({result.direction}): p = {ct.p_value:.4f}, {ct.method}")
    if result.omnibus:
        typer.echo(f"omnibus: p = {result.omnibus.p_value:.4f}, {result.omnibus.method}")
    for pw in result.pairwise:
        typer.echo(f"  {pw['arms']}: p = {pw['p_value']:.4f}, Holm {pw['p_holm']:.4f}")
    for e in result.effects:
        typer.echo(f"{e.name}: {e.estimate:.2f} [{e.lo:.2f}, {e.hi:.2f}]")
    post = result.posterior
    typer.echo(
        f"P(effect > {post['smallest_effect']:g} | data) = {post['p_effect_above_smallest']:.3f}"
    )
    if html_out:
        typer.echo(f"html: {html_out.resolve()}")


@trial_app.command("export")
def export_cmd(
    name: str, fmt: str = typer.Option("csv", "--format", help="csv | json"), db: Path = DB
) -> None:
    """Every planned day with its arm, value, exclusion and note."""
    typer.echo(trials.export(connect(db, create=False), name, fmt), nl=False)


@trial_app.command("list")
def list_cmd(as_json: bool = JSON_OPTION, db: Path = DB) -> None:
    """All trials in the database."""
    rows = trials.list_trials(connect(db))
    if as_json:
        emit_json(rows)
        return
    t = Table("trial", "arms", "days", "start")
    for r in rows:
        t.add_row(
            r["name"], ", ".join(r["arms"]), f"{r['days_done']}/{r['days_planned']}", r["start"]
        )
    Console().print(t)


@trial_app.command("import")
def import_cmd(
    name: str,
    file: Path,
    kind: str = typer.Option(..., "--from", help="csv | apple-health | oura | fitbit"),
    source: str = typer.Option(
        None,
        help="apple-health: only records whose source contains "
        "this (phone and watch both write InBed)",
    ),
    replace: bool = typer.Option(False, "--replace", help="overwrite nights already logged"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="show every night it would take and every skip; write nothing"
    ),
    as_json: bool = JSON_OPTION,
    db: Path = DB,
) -> None:
    """Import a wearable's export; reports what it took and what it skipped, and why."""
    from quicktakes.nof1 import importers

    con = connect(db, create=False)
    protocol = trials.load(con, name).protocol
    lights = dt.time.fromisoformat(protocol.lights_out) if protocol.lights_out else None
    records = importers.read(file, kind, source, lights)
    r = trials.import_nights(
        con, name, records, replace=replace, source=f"import:{kind}", dry_run=dry_run
    )
    if as_json:
        emit_json(r)
        return
    verb = "would take" if dry_run else "took"
    typer.echo(f"{verb} {len(r['taken'])} nights, skipped {len(r['skipped'])}")
    if dry_run:
        for t in r["taken"]:
            typer.echo(f"  {t['date']}  {t['arm']:>12}  {t['value']:g}  ({t['rule']})")
    for s in r["skipped"]:
        typer.echo(f"  skipped {s['where']}: {s['reason']}")


@trial_app.command("example")
def example_cmd(
    which: str = typer.Argument(..., help="sleep-devices"),
    name: str = typer.Option("sleep-devices", help="name for the new trial"),
    db: Path = DB,
) -> None:
    """Create the seed's devices-and-sleep trial from its raw data."""
    from quicktakes.nof1.example import create_trial

    if which != "sleep-devices":
        raise ConfigError(f"unknown example {which!r}; valid: sleep-devices")
    c = create_trial(connect(db), name)
    typer.echo(f"created {name} from the seed's raw data; sha256 {c.sha256}")
    typer.echo(f"try: quicktakes trial analyze {name}")


@trial_app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", help="address to listen on (loopback by default)"),
    port: int = typer.Option(8765, help="port to listen on"),
    read_only: bool = typer.Option(False, "--read-only", help="pages only, no forms"),
    tz: str = typer.Option(None, help="IANA time zone for the calendar (default: floating)"),
    db: Path = DB,
) -> None:
    """A page per trial for the phone: today's arm from its time on, a form to log the night,
    the status with its plot, and a calendar to subscribe to for reminders."""
    import logging
    import socket

    from quicktakes.nof1.calendar import time_zone
    from quicktakes.nof1.store import default_path
    from quicktakes.nof1.web import Site, access_token, bind, is_loopback, serve

    path = db or default_path()
    connect(path, create=False).close()  # a missing or unreadable database: refused here
    time_zone(tz)
    token = access_token(path)
    local = is_loopback(host)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    shown = host if host not in ("0.0.0.0", "::") else socket.gethostname()
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{bound}/"
    if local:
        typer.echo(f"serving {path} at {url} (loopback only; --host to reach it from a phone)")
    else:
        url += f"?token={token}"
        typer.echo(f"serving {path} at {url}")
        typer.echo("open that address on the phone (it holds the access token), or scan:")
        import qrcode

        qr = qrcode.QRCode(border=1)
        qr.add_data(url)
        qr.print_ascii(invert=True)
    if read_only:
        typer.echo("read-only: pages are served, every form is refused")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    serve(Site(path, token, require_token=not local, read_only=read_only, tz=tz), sock)


@trial_app.command("calendar")
def calendar_cmd(
    name: str,
    out: Path = typer.Option(None, help="the .ics file to write (default: NAME.ics here)"),
    tz: str = typer.Option(None, help="IANA time zone, e.g. Europe/Berlin (default: floating)"),
    morning: str = typer.Option("08:00", help="HH:MM of the reminder to log the night"),
    url: str = typer.Option(None, help="the today page's address, put into each event"),
    db: Path = DB,
) -> None:
    """Reminders as an iCalendar file: one event per planned day at the assignment time (the
    arm is not in it) and one the next morning to log the outcome."""
    from quicktakes.nof1.calendar import calendar_ics, morning_time, time_zone
    from quicktakes.paths import atomic_write, output_file

    zone, at = time_zone(tz), morning_time(morning)
    target = output_file(out or Path(f"{name}.ics"), "--out")
    p = trials.load(connect(db, create=False), name).protocol
    atomic_write(target, calendar_ics(p, zone, at, url))
    typer.echo(f"{name}: {2 * p.days} events in {target}")
