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


def test_apple_health_without_a_source_filter_merges_the_phones_in_bed(tmp_path):
    """The phone's InBed starts 30 minutes earlier: one night, from the earlier start (hence
    --source to read the watch alone)."""
    path = tmp_path / "export.xml"
    path.write_text(apple_health_xml([(START, 12)]))
    nights, _ = _split(importers.read(path, "apple-health"))
    assert [n.latency for n in nights] == [42.0]


def test_apple_health_zip_naps_and_missing_in_bed(tmp_path):
    day2 = START + dt.timedelta(days=2)
    extra = "\n".join(
        [
            hk(f"{START} 14:00:00", f"{START} 14:40:00", "InBed", "Apple Watch"),
            hk(f"{START} 14:10:00", f"{START} 14:40:00", "AsleepCore", "Apple Watch"),
            hk(f"{day2} 23:30:00", f"{day2 + dt.timedelta(days=1)} 06:30:00", "AsleepCore",
               "Apple Watch"),
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
        ("oura", json.dumps({"data": 5}), "'data' list"),
        ("fitbit", json.dumps({"sleep": [{"startTime": "2026-01-01T23:00:00",
                                          "minutesToFallAsleep": 0}]}), "did not measure"),
        ("csv", "date,outcome\n2026-01-05,12\n2026-13-01,4\n", "line 3"),
        ("csv", "day,minutes\n", "needs columns"),
    ],
)
def test_malformed_files_name_the_record(tmp_path, kind, text, fragment):
    path = tmp_path / "input"
    path.write_text(text)
    with pytest.raises(InputFileError, match=fragment):
        list(importers.read(path, kind))


# --- real export shapes (issue 12): each fixture reproduces one quirk of a real file --------

D1 = START + dt.timedelta(days=1)


def _xml(records: list[str], head: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + head + '<HealthData locale="en_US">\n'
        + "\n".join(records) + "\n</HealthData>\n"
    )


def test_watch_only_nights_use_the_protocols_lights_out(tmp_path):
    """A watch alone writes asleep stages and no InBed."""
    path = tmp_path / "export.xml"
    path.write_text(_xml([
        hk(f"{START} 23:18:00", f"{D1} 02:00:00", "AsleepCore", "Apple Watch"),
        hk(f"{D1} 02:00:00", f"{D1} 06:40:00", "AsleepREM", "Apple Watch"),
    ]))
    nights, skips = _split(importers.read(path, "apple-health", lights_out=dt.time(23, 0)))
    assert [(n.date, n.latency) for n in nights] == [(START, 18.0)]
    assert "lights-out 23:00" in nights[0].rule
    nights, skips = _split(importers.read(path, "apple-health"))
    assert nights == [] and "--lights-out" in skips[0].reason


def test_fragmented_in_bed_is_one_night_not_a_nap(tmp_path):
    """An iPhone writes a short InBed fragment, then the rest of the night."""
    path = tmp_path / "export.xml"
    path.write_text(_xml([
        hk(f"{START} 23:00:00", f"{START} 23:20:00", "InBed", "iPhone"),
        hk(f"{START} 23:35:00", f"{D1} 07:00:00", "InBed", "iPhone"),
        hk(f"{START} 23:50:00", f"{D1} 06:50:00", "AsleepUnspecified", "iPhone"),
    ]))
    nights, skips = _split(importers.read(path, "apple-health"))
    assert [(n.date, n.latency) for n in nights] == [(START, 50.0)] and skips == []


