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
from quicktakes.nof1.store import default_path, opened, require_sound

app = commands()

trial_app = typer.Typer(help=about("trial"), no_args_is_help=True)
app.add_typer(trial_app, name="trial")

DB = typer.Option(
    None, "--db",
    help="trial database [default: $QUICKTAKES_DB, else trials.db in $QUICKTAKES_HOME/data or "
    "the user data directory]",
)


def _now(at: str | None) -> dt.datetime:
    now = dt.datetime.now()
    if at is None:
        return now
    try:
        when = dt.datetime.fromisoformat(at)
    except ValueError:
        raise ConfigError(
            f"--at must be an ISO datetime like 2026-11-26T21:45, got {at!r}"
        ) from None
    # a time zone given: the same instant in local time, which the trial's times are in
    when = when.astimezone().replace(tzinfo=None) if when.tzinfo else when
    if when > now + dt.timedelta(minutes=1):
        raise ConfigError("--at is in the future: an arm is revealed only at its assignment time")
    return when


KIND_RANGE = {"latency": (0.0, 1440.0), "continuous": (-1e6, 1e6), "count": (0.0, 1e6),
              "binary": (0.0, 1.0)}
"""Each kind's valid range when --min and --max are not given."""


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
    better: list[str] = typer.Option(
        None, "--better",
        help="the hypothesis: this arm (repeat for several) is expected better than the rest, "
        "in the outcome's direction; the one-sided test asks exactly this [default: the "
        "--contrast arms, else the first arm]",
    ),
    kind: str = typer.Option(
        "latency", help="latency (minutes, >= 0) | continuous (a scale, may be negative) | "
        "count | binary (0/1): decides the Bayesian model and which values are valid",
    ),
    period: str = typer.Option(
        None, help="what one trial day is called: night | day | session [default: night for "
        "a latency, else day]",
    ),
    minimum: float = typer.Option(
        None, "--min", help="smallest valid outcome [default: latency, count, binary 0; "
        "continuous -1e6]"),
    maximum: float = typer.Option(
        None, "--max", help="largest valid outcome [default: latency 1440 (24 h in minutes); "
        "count, continuous 1e6; binary 1]"),
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
    """Create a trial: freeze the protocol with its hypothesis, draw the schedule, print its
    SHA-256."""
    low, high = KIND_RANGE.get(kind, (0.0, 1440.0))
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
        minimum=low if minimum is None else minimum,
        maximum=high if maximum is None else maximum,
        kind=kind,
        period=period,
        better=tuple(better or treatment or arm[:1]),
        exclusions={"onset_before": exclude_onset_before, "value_above": exclude_above},
        seed=seed if seed is not None else secrets.randbelow(2**63),
        lights_out=lights_out,
    )
    p = trials.protocol(**fields)  # checked before the store is opened: a bad one writes nothing
    with opened(db, create=True) as con:
        c = trials.create(con, p)
    counts = {a: c.schedule.count(i) for i, a in enumerate(c.protocol.arms)}
    typer.echo(
        f"created {c.protocol.name}: {c.protocol.days} days from {c.protocol.start}, arms {counts}"
    )
    typer.echo(f"hypothesis: {c.protocol.hypothesis()}")
    typer.echo(f"commitment sha256 {c.sha256}  (publish it now: it proves the schedule later)")
    if not c.protocol.smallest_effect:
        typer.echo("note: power is not computed without --smallest-effect")


@trial_app.command("verify")
def verify_cmd(name: str, db: Path = DB) -> None:
    """Re-derive the schedule from the protocol and check the stored SHA-256."""
    with opened(db) as con:
        require_sound(con, db)
        results = trials.verify(con, name)
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
    with opened(db) as con:
        c = trials.amend(con, name, reason, days=days, smallest_effect=smallest_effect)
    typer.echo(f"{name}: version {c.version}, sha256 {c.sha256}")


@trial_app.command("today")
def today_cmd(
    name: str, at: str = typer.Option(None, help="pretend it is this ISO datetime"), db: Path = DB
) -> None:
    """Today's arm, from the assignment time on."""
    with opened(db) as con:
        r = trials.today_arm(con, name, _now(at))
    typer.echo(f"day {r['day']} ({r['date']}): {r['arm'] or r['message']}")


