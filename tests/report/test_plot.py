"""The trend plots: what a reader must be able to see."""

from quicktakes.ledger import Point, Trend
from quicktakes.report.plot import trends_svg

X, Y = "iteration", "coins"


def _line(name, ys):
    return Trend.of(name, X, Y, [Point(i, y, y - 0.05, y + 0.05, 30) for i, y in enumerate(ys)])


def test_a_reference_measured_once_is_drawn_across_the_panel():
    """The base model, evaluated once, must not be a dot under another series' first point."""
    alone = trends_svg([_line("learner", [0.2, 0.3, 0.4])])
    with_ref = trends_svg([_line("learner", [0.2, 0.3, 0.4]), _line("base model", [0.2])])
    assert "stroke-dasharray" not in alone
    assert "stroke-dasharray" in with_ref


def test_a_single_point_alone_stays_a_point():
    assert "stroke-dasharray" not in trends_svg([_line("once", [0.5])])
