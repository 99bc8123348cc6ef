"""Importers: wearable exports to one (night, latency) record per night, streamed.

Every importer yields `Night`s and `Skip`s in file order; nothing is held in memory beyond
one night, so a multi-gigabyte Apple Health export streams through lxml's iterparse.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lxml import etree

from quicktakes.errors import ConfigError, InputFileError

SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
IN_BED = "HKCategoryValueSleepAnalysisInBed"
ASLEEP = {
    "HKCategoryValueSleepAnalysisAsleepCore",
    "HKCategoryValueSleepAnalysisAsleepDeep",
    "HKCategoryValueSleepAnalysisAsleepREM",
    "HKCategoryValueSleepAnalysisAsleepUnspecified",
    "HKCategoryValueSleepAnalysisAsleep",
}
NAP_MAX_HOURS = 3.0
"""An in-bed period shorter than this, or starting between 09:00 and 18:00, is a nap."""


@dataclass(frozen=True)
class Night:
    date: dt.date
    """The evening the night starts on: the trial day whose arm came before it."""
    latency: float
    """Minutes from going to bed to falling asleep."""
    onset: str | None = None
    arm: str | None = None
    where: str = ""


@dataclass(frozen=True)
class Skip:
    where: str
    reason: str


def evening_of(t: dt.datetime) -> dt.date:
    """Sleep that starts after midnight belongs to the previous evening."""
    return t.date() if t.hour >= 12 else t.date() - dt.timedelta(days=1)


def is_nap(start: dt.datetime, end: dt.datetime | None) -> bool:
    if 9 <= start.hour < 18:
        return True
    return end is not None and (end - start).total_seconds() < NAP_MAX_HOURS * 3600


def read_csv(path: Path) -> Iterator[Night | Skip]:
    """Columns: date, outcome (or value), optional arm."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = {c.strip().lower() for c in reader.fieldnames or []}
        value_col = "outcome" if "outcome" in fields else "value"
        if "date" not in fields or value_col not in fields:
            raise InputFileError(
                f"{path.name}: needs columns date and outcome (got "
                f"{', '.join(sorted(fields)) or 'none'})"
            )
        for line, row in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            try:
                date = dt.date.fromisoformat(row["date"])
                value = float(row[value_col])
            except ValueError:
                raise InputFileError(
                    f"{path.name} line {line}: bad date or number: {row['date']!r}, "
                    f"{row[value_col]!r}"
                ) from None
            yield Night(date, value, None, row.get("arm") or None, f"line {line}")


def _hk_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")


@contextmanager
def _open_health(path: Path) -> Iterator[IO[bytes]]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith("export.xml")]
            if not names:
                raise InputFileError(f"{path.name}: no export.xml inside the zip")
            with zf.open(names[0]) as f:
                yield f
    else:
        with open(path, "rb") as f:
            yield f