@trial_app.command("log", context_settings={"ignore_unknown_options": True})
def log_cmd(
    name: str,
    value: str = typer.Argument(..., help="the outcome (a negative one as it is: log mood -2)"),
    date: str = typer.Option(
        None, help="the trial day (default: the last one whose arm is revealed, so a morning's "
        "log is for the night before)"),
    at: str = typer.Option(None, help="as if it were this ISO datetime (not in the future)"),
    note: str = typer.Option(None),
    onset: str = typer.Option(None, help="sleep onset as an ISO datetime (for exclusion rules)"),
    replace: bool = typer.Option(
        False, "--replace", help="supersede the day's value (kept in history)"
    ),
    db: Path = DB,
) -> None:
    """Record a day's outcome."""
    when = _now(at)
    with opened(db) as con:
        r = trials.log_value(con, name, value, date, note, replace, onset, at=when)
    typer.echo(f"{name} {r['date']} (day {r['day']}, {r['arm']}): {r['value']:g}")


@trial_app.command("exclude")
def exclude_cmd(
    name: str, date: str = typer.Option(...), reason: str = typer.Option(...), db: Path = DB
) -> None:
    """Exclude a day, with a reason (the value stays in the database)."""
    with opened(db) as con:
        r = trials.exclude(con, name, date, reason)
    typer.echo(f"{name} {r['date']} excluded: {r['reason']}")


@trial_app.command("unexclude")
def unexclude_cmd(
    name: str,
    date: str = typer.Option(..., help="the excluded day (YYYY-MM-DD)"),
    reason: str = typer.Option(..., help="why the day comes back (recorded)"),
    db: Path = DB,
) -> None:
    """Take a manually excluded day back into the analysis (recorded in the history)."""
    with opened(db) as con:
        r = trials.unexclude(con, name, date, reason)
    typer.echo(f"{name} {r['date']} back in the analysis: {r['reason']}")


@trial_app.command("history")
def history_cmd(name: str, as_json: bool = JSON_OPTION, db: Path = DB) -> None:
    """Every change to a trial, oldest first: created, logged, replaced, (un)excluded,
    amended, imported."""
    with opened(db) as con:
        rows = trials.history(con, name)
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
    with opened(db) as con:
        s = trials.status(con, name)
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
        typer.echo(f"hypothesis: {est['hypothesis']}")
        typer.echo(est["in_words"])
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
    with opened(db) as con:
        data = trials.trial_data(con, name)
        versions = trials.versions(con, name)
    try:
        result = analyze(data, np.random.default_rng(seed))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if html_out:
        from quicktakes.nof1.plots import analysis_html  # matplotlib: only for the page

        page = analysis_html(data, result, versions,
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
    typer.echo(f"hypothesis: {result.hypothesis}")
    typer.echo(result.in_words)
    typer.echo(f"  test: {ct.method}")
    if result.omnibus:
        typer.echo(f"omnibus (any arm differs): p = {result.omnibus.p_value:.4f}, "
                   f"{result.omnibus.method}")
    for pw in result.pairwise:
        typer.echo(f"  {pw['in_words']}: two-sided p = {pw['p_value']:.4f}, "
                   f"Holm {pw['p_holm']:.4f}")
    typer.echo(f"advantage of {' and '.join(data.protocol.contrast[0])} "
               f"(positive = as hypothesised):")
    for e in result.effects:
        typer.echo(f"  {e.name}: {e.estimate:+.2f} [{e.lo:+.2f}, {e.hi:+.2f}]")
    post = result.posterior
    if post["p_effect_above_smallest"] is None:
        typer.echo(f"posterior ({post['model']}): not computed, {post['note']}")
    else:
        typer.echo(
            f"posterior ({post['model']}): P(advantage > {post['smallest_effect']:g} | data) = "
            f"{post['p_effect_above_smallest']:.3f}, 95% interval [{post['lo']:+.2f}, "
            f"{post['hi']:+.2f}]"
        )
    if html_out:
        typer.echo(f"html: {html_out.resolve()}")


@trial_app.command("export")
def export_cmd(
    name: str, fmt: str = typer.Option("csv", "--format", help="csv | json"), db: Path = DB
) -> None:
    """Every planned day with its arm, value, exclusion and note."""
    with opened(db) as con:
        text = trials.export(con, name, fmt)
    typer.echo(text, nl=False)


@trial_app.command("list")
def list_cmd(as_json: bool = JSON_OPTION, db: Path = DB) -> None:
    """All trials in the database."""
    with opened(db) as con:
        rows = trials.list_trials(con)
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
    columns: str = typer.Option(
        None, help="csv: the headers of other names, e.g. date=Day,value=Minutes,note=Comment"
    ),
    at: str = typer.Option(None, help="as if it were this ISO datetime (not in the future)"),
    as_json: bool = JSON_OPTION,
    db: Path = DB,
) -> None:
    """Import a wearable's export; reports what it took and what it skipped, and why."""
    from quicktakes.nof1 import importers

    when = _now(at)
    mapping = importers.parse_columns(columns)
    with opened(db) as con:
        protocol = trials.load(con, name).protocol
        lights = dt.time.fromisoformat(protocol.lights_out) if protocol.lights_out else None
        records = importers.read(file, kind, source, lights, mapping)
        r = trials.import_nights(con, name, records, replace=replace, source=f"import:{kind}",
                                 dry_run=dry_run, at=when)
    if as_json:
        emit_json(r)
        return
    verb = "would take" if dry_run else "took"
    unit = protocol.words["unit"]
    n = len(r["taken"])
    typer.echo(f"{verb} {n} {unit}{'' if n == 1 else 's'}, skipped {len(r['skipped'])}")
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
    with opened(db, create=True) as con:
        c = create_trial(con, name)
    typer.echo(f"created {name} from the seed's raw data; sha256 {c.sha256}")
    typer.echo(f"try: quicktakes trial analyze {name}")


