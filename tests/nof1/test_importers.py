import datetime as dt
import json
import zipfile

import pytest

from quicktakes.errors import InputFileError
from quicktakes.nof1 import importers
from quicktakes.nof1.importers import Night, Skip

from .conftest import START, apple_health_xml, hk


def _split(records):
    recs = list(records)
    return [r for r in recs if isinstance(r, Night)], [r for r in recs if isinstance(r, Skip)]


def test_apple_health_latency_from_the_watch(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(apple_health_xml([(START, 12), (START + dt.timedelta(days=1), 40)]))
    nights, skips = _split(importers.read(path, "apple-health", source="Watch"))
    assert [(n.date, n.latency) for n in nights] == [(START, 12.0), (START.replace(day=6), 40.0)]
    assert nights[0].onset.startswith(f"{START.isoformat()}T23:12")


def test_apple_health_without_a_source_filter_sees_the_phones_in_bed(tmp_path):
    """The phone's InBed starts 30 minutes earlier, inflating latency: hence --source."""
    path = tmp_path / "export.xml"
    path.write_text(apple_health_xml([(START, 12)]))
    nights, _ = _split(importers.read(path, "apple-health"))
    assert sorted(n.latency for n in nights) == [12.0, 42.0]


def test_apple_health_zip_naps_and_missing_in_bed(tmp_path):
    day2 = START + dt.timedelta(days=2)
    extra = "\n".join(
        [
            hk(f"{START} 14:00:00", f"{START} 14:40:00", "InBed", "Apple Watch"),
            hk(f"{START} 14:10:00", f"{START} 14:40:00", "AsleepCore", "Apple Watch"),
            hk(f"{day2} 23:30:00", f"{day2} 23:59:00", "AsleepCore", "Apple Watch"),
        ]
    )
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("apple_health_export/export.xml", apple_health_xml([(START, 5)], extra))
    nights, skips = _split(importers.read(zpath, "apple-health", source="Watch"))
    assert [n.latency for n in nights] == [5.0]
    reasons = sorted(s.reason for s in skips)
    assert any("nap" in r for r in reasons)
    assert any("without an InBed" in r for r in reasons)


def test_malformed_xml_names_the_line(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(apple_health_xml([(START, 5)]).replace("</HealthData>", "<oops>"))
    with pytest.raises(InputFileError, match="line"):
        list(importers.read(path, "apple-health"))


def test_oura_and_fitbit(tmp_path):
    oura = tmp_path / "oura.json"
    oura.write_text(
        json.dumps(
            {
                "data": [
                    {
                        "day": "2026-01-06",
                        "bedtime_start": "2026-01-05T23:04:00+01:00",
                        "latency": 720,
                        "type": "long_sleep",
                    },
                    {
                        "day": "2026-01-06",
                        "bedtime_start": "2026-01-06T14:00:00+01:00",
                        "latency": 300,
                        "type": "late_nap",
                    },
                ]
            }
        )
    )
    nights, skips = _split(importers.read(oura, "oura"))
    assert [(n.date, n.latency) for n in nights] == [(START, 12.0)]
    assert "nap" in skips[0].reason

    fitbit = tmp_path / "fitbit.json"
    fitbit.write_text(
        json.dumps(
            {
                "sleep": [
                    {
                        "dateOfSleep": "2026-01-07",
                        "startTime": "2026-01-06T23:10:00.000",
                        "minutesToFallAsleep": 9,
                        "isMainSleep": True,
                    },
                    {
                        "dateOfSleep": "2026-01-07",
                        "startTime": "2026-01-07T13:00:00.000",
                        "minutesToFallAsleep": 3,
                        "isMainSleep": False,
                    },
                ]
            }
        )
    )
    nights, skips = _split(importers.read(fitbit, "fitbit"))
    assert [(n.date, n.latency) for n in nights] == [(START + dt.timedelta(days=1), 9.0)]
    assert "nap" in skips[0].reason


@pytest.mark.parametrize(
    "kind, text, fragment",
    [
        ("oura", "{not json", "line 1"),
        ("oura", json.dumps({"data": [{"latency": 5}]}), "record 0"),
        ("fitbit", json.dumps({"sleep": [{"dateOfSleep": "2026-01-01"}]}), "record 0"),
        ("csv", "date,outcome\n2026-01-05,12\n2026-13-01,4\n", "line 3"),
        ("csv", "day,minutes\n", "needs columns"),
    ],
)
def test_malformed_files_name_the_record(tmp_path, kind, text, fragment):
    path = tmp_path / "input"
    path.write_text(text)
    with pytest.raises(InputFileError, match=fragment):
        list(importers.read(path, kind))
