"""Importers: wearable exports to one (night, latency) record per night.

Every importer yields `Night`s and `Skip`s; a record it cannot use is a `Skip` with its reason,
never an aborted file (only a file that cannot be read at all is an error). Each night says
which rule gave its latency (`rule`), so `trial import --dry-run` can show it.

Rules, per provider:
- Apple Health (`export.xml`, or any zip holding it): the night's in-bed period is the union
  of its InBed fragments (phone and watch, gaps under an hour); latency = first asleep sample
  (Core/Deep/REM/Unspecified) minus the period's start, or 0 when sleep is recorded before
  the in-bed start (flagged). Watch-only nights (asleep samples, no InBed) take the protocol's
  lights-out time as the start, and say so; without one they are skipped. A period starting
  between 09:00 and 18:00 or shorter than 3 hours is a nap. The iOS 16 exports' broken DTD and
  stray vertical tabs are tolerated (the DTD is not needed); in a zip, macOS metadata
  (`__MACOSX/`, `._*`) and `export_cda.xml` are passed over and the export is found by its
  `<HealthData>` root, whatever its file name.
- Oura (API v2 `sleep` documents): per night the main sleep is the longest `long_sleep`;
  `sleep`, `late_nap` and `rest` are naps, `deleted` records are skipped as deleted; a record
  without `latency` or `bedtime_start` is skipped.
- Fitbit (account export `sleep-*.json`, a folder of them, or Web API v1.2): the main sleep is
  `mainSleep` (export) or `isMainSleep` (API); where `minutesToFallAsleep` is 0 and the log has
  stage or classic level data, latency is the time from the log's start to its first asleep
  segment; a file whose every latency is 0 with no level data is refused: the device did not
  measure latency.
- CSV: columns date and outcome (or value), optional arm and note (`--columns` names other
  headers); UTF-8 with or without a BOM, UTF-16 and cp1252 as Excel writes them, `,` `;` or tab
  separators and decimal commas are accepted; a row with a blank value is skipped and counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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
MERGE_GAP = dt.timedelta(hours=1)
"""InBed fragments less than this apart belong to one night."""
EARLY_SLEEP = dt.timedelta(hours=3)
"""Asleep samples up to this long before an in-bed start count toward that night."""
FORMATS = ("csv", "apple-health", "oura", "fitbit")


@dataclass(frozen=True)
class Night:
    date: dt.date
    """The evening the night starts on: the trial day whose arm came before it."""
    latency: float
    """Minutes from going to bed to falling asleep."""
    onset: str | None = None
    arm: str | None = None
    where: str = ""
    rule: str = ""
    """Which rule gave the latency."""
    note: str | None = None


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


def _minutes(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 60


# --- CSV ---------------------------------------------------------------------------------------


ENCODINGS = ("utf-8", "cp1252")
"""Tried in order after the byte-order marks: Excel writes UTF-8 (with or without a BOM), its
"Unicode text" as UTF-16 with a BOM, and on Windows the ANSI code page (cp1252 in the West)."""


def decode(data: bytes, name: str) -> str:
    """The text of a file, in the first encoding that reads it."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputFileError(f"{name}: starts like UTF-16 but is not valid UTF-16") from None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


CSV_FIELDS = ("date", "value", "arm", "note")


