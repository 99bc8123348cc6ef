"""Trial operations over the store: each public function is one command, one transaction."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quicktakes.config import validated
from quicktakes.errors import ConfigError, UnknownNameError
from quicktakes.nof1.protocol import Protocol, commitment, draw_schedule
from quicktakes.nof1.store import transaction
from quicktakes.sqlite import now

if TYPE_CHECKING:
    import numpy as np

    from quicktakes.nof1.analysis import TrialData


@dataclass(frozen=True)
class Committed:
    trial_id: int
    protocol: Protocol
    schedule: list[int]
    sha256: str
    version: int


OPTIONS = {"name": "the trial name", "arms": "--arm", "days": "--days", "start": "--start",
           "assign_at": "--assign-at", "scheme": "--scheme", "block_size": "--block-size",
           "max_run": "--max-run", "smallest_effect": "--smallest-effect",
           "treatment": "--contrast", "better": "--better", "kind": "--kind",
           "period": "--period", "minimum": "--min", "maximum": "--max", "alpha": "--alpha",
           "seed": "--seed", "lights_out": "--lights-out", "outcome": "--outcome",
           "exclusions": "--exclude-onset-before"}
"""Each protocol field by the option a person types (`config.validated` names them so)."""


def protocol(**fields: Any) -> Protocol:
    """A protocol from `trial new`'s fields, or a ConfigError in its options' words."""
    return validated(Protocol, OPTIONS, **fields)


def create(db: sqlite3.Connection, p: Protocol) -> Committed:
    """Freeze a protocol, draw its schedule from its seed, and store the commitment."""
    schedule = draw_schedule(p)
    sha = commitment(p, schedule)
    with transaction(db):
        if db.execute("SELECT 1 FROM trials WHERE name = ?", (p.name,)).fetchone():
            raise ConfigError(f"a trial named {p.name!r} already exists")
        cur = db.execute("INSERT INTO trials (name, created_at) VALUES (?, ?)", (p.name, now()))
        trial_id = int(cur.lastrowid or 0)
        db.execute(
            "INSERT INTO protocol_versions VALUES (?, 1, ?, ?, ?, 'created', ?)",
            (trial_id, json.dumps(p.canonical()), json.dumps(schedule), sha, now()),
        )
        _record(db, trial_id, "create", None, sha256=sha, days=p.days)
    return Committed(trial_id, p, schedule, sha, 1)


def load(db: sqlite3.Connection, name: str, version: int | None = None) -> Committed:
    row = db.execute("SELECT id FROM trials WHERE name = ?", (name,)).fetchone()
    if row is None:
        names = [r[0] for r in db.execute("SELECT name FROM trials ORDER BY name")]
        known = f"; trials: {', '.join(names)}" if names else "; no trials yet"
        raise UnknownNameError(f"unknown trial {name!r}{known}")
    q = "SELECT * FROM protocol_versions WHERE trial_id = ?"
    args: tuple[Any, ...] = (row["id"],)
    if version is not None:
        q += " AND version = ?"
        args += (version,)
    v = db.execute(q + " ORDER BY version DESC LIMIT 1", args).fetchone()
    if v is None:
        raise UnknownNameError(f"trial {name!r} has no version {version}")
    p = Protocol.model_validate_json(v["protocol"])
    return Committed(row["id"], p, json.loads(v["schedule"]), v["sha256"], v["version"])


def amend(db: sqlite3.Connection, name: str, reason: str, **changes: Any) -> Committed:
    """A new recorded protocol version; the schedule's past days cannot change."""
    current = load(db, name)
    fields = {**current.protocol.canonical(), **{k: v for k, v in changes.items() if v is not None}}
    p = validated(Protocol, **fields)
    if p == current.protocol:
        raise ConfigError("the amendment changes nothing; no new version recorded")
    last = db.execute(
        "SELECT MAX(day) AS d FROM observations WHERE trial_id = ? AND superseded_by IS NULL",
        (current.trial_id,),
    ).fetchone()["d"]
    if last is not None and p.day_of(dt.date.fromisoformat(last)) >= p.days:
        raise ConfigError(
            f"--days {p.days} would end the trial before its last logged day ({last}): "
            "those days would silently leave the analysis"
        )
    schedule = draw_schedule(p)
    n = min(len(schedule), len(current.schedule))
    if p.seed != current.protocol.seed or schedule[:n] != current.schedule[:n]:
        raise ConfigError("an amendment may not change the arms already drawn")
    sha = commitment(p, schedule)
    with transaction(db):
        db.execute(
            "INSERT INTO protocol_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                current.trial_id,
                current.version + 1,
                json.dumps(p.canonical()),
                json.dumps(schedule),
                sha,
                reason,
                now(),
            ),
        )
        before = current.protocol.canonical()
        changed = {k: v for k, v in p.canonical().items() if before.get(k) != v}
        _record(db, current.trial_id, "amend", None, version=current.version + 1,
                reason=reason, changes=changed, sha256=sha)
    return Committed(current.trial_id, p, schedule, sha, current.version + 1)


