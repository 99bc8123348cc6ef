"""A trial's protocol and its pre-committed schedule.

The schedule is drawn once, from the protocol's seed, when the trial is created; the SHA-256 of
protocol + schedule is stored and printed, so anyone can later re-derive both and check that
neither was edited after the fact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator


class ExclusionRules(BaseModel):
    """Pre-registered automatic exclusions, applied at analysis time (data are never deleted)."""

    onset_before: str | None = Field(
        None, description="exclude a day whose recorded sleep onset is before this HH:MM"
    )
    value_above: float | None = Field(None, description="exclude values above this")


Kind = Literal["latency", "continuous", "count", "binary"]
"""What sort of number the outcome is, which decides its Bayesian model (`analysis.MODELS`):
a latency (minutes, >= 0, exact zeros, right-skewed), a continuous or bounded scale (a
1-10 rating, a mood that can go negative), a count (non-negative integers), binary (0/1)."""

Period = Literal["night", "day", "session"]

PERIOD_WORDS: dict[str, dict[str, str]] = {
    "night": {"unit": "night", "this": "tonight", "last": "last night"},
    "day": {"unit": "day", "this": "today", "last": "yesterday"},
    "session": {"unit": "session", "this": "today's session", "last": "yesterday's session"},
}
"""How pages and messages name one period of the trial."""


class Protocol(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    arms: tuple[str, ...] = Field(min_length=2, max_length=20)
    outcome: str = "outcome"
    lower_is_better: bool = False
    minimum: float = 0.0
    maximum: float = 1440.0
    assign_at: str = "00:00"
    start: dt.date
    days: int = Field(ge=1, le=3650)
    scheme: Literal["simple", "blocks"] = "simple"
    block_size: int | None = Field(None, ge=2)
    max_run: int | None = Field(None, ge=1)
    smallest_effect: float = Field(0.0, ge=0.0)
    treatment: tuple[str, ...] = ()
    """The primary contrast: these arms (pooled) vs the rest; empty = first arm vs the rest."""
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    exclusions: ExclusionRules = Field(default_factory=ExclusionRules)
    seed: int = Field(ge=0)
    given_schedule: tuple[int, ...] | None = None
    """A schedule drawn outside quicktakes (e.g. a past experiment): committed as given."""
    lights_out: str | None = None
    """HH:MM in bed with the lights out (the seed's design: 23:00): the start of a night for
    wearables that record sleep but not going to bed (a watch alone)."""
    kind: Kind | None = None
    """The outcome's kind; None (a trial made before kinds existed) reads as latency."""
    period: Period | None = None
    """What one trial day is called; None reads as 'night' for a latency, else 'day'."""
    better: tuple[str, ...] | None = None
    """The hypothesis, stated at creation: these arms are expected better (in the outcome's
    direction) than the rest; None (an older trial) reads as the contrast's first group."""

    @field_validator("arms", mode="before")
    @classmethod
    def _two_arms(cls, v: Any) -> Any:
        if isinstance(v, list | tuple) and len(v) < 2:
            raise ValueError("a trial needs at least two arms (repeat --arm)")
        return v

    @field_validator("assign_at", "lights_out")
    @classmethod
    def _hhmm(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                dt.time.fromisoformat(v)
            except ValueError:
                raise ValueError(f"give a time as HH:MM, got {v!r}") from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        if len(set(self.arms)) != len(self.arms):
            raise ValueError("arm names must be distinct")
        if self.minimum >= self.maximum:
            raise ValueError("minimum must be below maximum")
        unknown = set(self.treatment) - set(self.arms)
        if unknown:
            raise ValueError(f"contrast names unknown arms: {sorted(unknown)}")
        if self.scheme == "blocks":
            size = self.block_size or len(self.arms)
            if size % len(self.arms):
                raise ValueError(f"block size {size} is not a multiple of {len(self.arms)} arms")
        if self.given_schedule is not None:
            if len(self.given_schedule) != self.days:
                raise ValueError("given schedule must have one arm per planned day")
            if any(not 0 <= a < len(self.arms) for a in self.given_schedule):
                raise ValueError("given schedule names an arm index out of range")
        if self.exclusions.onset_before is not None:
            dt.time.fromisoformat(self.exclusions.onset_before)
        if any(not a.strip() for a in self.arms):
            raise ValueError("arm names must not be empty")
        if self.better is not None:
            unknown = set(self.better) - set(self.arms)
            if unknown:
                raise ValueError(f"the hypothesis names unknown arms: {sorted(unknown)}")
            if not self.better or set(self.better) == set(self.arms):
                raise ValueError("the hypothesis must name some arms, not all, as better")
            if self.treatment and set(self.treatment) != set(self.better):
                raise ValueError("the contrast and the hypothesis name different arms")
        kind = self.kind  # an older trial (None) is read as `outcome_kind` says, never refused
        if kind in ("latency", "count") and self.minimum < 0:
            raise ValueError(f"a {kind} cannot be negative: --min must be 0 or more")
        if kind == "binary" and (self.minimum, self.maximum) != (0, 1):
            raise ValueError("a binary outcome is 0 or 1: --min 0 --max 1")
        return self

    @property
    def outcome_kind(self) -> str:
        """The kind; a trial made before kinds existed is a latency (the tracker's first use),
        unless its range allows negative values, which no latency has."""
        return self.kind or ("continuous" if self.minimum < 0 else "latency")

    @property
    def words(self) -> dict[str, str]:
        """How this trial names its periods (`PERIOD_WORDS`)."""
        period = self.period or ("night" if self.outcome_kind == "latency" else "day")
        return PERIOD_WORDS[period]

    @property
    def contrast(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(group A, group B) of the primary contrast: group A is hypothesised better."""
        a = self.better or self.treatment or self.arms[:1]
        return tuple(a), tuple(x for x in self.arms if x not in a)

    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)

    def day_of(self, date: dt.date) -> int:
        return (date - self.start).days

    def canonical(self) -> dict[str, object]:
        """What the commitment hashes. Fields added after a trial was created are left out
        while unset, so every earlier commitment still verifies."""
        data = self.model_dump(mode="json")
        for added in ("lights_out", "kind", "period", "better"):
            if data.get(added) is None:
                data.pop(added, None)
        return data

    def value_problem(self, value: float) -> str | None:
        """Why a value cannot be this trial's outcome, or None."""
        import math

        if not math.isfinite(value) or not self.minimum <= value <= self.maximum:
            return f"must be between {self.minimum:g} and {self.maximum:g}"
        if self.outcome_kind in ("count", "binary") and value != int(value):
            return f"a {self.outcome_kind} outcome must be a whole number"
        return None

    def hypothesis(self) -> str:
        """The pre-stated hypothesis in words."""
        a, b = self.contrast
        way = "lower" if self.lower_is_better else "higher"
        return (f"{' and '.join(a)} better than {' and '.join(b)}, where {way} {self.outcome} "
                f"is better (a one-sided test of exactly this)")


def draw_schedule(p: Protocol, days: int | None = None, seed: int | None = None) -> list[int]:
    """Arm index per day. Sequential draws, so a longer schedule extends a shorter one."""
    import numpy as np  # here: `trial today` and `log` never draw a schedule

    n = p.days if days is None else days
    rng = np.random.default_rng(p.seed if seed is None else seed)
    if p.given_schedule is not None and seed is None:
        given = list(p.given_schedule)
        return given[:n] + [int(a) for a in rng.integers(len(p.arms), size=max(0, n - len(given)))]
    k = len(p.arms)
    if p.scheme == "blocks":
        size = p.block_size or k
        out: list[int] = []
        while len(out) < n:
            out += [int(a) for a in rng.permutation(np.repeat(np.arange(k), size // k))]
        return out[:n]
    out = []
    for _ in range(n):
        allowed = list(range(k))
        if p.max_run and len(out) >= p.max_run and len(set(out[-p.max_run :])) == 1:
            allowed.remove(out[-1])
        out.append(int(allowed[int(rng.integers(len(allowed)))]))
    return out


def commitment(p: Protocol, schedule: list[int]) -> str:
    """SHA-256 of the canonical JSON of protocol and schedule."""
    text = json.dumps(
        {"protocol": p.canonical(), "schedule": schedule}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()