def parse_columns(text: str | None) -> dict[str, str]:
    """`--columns date=Day,value=Minutes`: which header holds each field (case-insensitive)."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for part in text.split(","):
        key, eq, header = part.partition("=")
        key, header = key.strip().lower(), header.strip().lower()
        if not eq or key not in CSV_FIELDS or not header:
            raise ConfigError(f"--columns: {part.strip()!r} is not FIELD=HEADER with FIELD one "
                              f"of {', '.join(CSV_FIELDS)}")
        out[key] = header
    return out


def read_csv(path: Path, columns: dict[str, str] | None = None) -> Iterator[Night | Skip]:
    """Columns: date, outcome (or value), optional arm and note; `columns` maps each field to
    another header. Any encoding Excel writes; `,` `;` or tab separated; decimal commas."""
    try:
        text = decode(path.read_bytes(), path.name)
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}") from None
    header = text.split("\n", 1)[0]
    delimiter = max(("\t", ";", ","), key=header.count)
    if not header.count(delimiter):
        delimiter = ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    fields = {c.strip().lower() for c in reader.fieldnames or []}
    names = {"date": "date", "value": "outcome" if "outcome" in fields else "value",
             "arm": "arm", "note": "note", **(columns or {})}
    if names["date"] not in fields or names["value"] not in fields:
        got = ", ".join(sorted(fields)) or "none"
        raise InputFileError(
            f"{path.name}: needs columns {names['date']} and {names['value']} (got {got}); "
            "name others with --columns date=HEADER,value=HEADER"
        )
    for line, row in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        where = f"line {line}"
        raw_date, raw = row.get(names["date"], ""), row.get(names["value"], "")
        if not raw_date and not raw:
            continue  # an empty row (a spreadsheet's trailing lines)
        if not raw:
            yield Skip(where, f"{raw_date}: blank value")
            continue
        if delimiter != ",":
            raw = raw.replace(",", ".")
        try:
            date = dt.date.fromisoformat(raw_date)
            value = float(raw)
        except ValueError:
            raise InputFileError(
                f"{path.name} line {line}: bad date or number: {raw_date!r}, {raw!r}"
            ) from None
        yield Night(date, value, None, row.get(names["arm"]) or None, where, "as given",
                    note=row.get(names["note"]) or None)


# --- Apple Health --------------------------------------------------------------------------------


def _hk_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")


class _Cleaned(io.RawIOBase):
    """The export without its internal DTD (iOS 16 wrote a broken one; nothing needs it) and
    without vertical tabs (not allowed in XML; iOS 16 wrote them into some values)."""

    def __init__(self, raw: IO[bytes]) -> None:
        head = raw.read(1 << 20)
        while b"<HealthData" not in head and len(head) < (8 << 20):
            more = raw.read(1 << 20)
            if not more:
                break
            head += more
        start = head.find(b"<!DOCTYPE")
        body = head.find(b"<HealthData")
        if 0 <= start < body:
            head = head[:start] + head[body:]
        self._buf = head.replace(b"\x0b", b" ")
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if not self._buf:
            self._buf = self._raw.read(len(b)).replace(b"\x0b", b" ")
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _export_member(zf: zipfile.ZipFile, name: str) -> str:
    """The Apple Health export in a zip, whatever its (localized) name: an XML file whose root
    is <HealthData>, macOS metadata and the clinical-document export passed over."""
    for member in zf.namelist():
        base = member.rsplit("/", 1)[-1]
        if (
            not member.lower().endswith(".xml")
            or member.startswith("__MACOSX/")
            or base.startswith("._")
            or base == "export_cda.xml"
        ):
            continue
        with zf.open(member) as f:
            if b"<HealthData" in f.read(64 << 10):
                return member
    raise InputFileError(f"{name}: no Apple Health export (an XML file with <HealthData>) inside")


@contextmanager
def _open_health(path: Path) -> Iterator[IO[bytes]]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf, zf.open(_export_member(zf, path.name)) as f:
            yield io.BufferedReader(_Cleaned(f))
    else:
        with open(path, "rb") as f:
            yield io.BufferedReader(_Cleaned(f))


Sample = tuple[dt.datetime, dt.datetime, str]


def read_apple_health(
    path: Path, source: str | None = None, lights_out: dt.time | None = None
) -> Iterator[Night | Skip]:
    """The sleep records, streamed through lxml's iterparse, then grouped into nights."""
    from lxml import etree

    in_bed: list[Sample] = []
    asleep: list[Sample] = []
    skips: list[Skip] = []
    try:
        with _open_health(path) as f:
            for _, el in etree.iterparse(f, events=("end",), tag="Record", huge_tree=True):
                if el.get("type") == SLEEP and (
                    source is None or source in (el.get("sourceName") or "")
                ):
                    value = el.get("value")
                    where = f"record at {el.get('startDate')} from {el.get('sourceName')}"
                    try:
                        start = _hk_time(el.get("startDate", ""))
                        end = _hk_time(el.get("endDate", ""))
                    except ValueError:
                        skips.append(Skip(f"line {el.sourceline}", "a sleep record without a "
                                          "usable startDate or endDate"))
                        continue
                    finally:
                        el.clear()
                    if value == IN_BED:
                        in_bed.append((start, end, where))
                    elif value in ASLEEP:
                        asleep.append((start, end, where))
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise InputFileError(
            f"{path.name}: malformed XML at line {exc.lineno}: {exc.msg}"
        ) from None
    yield from skips
    yield from nights_from_samples(in_bed, asleep, lights_out)


