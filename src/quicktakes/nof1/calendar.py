"""Reminders without a push service: the trial's planned days as an iCalendar file, which any
calendar app imports or subscribes to. Two events a day: at the assignment time, to open the
today page (the arm is never in the file: it stays sealed until its time), and the next
morning, to log the night's outcome."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from quicktakes.errors import ConfigError
from quicktakes.nof1.protocol import Protocol

REMINDER = dt.timedelta(minutes=15)


def time_zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    """An IANA zone (events keep their wall-clock time across a daylight-saving change), or
    None: floating times, read in whatever zone the phone is in."""
    if name is None:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {name!r}; give an IANA name like Europe/Berlin"
        ) from None


def morning_time(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--morning must be HH:MM, got {text!r}") from None


def calendar_ics(
    p: Protocol,
    tz: zoneinfo.ZoneInfo | None = None,
    morning: dt.time = dt.time(8, 0),
    url: str | None = None,
    stamp: dt.datetime | None = None,
) -> bytes:
    """One event per planned day at the assignment time and one the next morning at
    `morning`; `url` (the today page) goes into each event."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//quicktakes//trial calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{p.name} (N-of-1 trial)")
    stamp = stamp or dt.datetime.now(dt.UTC).replace(microsecond=0)
    assign = dt.time.fromisoformat(p.assign_at)
    where = f": {url}" if url else ""
    for i in range(p.days):
        date = p.date_of(i)
        for kind, day, at, summary, text in (
            ("assign", date, assign, f"{p.name}: choose your arm",
             f"Day {i + 1} of {p.days}: open the today page for {p.words['this']}'s arm"
             f"{where}"),
            ("log", date + dt.timedelta(days=1), morning, f"{p.name}: log {p.words['last']}",
             f"Log day {i + 1}'s {p.outcome} ({date.isoformat()}){where}"),
        ):
            start = dt.datetime.combine(day, at, tzinfo=tz)
            event = icalendar.Event()
            event.add("uid", f"{p.name}-{date.isoformat()}-{kind}@quicktakes")
            event.add("dtstamp", stamp)
            event.add("dtstart", start)
            event.add("dtend", start + REMINDER)
            event.add("summary", summary)
            event.add("description", text)
            if url:
                event.add("url", url)
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", summary)
            alarm.add("trigger", dt.timedelta(0))
            event.add_component(alarm)
            cal.add_component(event)
    if tz is not None:
        cal.add_missing_timezones()
    out: bytes = cal.to_ical()
    return out
