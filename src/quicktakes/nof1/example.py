"""The seed's devices-and-sleep experiment, rebuilt from its raw data.

The seed lists each arm's values in ascending order and says the days were not consecutive;
their real order is unknown. quicktakes interleaves the arms round-robin in the listed order
(book, phone, laptop, book, ...) on consecutive synthetic dates, and says so wherever the order
matters (the evidence-as-days-accrue trend).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import TYPE_CHECKING

from quicktakes.nof1.analysis import Day, TrialData
from quicktakes.nof1.protocol import ExclusionRules, Protocol

if TYPE_CHECKING:
    from quicktakes.nof1.trials import Committed

ARMS = ("physical book", "phone", "laptop")
RAW = {
    "physical book": [0.0, 0.0, 2.0, 5.0, 22.0],
    "phone": [2.0, 14.0, 21.0, 24.0, 32.0, 33.0],
    "laptop": [0.0, 6.0, 10.0, 27.0, 66.0],
}
STATED_MEANS = {"physical book": "5.4", "phone": "21", "laptop": "22"}
EXCLUDED_ARM = "physical book"
EXCLUDED_REASON = "watch reported falling asleep at 21:31 (the seed's measurement error)"
START = dt.date(2024, 1, 8)
SMALLEST_EFFECT = 5.0


def _order() -> list[tuple[str, float | None]]:
    """Round-robin over the arms in the listed order; the excluded book day comes last."""
    queues = {arm: list(v) for arm, v in RAW.items()}
    queues[EXCLUDED_ARM].append(None)  # type: ignore[arg-type]
    out: list[tuple[str, float | None]] = []
    while any(queues.values()):
        for arm in ARMS:
            if queues[arm]:
                out.append((arm, queues[arm].pop(0)))
    return out


def protocol(name: str = "sleep-devices") -> Protocol:
    order = _order()
    return Protocol(
        name=name,
        arms=ARMS,
        outcome="minutes to fall asleep",
        lower_is_better=True,
        assign_at="21:30",
        start=START,
        days=len(order),
        scheme="simple",
        smallest_effect=SMALLEST_EFFECT,
        treatment=("physical book",),
        exclusions=ExclusionRules(onset_before="23:00"),
        seed=0,
        given_schedule=tuple(ARMS.index(arm) for arm, _ in order),
    )


def observations() -> list[tuple[dt.date, float | None, str | None]]:
    """(date, value, onset) per day; the excluded day has only its impossible onset."""
    out = []
    for i, (_, value) in enumerate(_order()):
        date = START + dt.timedelta(days=i)
        onset = None if value is not None else f"{date.isoformat()}T21:31:00"
        out.append((date, value, onset))
    return out


def trial_data() -> TrialData:
    from quicktakes.nof1.analysis import apply_rules

    p = protocol()
    schedule = tuple(p.given_schedule or ())
    days = []
    for i, (date, value, onset) in enumerate(observations()):
        day = Day(i, date, ARMS[schedule[i]], value, onset)
        rule = apply_rules(p, day)
        days.append(Day(i, date, day.arm, value, onset, None, rule))
    return TrialData(p, schedule, tuple(days))


def create_trial(db: sqlite3.Connection, name: str = "sleep-devices") -> Committed:
    """The seed's trial as a user's own: its protocol committed, its nights imported as of
    its last day, and the day the seed threw out excluded with the seed's reason."""
    from quicktakes.nof1 import importers, trials

    rows = observations()
    last = rows[-1][0]
    committed = trials.create(db, protocol(name))
    nights = [importers.Night(d, v, o, None, f"day {d}") for d, v, o in rows if v is not None]
    trials.import_nights(db, name, nights, today=last, source="seed raw data")
    for d, v, _ in rows:
        if v is None:
            trials.exclude(db, name, d.isoformat(), EXCLUDED_REASON, today=last)
    return committed