def test_sleep_before_in_bed_is_latency_zero_and_flagged(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(_xml([
        hk(f"{START} 23:00:00", f"{D1} 07:00:00", "InBed", "Apple Watch"),
        hk(f"{START} 22:50:00", f"{D1} 06:50:00", "AsleepCore", "Apple Watch"),
    ]))
    nights, _ = _split(importers.read(path, "apple-health"))
    assert [n.latency for n in nights] == [0.0]
    assert "before the in-bed start" in nights[0].rule


IOS16_DTD = """<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 12 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  brand            CDATA #IMPLIED
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
]>
"""


def test_the_ios16_broken_dtd_and_vertical_tabs_are_tolerated(tmp_path):
    """iOS 16 exports: an ATTLIST missing its '>' in the DTD, and \\x0b inside values."""
    body = apple_health_xml([(START, 7)]).split("\n", 1)[1]
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + IOS16_DTD + body
    text = text.replace('sourceName="Apple Watch"', 'sourceName="Apple\x0bWatch"', 1)
    path = tmp_path / "export.xml"
    path.write_bytes(text.encode())
    from lxml import etree

    with pytest.raises(etree.XMLSyntaxError):  # the shape really is broken
        etree.fromstring(text.encode())
    nights, _ = _split(importers.read(path, "apple-health"))
    assert [n.latency for n in nights] == [37.0]


def test_a_macos_zip_with_a_localized_name_is_found(tmp_path):
    zpath = tmp_path / "Exportación.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("__MACOSX/apple_health_export/._exportación.xml", b"\x00\x05\x16\x07junk")
        zf.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        zf.writestr("apple_health_export/exportación.xml", apple_health_xml([(START, 5)]))
    nights, _ = _split(importers.read(zpath, "apple-health", source="Watch"))
    assert [n.latency for n in nights] == [5.0]


def test_oura_main_sleep_naps_deleted_and_missing_latency(tmp_path):
    def rec(start, end, kind="long_sleep", latency=600):
        r = {"bedtime_start": start, "bedtime_end": end, "type": kind}
        if latency is not None:
            r["latency"] = latency
        return r

    path = tmp_path / "oura.json"
    path.write_text(json.dumps({"data": [
        rec("2026-01-05T22:00:00+01:00", "2026-01-05T23:00:00+01:00", latency=60),  # short
        rec("2026-01-05T23:30:00+01:00", "2026-01-06T07:30:00+01:00", latency=900),  # main
        rec("2026-01-06T15:00:00+01:00", "2026-01-06T15:40:00+01:00", kind="late_nap"),
        rec("2026-01-06T23:00:00+01:00", "2026-01-07T07:00:00+01:00", kind="deleted"),
        rec("2026-01-07T23:00:00+01:00", "2026-01-08T07:00:00+01:00", latency=None),
        rec("2026-01-08T23:00:00+01:00", "2026-01-09T07:00:00+01:00", latency=300),
    ]}))
    nights, skips = _split(importers.read(path, "oura"))
    assert [(n.date.day, n.latency) for n in nights] == [(5, 15.0), (8, 5.0)]
    reasons = " | ".join(s.reason for s in skips)
    for fragment in ("not the longest", "nap (type late_nap)", "deleted", "no latency"):
        assert fragment in reasons


def _fitbit_log(start, minutes, main=True, levels=None, key="mainSleep"):
    r = {"dateOfSleep": start[:10], "startTime": start, "minutesToFallAsleep": minutes, key: main}
    if levels:
        r["levels"] = {"data": [{"dateTime": t, "level": lvl, "seconds": 600}
                                for t, lvl in levels]}
    return r


def test_fitbit_export_main_sleep_and_latency_from_levels(tmp_path):
    """The account export says mainSleep (not isMainSleep) and leaves minutesToFallAsleep at 0
    in auto-detected nights; the levels show the real latency. Monthly files in a folder."""
    folder = tmp_path / "Sleep"
    folder.mkdir()
    (folder / "sleep-2026-01-05.json").write_text(json.dumps([
        _fitbit_log("2026-01-05T23:00:00.000", 0, levels=[
            ("2026-01-05T23:00:00.000", "wake"), ("2026-01-05T23:14:00.000", "light"),
        ]),
        _fitbit_log("2026-01-06T13:00:00.000", 5, main=False),
    ]))
    (folder / "sleep-2026-02-05.json").write_text(json.dumps([
        _fitbit_log("2026-02-01T22:40:00.000", 11, key="isMainSleep"),
    ]))
    nights, skips = _split(importers.read(folder, "fitbit"))
    assert [(n.date.isoformat(), n.latency) for n in nights] == [
        ("2026-01-05", 14.0), ("2026-02-01", 11.0)
    ]
    assert "levels" in nights[0].rule and "nap" in skips[0].reason


def test_fitbit_all_zero_without_levels_is_refused(tmp_path):
    path = tmp_path / "sleep.json"
    path.write_text(json.dumps([_fitbit_log(f"2026-01-0{d}T23:00:00.000", 0) for d in (5, 6)]))
    with pytest.raises(InputFileError, match="did not measure latency"):
        list(importers.read(path, "fitbit"))


def test_csv_from_excel_with_bom_semicolons_and_decimal_commas(tmp_path):
    path = tmp_path / "nights.csv"
    path.write_bytes("\ufeffdate;outcome;arm\n2026-01-05;12,5;book\n".encode())
    nights, _ = _split(importers.read(path, "csv"))
    assert [(n.date, n.latency, n.arm) for n in nights] == [(START, 12.5, "book")]


def test_a_folder_given_as_an_export_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputFileError, match="is a folder"):
        importers.read(tmp_path, "apple-health")