def read_apple_health(path: Path, source: str | None = None) -> Iterator[Night | Skip]:
    """Latency = first asleep sample (Core/Deep/REM/Unspecified) minus the night's InBed start.

    Records stream in file order; a night is closed when a later InBed record arrives.
    """
    in_bed: list[tuple[dt.datetime, dt.datetime, str]] = []
    asleep: list[tuple[dt.datetime, str]] = []
    try:
        with _open_health(path) as f:
            for _, el in etree.iterparse(f, events=("end",), tag="Record", huge_tree=True):
                if el.get("type") == SLEEP and (
                    source is None or source in (el.get("sourceName") or "")
                ):
                    value = el.get("value")
                    start = _hk_time(el.get("startDate", ""))
                    end = _hk_time(el.get("endDate", ""))
                    where = f"record at {el.get('startDate')} from {el.get('sourceName')}"
                    if value == IN_BED:
                        in_bed.append((start, end, where))
                    elif value in ASLEEP:
                        asleep.append((start, where))
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise InputFileError(
            f"{path.name}: malformed XML at line {exc.lineno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise InputFileError(f"{path.name}: bad timestamp: {exc}") from None
    yield from _nights_from_samples(in_bed, asleep)


def _nights_from_samples(
    in_bed: list[tuple[dt.datetime, dt.datetime, str]], asleep: list[tuple[dt.datetime, str]]
) -> Iterator[Night | Skip]:
    asleep.sort()
    used: set[int] = set()
    for start, end, where in sorted(in_bed):
        if is_nap(start, end):
            yield Skip(where, "a nap (short or daytime in-bed period)")
            continue
        first = next(((i, t) for i, (t, _) in enumerate(asleep) if start <= t <= end), None)
        if first is None:
            yield Skip(where, "no asleep sample inside the in-bed period")
            continue
        used.add(first[0])
        onset = first[1]
        yield Night(
            evening_of(start), (onset - start).total_seconds() / 60, onset.isoformat(), None, where
        )
    covered = {evening_of(s) for s, _, _ in in_bed}
    for i, (t, where) in enumerate(asleep):
        if i not in used and evening_of(t) not in covered:
            covered.add(evening_of(t))
            yield Skip(where, "asleep samples without an InBed record")


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{path.name}: malformed JSON at line {exc.lineno}: {exc.msg}"
        ) from None


def _json_records(path: Path, key: str, what: str) -> list[Any]:
    """The list under `key` of an export (or the export itself, when it is that list)."""
    data = _load_json(path)
    records = data.get(key) if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise InputFileError(f"{path.name}: expected a '{key}' list of {what}")
    return records


def read_oura(path: Path) -> Iterator[Night | Skip]:
    """Oura API v2 /sleep: `latency` in seconds, `bedtime_start`, `type`."""
    for i, rec in enumerate(_json_records(path, "data", "sleep records")):
        where = f"record {i}"
        try:
            start = dt.datetime.fromisoformat(rec["bedtime_start"])
            kind = rec.get("type", "long_sleep")
            latency = rec["latency"]
        except (KeyError, TypeError, ValueError) as exc:
            raise InputFileError(f"{path.name} {where}: missing or bad field {exc}") from None
        if kind not in ("long_sleep", "sleep"):
            yield Skip(where, f"a nap (type {kind})")
            continue
        if latency is None:
            yield Skip(where, "no latency recorded")
            continue
        onset = start + dt.timedelta(seconds=float(latency))
        yield Night(evening_of(start), float(latency) / 60, onset.isoformat(), None, where)


def read_fitbit(path: Path) -> Iterator[Night | Skip]:
    """Fitbit sleep log JSON: `minutesToFallAsleep`, `dateOfSleep` (the wake-up date)."""
    for i, rec in enumerate(_json_records(path, "sleep", "records")):
        where = f"record {i}"
        try:
            latency = float(rec["minutesToFallAsleep"])
            if rec.get("startTime"):
                start = dt.datetime.fromisoformat(rec["startTime"])
                date = evening_of(start)
                onset = (start + dt.timedelta(minutes=latency)).isoformat()
            else:
                date = dt.date.fromisoformat(rec["dateOfSleep"]) - dt.timedelta(days=1)
                onset = None
        except (KeyError, TypeError, ValueError) as exc:
            raise InputFileError(f"{path.name} {where}: missing or bad field {exc}") from None
        if rec.get("isMainSleep") is False:
            yield Skip(where, "a nap (not the main sleep)")
            continue
        yield Night(date, latency, onset, None, where)


def read(path: Path, kind: str, source: str | None = None) -> Iterable[Night | Skip]:
    if not path.exists():
        raise InputFileError(f"no such file: {path}")
    readers = {"csv": read_csv, "oura": read_oura, "fitbit": read_fitbit}
    if kind == "apple-health":
        return read_apple_health(path, source)
    if kind not in readers:
        raise ConfigError(f"unknown import format {kind!r}; valid: csv, apple-health, oura, fitbit")
    return readers[kind](path)
