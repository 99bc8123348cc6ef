"""Iterated prisoner's dilemma tournaments, played by the Axelrod library.

Axelrod is imported lazily: its import takes ~15 s and switches multiprocessing to 'spawn'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from quicktakes.errors import UnknownNameError
from quicktakes.games.populations import (  # noqa: F401 (re-exported)
    DEFAULT_POPULATION,
    FIRST_TOURNAMENT,
    POPULATIONS,
    population,
)
from quicktakes.stats import mean_ci


def turns_grid(
    dense_to: int = 30, tail: tuple[int, ...] = (40, 50, 70, 100, 140, 200)
) -> tuple[int, ...]:
    """Every round count up to `dense_to`, so a threshold is exact to the round, then `tail`."""
    return tuple(sorted({*range(1, dense_to + 1), *tail}))


class IPDSpec(BaseModel):
    """A round-robin tournament; the population is a list of Axelrod strategy names."""

    turns: int = Field(100, ge=1, le=100_000, description="rounds per match")
    repetitions: int = Field(5, ge=1, le=10_000, description="independent repetitions")
    strategies: tuple[str, ...] = Field(DEFAULT_POPULATION, min_length=2)
    noise: float = Field(0.0, ge=0.0, le=1.0, description="chance each move is flipped")


@dataclass(frozen=True)
class Standing:
    name: str
    mean: float
    lo: float
    hi: float
    scores: tuple[float, ...]
    """Mean payoff per turn per opponent, one value per repetition."""


@dataclass(frozen=True)
class TournamentResult:
    config: IPDSpec
    standings: tuple[Standing, ...]
    """Sorted best first by mean score."""

    def rank_of(self, name: str) -> int:
        """1-based rank; ties share the best rank among them."""
        target = self.score_of(name).mean
        return 1 + sum(1 for s in self.standings if s.mean > target + 1e-12)

    def score_of(self, name: str) -> Standing:
        for s in self.standings:
            if s.name == name:
                return s
        raise UnknownNameError(f"{name!r} is not in this tournament")

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.model_dump(mode="json"),
            "standings": [
                {
                    "rank": self.rank_of(s.name),
                    "name": s.name,
                    "mean": s.mean,
                    "lo": s.lo,
                    "hi": s.hi,
                }
                for s in self.standings
            ],
        }


def _axelrod() -> Any:
    import axelrod

    return axelrod


def strategy_names() -> list[str]:
    axl = _axelrod()
    return sorted(s.name for s in axl.strategies)


def make_players(names: tuple[str, ...]) -> list[Any]:
    axl = _axelrod()
    by_name = {s.name.lower(): s for s in axl.strategies}
    players = []
    for name in names:
        cls = by_name.get(name.lower())
        if cls is None:
            raise UnknownNameError(
                f"unknown strategy {name!r}; 'quicktakes ipd --list' names all {len(by_name)}"
            )
        players.append(cls())
    return players


def tournament(cfg: IPDSpec, seed: int) -> TournamentResult:
    """A seeded round-robin tournament, played serially (processes=None) for reproducibility."""
    axl = _axelrod()
    players = make_players(cfg.strategies)
    t = axl.Tournament(
        players, turns=cfg.turns, repetitions=cfg.repetitions, noise=cfg.noise, seed=seed
    )
    rs = t.play(processes=None, progress_bar=False)
    standings = []
    for player, scores in zip(players, rs.normalised_scores, strict=True):
        m, lo, hi = mean_ci(np.asarray(scores))
        standings.append(Standing(player.name, m, lo, hi, tuple(float(s) for s in scores)))
    standings.sort(key=lambda s: -s.mean)
    return TournamentResult(cfg, tuple(standings))


def beats(a: Standing, b: Standing) -> bool:
    """Whether `a` out-scores `b` beyond the 95% interval of their paired difference."""
    diff = np.asarray(a.scores) - np.asarray(b.scores)
    m, lo, _ = mean_ci(diff)
    return m > 0 and lo > 0


# --- the closed form: tit-for-tat vs always-defect in a population ------------------------


def tft_advantage(
    x: float, n: int, r: float = 3, p: float = 1, s: float = 0, t: float = 5
) -> float:
    """TFT's minus AllD's expected match score when a share `x` of opponents play TFT.

    With 5/3/1/0 payoffs this is x(2n - 3) - 1, so TFT out-scores AllD iff x(2n - 3) > 1.
    """
    tft = x * r * n + (1 - x) * (s + (n - 1) * p)
    alld = x * (t + (n - 1) * p) + (1 - x) * p * n
    return tft - alld


def tft_threshold(n: int) -> float:
    """The TFT share above which TFT out-scores AllD in n-round matches (5/3/1/0): x(2n-3) > 1.
    With n <= 2 no share does (at n = 2 even an all-TFT population only ties): infinity."""
    return 1.0 / (2 * n - 3) if n >= 3 else float("inf")


def simulated_advantage(x: float, n: int) -> float:
    """`tft_advantage`, but with match payoffs from Axelrod's Match instead of the formula."""
    axl = _axelrod()

    def score(a: Any, b: Any) -> float:
        match = axl.Match((a, b), turns=n)
        match.play()
        return float(match.final_score()[0])

    tft, alld = axl.TitForTat, axl.Defector
    tft_score = x * score(tft(), tft()) + (1 - x) * score(tft(), alld())
    alld_score = x * score(alld(), tft()) + (1 - x) * score(alld(), alld())
    return tft_score - alld_score