def merge_in_bed(in_bed: list[Sample]) -> list[Sample]:
    """One in-bed period per night: fragments (and the phone's and the watch's records) less
    than MERGE_GAP apart are joined."""
    merged: list[Sample] = []
    for start, end, where in sorted(in_bed):
        if merged and start - merged[-1][1] < MERGE_GAP:
            s, e, w = merged[-1]
            merged[-1] = (s, max(e, end), w)
        else:
            merged.append((start, end, where))
    return merged


def nights_from_samples(
    in_bed: list[Sample], asleep: list[Sample], lights_out: dt.time | None = None
) -> Iterator[Night | Skip]:
    asleep = sorted(asleep)
    used: set[int] = set()
    for start, end, where in merge_in_bed(in_bed):
        mine = [i for i, (t, _, _) in enumerate(asleep) if start - EARLY_SLEEP <= t <= end]
        used.update(mine)
        if is_nap(start, end):
            yield Skip(where, "a nap (short or daytime in-bed period)")
            continue
        if not mine:
            yield Skip(where, "no asleep sample inside the in-bed period")
            continue
        onset = asleep[mine[0]][0]
        if onset < start:
            yield Night(evening_of(start), 0.0, onset.isoformat(), None, where,
                        "asleep before the in-bed start: latency 0")
            continue
        yield Night(evening_of(start), _minutes(start, onset), onset.isoformat(), None, where,
                    "in-bed start to first asleep sample")
    yield from _watch_only([s for i, s in enumerate(asleep) if i not in used], lights_out)


def _watch_only(asleep: list[Sample], lights_out: dt.time | None) -> Iterator[Night | Skip]:
    """Nights with asleep samples and no InBed record (a watch alone records stages only)."""
    nights: dict[dt.date, list[Sample]] = {}
    for s in asleep:
        nights.setdefault(evening_of(s[0]), []).append(s)
    for evening, samples in sorted(nights.items()):
        first, last = samples[0][0], max(e for _, e, _ in samples)
        where = samples[0][2]
        if is_nap(first, last):
            yield Skip(where, "a nap (daytime or short sleep without an in-bed record)")
            continue
        if lights_out is None:
            yield Skip(
                where,
                "asleep samples without an InBed record (a watch alone); give the protocol "
                "a lights-out time (trial new --lights-out) to use such nights",
            )
            continue
        day = evening if lights_out.hour >= 12 else evening + dt.timedelta(days=1)
        lights = dt.datetime.combine(day, lights_out, tzinfo=first.tzinfo)
        latency = max(0.0, _minutes(lights, first))
        rule = f"watch only: lights-out {lights_out:%H:%M} to first asleep sample"
        if first < lights:
            rule = f"watch only: asleep before lights-out {lights_out:%H:%M}: latency 0"
        yield Night(evening, latency, first.isoformat(), None, where, rule)


# --- Oura ----------------------------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{path.name}: malformed JSON at line {exc.lineno}: {exc.msg}"
        ) from None
    except UnicodeDecodeError:
        raise InputFileError(f"{path.name}: not a UTF-8 text file") from None


def _json_records(path: Path, key: str, what: str) -> list[Any]:
    """The list under `key` of an export (or the export itself, when it is that list)."""
    data = _load_json(path)
    records = data.get(key) if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise InputFileError(f"{path.name}: expected a '{key}' list of {what}")
    return records


OURA_NAPS = ("sleep", "late_nap", "rest")


def read_oura(path: Path) -> Iterator[Night | Skip]:
    """Oura API v2 /sleep: `latency` in seconds, `bedtime_start`/`bedtime_end`, `type`."""
    nights: dict[dt.date, list[tuple[float, int, dict[str, Any]]]] = {}
    for i, rec in enumerate(_json_records(path, "data", "sleep records")):
        where = f"record {i}"
        if not isinstance(rec, dict):
            yield Skip(where, "not a sleep record")
            continue
        kind = rec.get("type", "long_sleep")
        if kind == "deleted":
            yield Skip(where, "deleted in the Oura app")
            continue
        if kind in OURA_NAPS:
            yield Skip(where, f"a nap (type {kind})")
            continue
        try:
            start = dt.datetime.fromisoformat(rec["bedtime_start"])
        except (KeyError, TypeError, ValueError):
            yield Skip(where, "no usable bedtime_start")
            continue
        if rec.get("latency") is None:
            yield Skip(where, "no latency recorded")
            continue
        nights.setdefault(evening_of(start), []).append((_oura_length(rec, start), i, rec))
    for night, candidates in sorted(nights.items()):
        length, i, rec = max(candidates, key=lambda c: c[0])
        for _, j, _ in candidates:
            if j != i:
                yield Skip(f"record {j}", f"not the longest long_sleep of the night of {night}")
        try:
            latency = float(rec["latency"]) / 60
        except (TypeError, ValueError):
            yield Skip(f"record {i}", f"latency is not a number: {rec['latency']!r}")
            continue
        onset = dt.datetime.fromisoformat(rec["bedtime_start"]) + dt.timedelta(minutes=latency)
        yield Night(night, latency, onset.isoformat(), None, f"record {i}",
                    "Oura latency of the night's longest long_sleep")


