from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

START = dt.date(2026, 1, 5)


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    """A fresh trial database, also set as QUICKTAKES_DB so commands find it."""
    path = tmp_path / "trials.db"
    monkeypatch.setenv("QUICKTAKES_DB", str(path))
    return path


@pytest.fixture
def trial(cli, db) -> str:
    r = cli(
        "trial",
        "new",
        "sleep",
        "--arm",
        "book",
        "--arm",
        "phone",
        "--arm",
        "laptop",
        "--outcome",
        "minutes to fall asleep",
        "--lower-is-better",
        "--assign-at",
        "21:30",
        "--days",
        "20",
        "--start",
        START.isoformat(),
        "--smallest-effect",
        "5",
        "--seed",
        "11",
        "--exclude-onset-before",
        "23:00",
        "--scheme",
        "simple",
    )
    assert r.exit_code == 0, r.output
    return "sleep"


def dump(path: Path) -> list[tuple]:
    """Every row of every table: compare before and after to show nothing changed."""
    con = sqlite3.connect(path)
    rows = []
    for (table,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ):
        rows += [(table, *r) for r in con.execute(f"SELECT * FROM {table}")]
    con.close()
    return rows


def hk(start: str, end: str, value: str, source: str) -> str:
    return (
        f'<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="{source}" '
        f'startDate="{start} +0100" endDate="{end} +0100" '
        f'value="HKCategoryValueSleepAnalysis{value}"/>'
    )


def apple_health_xml(nights: list[tuple[dt.date, int]], extra: str = "") -> str:
    """One InBed from the watch and one from the phone per night, then the watch's stages."""
    recs = []
    for date, latency in nights:
        bed = dt.datetime.combine(date, dt.time(23, 0))
        asleep = bed + dt.timedelta(minutes=latency)
        fmt = "%Y-%m-%d %H:%M:%S"
        end = bed + dt.timedelta(hours=8)
        recs.append(hk(bed.strftime(fmt), end.strftime(fmt), "InBed", "Apple Watch"))
        recs.append(
            hk((bed - dt.timedelta(minutes=30)).strftime(fmt), end.strftime(fmt), "InBed", "iPhone")
        )
        recs.append(
            hk(
                asleep.strftime(fmt),
                (asleep + dt.timedelta(hours=2)).strftime(fmt),
                "AsleepCore",
                "Apple Watch",
            )
        )
        recs.append(
            hk(
                (asleep + dt.timedelta(hours=2)).strftime(fmt),
                end.strftime(fmt),
                "AsleepREM",
                "Apple Watch",
            )
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n'
        + "\n".join(recs)
        + extra
        + "\n</HealthData>\n"
    )