def versions(db: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    """Each protocol version: number, when, why, and its commitment hash."""
    t = load(db, name)
    return [
        {"version": v["version"], "created_at": v["created_at"], "reason": v["reason"],
         "sha256": v["sha256"]}
        for v in db.execute(
            "SELECT * FROM protocol_versions WHERE trial_id = ? ORDER BY version", (t.trial_id,)
        )
    ]


def verify(db: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    """Re-derive every version's schedule from its protocol and recompute its SHA-256."""
    trial = load(db, name)
    out = []
    for v in db.execute(
        "SELECT * FROM protocol_versions WHERE trial_id = ? ORDER BY version", (trial.trial_id,)
    ):
        p = Protocol.model_validate_json(v["protocol"])
        stored_schedule = json.loads(v["schedule"])
        derived = draw_schedule(p)
        sha = commitment(p, derived)
        out.append(
            {
                "version": v["version"],
                "stored": v["sha256"],
                "recomputed": sha,
                "schedule_matches": derived == stored_schedule,
                "ok": sha == v["sha256"] and derived == stored_schedule,
            }
        )
    return out


def _record(
    db: sqlite3.Connection, trial_id: int, action: str, day: dt.date | None, **detail: Any
) -> None:
    """One append-only history row; called inside the change's own transaction."""
    db.execute(
        "INSERT INTO history (trial_id, at, action, day, detail) VALUES (?, ?, ?, ?, ?)",
        (trial_id, now(), action, day.isoformat() if day else None,
         json.dumps(detail, default=str)),
    )


def version_key(db: sqlite3.Connection, name: str) -> tuple[int, int]:
    """Changes whenever the trial does: its protocol version and its last history row (every
    log, replacement, exclusion and amendment adds one)."""
    t = load(db, name)
    row = db.execute("SELECT MAX(id) FROM history WHERE trial_id = ?", (t.trial_id,)).fetchone()
    return t.version, int(row[0] or 0)


def history(db: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    """Every change to the trial, oldest first."""
    t = load(db, name)
    return [
        {"at": r["at"], "action": r["action"], "day": r["day"], **json.loads(r["detail"])}
        for r in db.execute(
            "SELECT * FROM history WHERE trial_id = ? ORDER BY id", (t.trial_id,)
        )
    ]


def revealed_at(p: Protocol, date: dt.date) -> dt.datetime:
    """When the arm of `date` may be seen: its assignment time that day."""
    return dt.datetime.combine(date, dt.time.fromisoformat(p.assign_at))


def last_revealed(p: Protocol, at: dt.datetime) -> dt.date:
    """The latest period whose arm is revealed at `at`: today from its assignment time on,
    else yesterday (a morning's log is for the night before)."""
    return at.date() if at >= revealed_at(p, at.date()) else at.date() - dt.timedelta(days=1)


def parse_date(text: str | None, default: dt.date) -> dt.date:
    """A date the user typed (YYYY-MM-DD), `default` when none was, else a one-line error."""
    if text is None:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _day_index(p: Protocol, date: dt.date, today: dt.date) -> int:
    if date > today:
        raise ConfigError(f"{date} is in the future")
    i = p.day_of(date)
    if not 0 <= i < p.days:
        raise ConfigError(f"{date} is outside the trial ({p.start} to {p.date_of(p.days - 1)})")
    return i


def today_arm(
    db: sqlite3.Connection, name: str, at: dt.datetime, now_: dt.datetime | None = None
) -> dict[str, Any]:
    """Today's arm, revealed only from the assignment time on; the schedule never re-rolls,
    and no arm is shown before its time (a future `at` is refused)."""
    t = load(db, name)
    p = t.protocol
    if at > (now_ or dt.datetime.now()) + dt.timedelta(minutes=1):
        raise ConfigError("--at is in the future: an arm is revealed only at its assignment time")
    i = p.day_of(at.date())
    if not 0 <= i < p.days:
        raise ConfigError(
            f"{at.date()} is outside the trial ({p.start} to {p.date_of(p.days - 1)})"
        )
    reveal = dt.datetime.combine(at.date(), dt.time.fromisoformat(p.assign_at))
    if at < reveal:
        return {
            "day": i + 1,
            "date": at.date().isoformat(),
            "arm": None,
            "message": f"today's arm is revealed at {p.assign_at}",
        }
    return {"day": i + 1, "date": at.date().isoformat(), "arm": p.arms[t.schedule[i]]}


def parse_value(text: str, p: Protocol) -> float:
    """A value as typed: a decimal comma is read as a point ("12,5" is 12.5), since phone
    keyboards in many locales offer only the comma."""
    typed = text.strip()
    if typed.count(",") == 1 and "." not in typed:
        typed = typed.replace(",", ".")
    try:
        value = float(typed)
    except ValueError:
        raise ConfigError(f"{p.outcome} must be a number, got {text!r}") from None
    problem = p.value_problem(value)
    if problem:
        raise ConfigError(f"{p.outcome} {problem}, got {text.strip()}")
    return value


def log_value(
    db: sqlite3.Connection,
    name: str,
    value: str,
    date: str | None = None,
    note: str | None = None,
    replace: bool = False,
    onset: str | None = None,
    today: dt.date | None = None,
    source: str = "manual",
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record a night's value; not before the night's arm was assigned (it cannot have
    happened yet)."""
    t = load(db, name)
    p = t.protocol
    when = at or dt.datetime.now()
    today = today or when.date()
    day = parse_date(date, last_revealed(p, when))
    i = _day_index(p, day, today)
    if day == when.date() and when < revealed_at(p, day):
        raise ConfigError(
            f"{day}'s arm is assigned at {p.assign_at}: its {p.words['unit']} cannot be logged "
            "before that"
        )
    v = parse_value(value, p)
    if onset is not None:
        try:
            dt.datetime.fromisoformat(onset)
        except ValueError:
            raise ConfigError(f"onset must be an ISO datetime, got {onset!r}") from None
    with transaction(db):
        _insert_observation(db, t.trial_id, day, v, onset, note, source, replace)
    return {"date": day.isoformat(), "day": i + 1, "arm": p.arms[t.schedule[i]], "value": v}


def _insert_observation(
    db: sqlite3.Connection,
    trial_id: int,
    day: dt.date,
    value: float | None,
    onset: str | None,
    note: str | None,
    source: str,
    replace: bool,
) -> None:
    old = db.execute(
        "SELECT * FROM observations WHERE trial_id = ? AND day = ? AND superseded_by IS NULL",
        (trial_id, day.isoformat()),
    ).fetchone()
    if old and not replace:
        raise ConfigError(f"{day} already has a value; use --replace to supersede it")
    if old:  # a replacement keeps what it does not restate (an onset drives exclusion rules)
        onset = onset if onset is not None else old["onset"]
        note = note if note is not None else old["note"]
    _record(db, trial_id, "replace" if old else "log", day, value=value, source=source,
            **({"previous": old["value"]} if old else {}))
    cur = db.execute(
        "INSERT INTO observations (trial_id, day, value, onset, note, source, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (trial_id, day.isoformat(), value, onset, note, source, now()),
    )
    if old:
        db.execute(
            "UPDATE observations SET superseded_by = ? WHERE id = ?", (cur.lastrowid, old["id"])
        )


def exclude(
    db: sqlite3.Connection, name: str, date: str, reason: str, today: dt.date | None = None
) -> dict[str, Any]:
    t = load(db, name)
    day = parse_date(date, dt.date.today())
    _day_index(t.protocol, day, today or dt.date.today())
    if not reason.strip():
        raise ConfigError("an exclusion needs a reason")
    current = _exclusions(db, t.trial_id).get(day.isoformat())
    if current is not None:
        raise ConfigError(f"{day} is already excluded ({current}); unexclude it first")
    with transaction(db):
        db.execute(
            "INSERT INTO exclusions (trial_id, day, reason, created_at) VALUES (?,?,?,?)",
            (t.trial_id, day.isoformat(), reason, now()),
        )
        _record(db, t.trial_id, "exclude", day, reason=reason)
    return {"date": day.isoformat(), "reason": reason}


def unexclude(db: sqlite3.Connection, name: str, date: str, reason: str) -> dict[str, Any]:
    """Take a day back into the analysis: a new row that revokes the exclusion, with a reason
    (a pre-registered rule cannot be revoked: it is part of the protocol)."""
    t = load(db, name)
    day = parse_date(date, dt.date.today())
    if not reason.strip():
        raise ConfigError("taking a day back needs a reason")
    if day.isoformat() not in _exclusions(db, t.trial_id):
        raise ConfigError(f"{day} has no manual exclusion to revoke")
    with transaction(db):
        db.execute(
            "INSERT INTO exclusions (trial_id, day, reason, created_at, revoked) "
            "VALUES (?,?,?,?,1)",
            (t.trial_id, day.isoformat(), reason, now()),
        )
        _record(db, t.trial_id, "unexclude", day, reason=reason)
    return {"date": day.isoformat(), "reason": reason}


def _exclusions(db: sqlite3.Connection, trial_id: int) -> dict[str, str]:
    """The manual exclusions in force: each day's rows in order, a revoking row undoing."""
    out: dict[str, str] = {}
    for r in db.execute(
        "SELECT day, reason, revoked FROM exclusions WHERE trial_id = ? ORDER BY id", (trial_id,)
    ):
        if r["revoked"]:
            out.pop(r["day"], None)
        else:
            out[r["day"]] = r["reason"]
    return out


def trial_data(db: sqlite3.Connection, name: str) -> TrialData:
    from quicktakes.nof1.analysis import Day, TrialData, apply_rules

    t = load(db, name)
    p = t.protocol
    obs = {
        r["day"]: r
        for r in db.execute(
            "SELECT * FROM observations WHERE trial_id = ? AND superseded_by IS NULL", (t.trial_id,)
        )
    }
    excl = _exclusions(db, t.trial_id)
    days = []
    for i, arm in enumerate(t.schedule):
        date = p.date_of(i)
        o = obs.get(date.isoformat())
        day = Day(
            i,
            date,
            p.arms[arm],
            o["value"] if o else None,
            o["onset"] if o else None,
            o["note"] if o else None,
            excl.get(date.isoformat()),
        )
        if day.excluded is None:
            rule = apply_rules(p, day)
            if rule:
                day = Day(day.index, day.date, day.arm, day.value, day.onset, day.note, rule)
        days.append(day)
    return TrialData(p, tuple(t.schedule), tuple(days))


def status(
    db: sqlite3.Connection,
    name: str,
    today: dt.date | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, Any]:
    import numpy as np

    from quicktakes.nof1.analysis import analyze

    data = trial_data(db, name)
    p = data.protocol
    today = today or dt.date.today()
    past = [d for d in data.days if d.date < today]  # today's value comes tomorrow
    missing = [d.date.isoformat() for d in past if d.value is None and d.excluded is None]
    analysed = data.analysed()
    out: dict[str, Any] = {
        "trial": p.name,
        "days_done": len(analysed),
        "days_planned": p.days,
        "per_arm": {arm: sum(1 for d in analysed if d.arm == arm) for arm in p.arms},
        "excluded": sum(1 for d in data.days if d.excluded),
        "missing_days": missing,
    }
    counts = out["per_arm"].values()
    block = p.block_size or len(p.arms)
    if max(counts) - min(counts) > block:
        out["imbalance"] = (
            f"arms differ by {max(counts) - min(counts)} analysed days, more than a block "
            f"({block}): missing or excluded days fall unevenly"
        )
    try:
        result = analyze(data, rng or np.random.default_rng(0), robust=False)
    except ValueError as exc:
        out["estimate"] = None
        out["note"] = str(exc)
        return out
    mean = result.effects[0]
    out["estimate"] = {
        "contrast": result.contrast,
        "difference_in_means": mean.estimate,
        "lo": mean.lo,
        "hi": mean.hi,
        "p_value": result.contrast_test.p_value,
        "in_words": result.in_words,
        "hypothesis": result.hypothesis,
    }
    out["power"] = result.power
    return out


def export(
    db: sqlite3.Connection, name: str, fmt: str, at: dt.datetime | None = None
) -> str:
    """Every planned day with its value, exclusion and note; arms only once revealed, and the
    schedule's seed only after the last day (either would unseal the future)."""
    data = trial_data(db, name)
    when = at or dt.datetime.now()
    p = data.protocol
    rows = [
        {
            "date": d.date.isoformat(),
            "day": d.index + 1,
            "arm": d.arm if when >= revealed_at(p, d.date) else "sealed",
            "value": d.value,
            "onset": d.onset,
            "excluded": d.excluded,
            "note": d.note,
        }
        for d in data.days
    ]
    protocol = public_protocol(p, when)
    if fmt == "json":
        return json.dumps({"protocol": protocol, "days": rows}, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue()
    raise ConfigError(f"unknown export format {fmt!r}; valid: csv, json")


def public_protocol(p: Protocol, at: dt.datetime) -> dict[str, object]:
    """The protocol as it may be shown at `at`: the schedule's seed (and a given schedule)
    sealed until the day after the last day's assignment, since either unseals every arm."""
    shown = p.canonical()
    if at < revealed_at(p, p.date_of(p.days - 1)) + dt.timedelta(days=1):
        shown["seed"] = "sealed until the trial ends"
        if shown.get("given_schedule") is not None:
            shown["given_schedule"] = "sealed until the trial ends"
    return shown


def list_trials(db: sqlite3.Connection) -> list[dict[str, Any]]:
    out = []
    for r in db.execute("SELECT name FROM trials ORDER BY name"):
        data = trial_data(db, r["name"])
        out.append(
            {
                "name": r["name"],
                "arms": list(data.protocol.arms),
                "days_done": len(data.analysed()),
                "days_planned": data.protocol.days,
                "start": data.protocol.start.isoformat(),
            }
        )
    return out


def import_nights(
    db: sqlite3.Connection,
    name: str,
    records: Any,
    replace: bool = False,
    today: dt.date | None = None,
    source: str = "import",
    dry_run: bool = False,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Insert every importable night in one transaction: a failure (or a kill) part-way
    leaves the database exactly as it was. The whole file is parsed first, so the write
    transaction is short and a concurrent `log` waits for it instead of failing; `dry_run`
    checks everything and writes nothing."""
    from quicktakes.nof1.importers import Night, Skip

    t = load(db, name)
    p = t.protocol
    when = at or (dt.datetime.combine(today, dt.time.max) if today else dt.datetime.now())
    today = today or when.date()
    parsed = list(records)
    taken: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    seen: set[dt.date] = set()
    with transaction(db):
        for rec in parsed:
            if isinstance(rec, Skip):
                skipped.append({"where": rec.where, "reason": rec.reason})
                continue
            assert isinstance(rec, Night)
            i = p.day_of(rec.date)
            if not 0 <= i < p.days:
                skipped.append({"where": rec.where, "reason": f"{rec.date} outside the trial "
                                f"({p.start} to {p.date_of(p.days - 1)})"})
                continue
            if rec.date > today:
                skipped.append({"where": rec.where,
                                "reason": f"{rec.date} later in the trial (in the future)"})
                continue
            if when < revealed_at(p, rec.date):  # its arm is still sealed: no value, no arm
                skipped.append({"where": rec.where, "reason": f"{rec.date} not yet: its arm "
                                f"is revealed at {p.assign_at}"})
                continue
            if rec.date in seen:
                skipped.append(
                    {"where": rec.where, "reason": f"duplicate night {rec.date} in this file"}
                )
                continue
            if rec.arm is not None and rec.arm != p.arms[t.schedule[i]]:
                skipped.append(
                    {
                        "where": rec.where,
                        "reason": f"arm {rec.arm!r} differs from the "
                        f"schedule's {p.arms[t.schedule[i]]!r} on {rec.date}",
                    }
                )
                continue
            problem = p.value_problem(rec.latency)
            if problem:
                skipped.append({"where": rec.where,
                                "reason": f"value {rec.latency:g}: {p.outcome} {problem}"})
                continue
            exists = db.execute(
                "SELECT 1 FROM observations WHERE trial_id = ? AND day = ? AND "
                "superseded_by IS NULL",
                (t.trial_id, rec.date.isoformat()),
            ).fetchone()
            if exists and not replace:
                skipped.append(
                    {
                        "where": rec.where,
                        "reason": f"{rec.date} already has a value (use --replace)",
                    }
                )
                continue
            seen.add(rec.date)
            if not dry_run:
                _insert_observation(
                    db, t.trial_id, rec.date, rec.latency, rec.onset, rec.note, source, replace
                )
            taken.append({"date": rec.date.isoformat(), "value": rec.latency,
                          "arm": p.arms[t.schedule[i]], "rule": rec.rule, "where": rec.where})
        if not dry_run:
            _record(db, t.trial_id, "import", None, source=source, taken=len(taken),
                    skipped=len(skipped))
    return {"taken": taken, "skipped": skipped}