@trial_app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", help="address to listen on (loopback by default)"),
    port: int = typer.Option(8765, help="port to listen on"),
    allow_host: list[str] = typer.Option(
        None, "--allow-host",
        help="another name the server answers to (repeat), e.g. a name your router gives "
        "this machine; any other Host header is refused",
    ),
    read_only: bool = typer.Option(False, "--read-only", help="pages only, no forms"),
    tz: str = typer.Option(None, help="IANA time zone for the calendar (default: floating)"),
    db: Path = DB,
) -> None:
    """A page per trial for the phone: today's arm from its time on, a form to log the night,
    the status with its plot, and a calendar to subscribe to for reminders."""
    import logging

    from quicktakes.nof1.calendar import time_zone
    from quicktakes.nof1.web import Site, access_token, answered_hosts, bind, is_loopback, serve

    path = db or default_path()
    with opened(path) as con:  # a missing, damaged or unreadable database: refused here
        require_sound(con, path)
    time_zone(tz)
    hosts, shown = answered_hosts(host, allow_host or [])
    token = access_token(path)
    local = is_loopback(host)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    urls = [f"http://{name}:{bound}/" for name in shown]
    if local:
        typer.echo(f"serving {path} at {urls[0]} (loopback only; --host to reach it from a "
                   "phone)")
    elif not urls:
        typer.echo(f"serving {path} on port {bound}, but this machine has no network address "
                   "a phone could reach; use --host with one of its addresses")
    else:
        urls = [u + f"?token={token}" for u in urls]
        typer.echo(f"serving {path} at " + ", ".join(urls))
        typer.echo("open that address on the phone (it holds the access token), or scan:")
        import qrcode

        qr = qrcode.QRCode(border=1)
        qr.add_data(urls[0])
        qr.print_ascii(invert=True)
    if read_only:
        typer.echo("read-only: pages are served, every form is refused")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    serve(Site(path, token, require_token=not local, read_only=read_only, tz=tz, hosts=hosts,
               port=bound), sock)


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
    with opened(db) as con:
        p = trials.load(con, name).protocol
    atomic_write(target, calendar_ics(p, zone, at, url))
    typer.echo(f"{name}: {2 * p.days} events in {target}")
