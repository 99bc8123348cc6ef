import math

import pytest

from quicktakes.ledger import Evidence, Point, Trend, Verdict


def test_point_rejects_interval_not_containing_y():
    with pytest.raises(ValueError, match="does not contain"):
        Point(1, 0.5, 0.6, 0.7, 10)


def test_point_rejects_non_finite():
    with pytest.raises(ValueError, match="finite"):
        Point(1, math.nan, 0, 1, 10)


def test_exact_point_has_no_sample_size():
    p = Point.exact(3, 0.25)
    assert (p.lo, p.hi, p.n) == (0.25, 0.25, None)


def test_trend_serialises_points_in_order():
    t = Trend.of("t", "x", "y", [Point.exact(1, 0.1), Point(2, 0.2, 0.1, 0.3, 5)])
    d = t.to_dict()
    assert [p["x"] for p in d["points"]] == [1, 2]
    assert d["points"][1] == {"x": 2, "y": 0.2, "lo": 0.1, "hi": 0.3, "n": 5}


def test_evidence_requires_a_trend_unless_error():
    with pytest.raises(ValueError, match="lone number"):
        Evidence(Verdict.HOLDS, "f", "m", ())
    Evidence(Verdict.ERROR, "boom", "error", ())
