"""A trial's protocol and its pre-committed schedule.

The schedule is drawn once, from the protocol's seed, when the trial is created; the SHA-256 of
protocol + schedule is stored and printed, so anyone can later re-derive both and check that
neither was edited after the fact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator


class ExclusionRules(BaseModel):
    """Pre-registered automatic exclusions, applied at analysis time (data are never deleted)."""

    onset_before: str | None = Field(
        None, description="exclude a day whose recorded sleep onset is before this HH:MM"
    )
    value_above: float | None = Field(None, description="exclude values above this")


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

    @field_validator("assign_at", "lights_out")
    @classmethod
    def _hhmm(cls, v: str | None) -> str | None:
        if v is not None:
            dt.time.fromisoformat(v)
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
        return self

    @property
    def contrast(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(group A, group B) of the primary contrast."""
        a = self.treatment or self.arms[:1]
        return tuple(a), tuple(x for x in self.arms if x not in a)

    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)

    def day_of(self, date: dt.date) -> int:
        return (date - self.start).days

    def canonical(self) -> dict[str, object]:
        """What the commitment hashes. Fields added after a trial was created are left out
        while unset, so every earlier commitment still verifies."""
        data = self.model_dump(mode="json")
        if data.get("lights_out") is None:
            data.pop("lights_out", None)
        return data


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