def _oura_length(rec: dict[str, Any], start: dt.datetime) -> float:
    """Seconds in bed: `time_in_bed`, else bedtime_end - bedtime_start, else total sleep."""
    if rec.get("time_in_bed"):
        return float(rec["time_in_bed"])
    try:
        return (dt.datetime.fromisoformat(rec["bedtime_end"]) - start).total_seconds()
    except (KeyError, TypeError, ValueError):
        return float(rec.get("total_sleep_duration") or 0)


# --- Fitbit --------------------------------------------------------------------------------------

FITBIT_ASLEEP = {"light", "deep", "rem", "asleep"}


def _levels_latency(rec: dict[str, Any], start: dt.datetime) -> float | None:
    """Minutes from the log's start to its first asleep segment (stages: light/deep/rem;
    classic: asleep), or None without level data."""
    data = (rec.get("levels") or {}).get("data") or []
    for seg in data:
        if isinstance(seg, dict) and seg.get("level") in FITBIT_ASLEEP:
            when = seg.get("dateTime", seg.get("datetime"))  # some tools write `datetime`
            try:
                return max(0.0, _minutes(start, dt.datetime.fromisoformat(str(when))))
            except ValueError:
                raise _BadRecord(f"a sleep segment without a usable dateTime ({when!r})") from None
    return None


class _BadRecord(Exception):
    """A record lacks a field the importer needs: skipped with this reason."""


def _fitbit_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("sleep-*.json"))
        if not files:
            raise InputFileError(f"{path}: no sleep-*.json files in this folder")
        return files
    return [path]


def read_fitbit(path: Path) -> Iterator[Night | Skip]:
    """Fitbit sleep logs: a file, or a folder of the account export's monthly files."""
    out: list[Night | Skip] = []
    zero_without_levels = measured = 0
    for file in _fitbit_files(path):
        for i, rec in enumerate(_json_records(file, "sleep", "records")):
            where = f"{file.name} record {i}" if path.is_dir() else f"record {i}"
            main = rec.get("mainSleep", rec.get("isMainSleep")) if isinstance(rec, dict) else None
            if main is False:
                out.append(Skip(where, "a nap (not the main sleep)"))
                continue
            try:
                latency = float(rec["minutesToFallAsleep"])
                start = dt.datetime.fromisoformat(rec["startTime"])
            except (KeyError, TypeError, ValueError) as exc:
                out.append(Skip(where, f"missing or bad field {exc}"))
                continue
            rule = "Fitbit minutesToFallAsleep"
            if latency == 0:
                try:
                    from_levels = _levels_latency(rec, start)
                except _BadRecord as exc:
                    out.append(Skip(where, str(exc)))
                    continue
                if from_levels is None:
                    zero_without_levels += 1
                else:
                    latency, rule = from_levels, "from the sleep levels (minutesToFallAsleep 0)"
            measured += 1
            onset = (start + dt.timedelta(minutes=latency)).isoformat()
            out.append(Night(evening_of(start), latency, onset, None, where, rule))
    if measured and zero_without_levels == measured:
        raise InputFileError(
            f"{path.name}: every night has minutesToFallAsleep 0 and no sleep levels: this "
            "device or setting did not measure latency, so there is nothing to import"
        )
    yield from out


def read(
    path: Path, kind: str, source: str | None = None, lights_out: dt.time | None = None,
    columns: dict[str, str] | None = None,
) -> Iterable[Night | Skip]:
    if kind not in FORMATS:
        raise ConfigError(f"unknown import format {kind!r}; valid: {', '.join(FORMATS)}")
    if not path.exists():
        raise InputFileError(f"no such file: {path}")
    if path.is_dir() and kind != "fitbit":
        raise InputFileError(f"{path} is a folder; give the export file")
    if kind == "apple-health":
        return read_apple_health(path, source, lights_out)
    if columns and kind != "csv":
        raise ConfigError("--columns applies to --from csv only")
    if kind == "csv":
        return read_csv(path, columns)
    readers = {"oura": read_oura, "fitbit": read_fitbit}
    return readers[kind](path)


