"""The named populations of the prisoner's dilemma tournaments: plain data, so the CLI can
list them without importing numpy or axelrod."""

from __future__ import annotations

from quicktakes.errors import UnknownNameError

DEFAULT_POPULATION: tuple[str, ...] = (
    # axelrod.basic_strategies
    "Alternator",
    "Anti Tit For Tat",
    "Bully",
    "Cooperator",
    "Cycler DC",
    "Defector",
    "Suspicious Tit For Tat",
    "Tit For Tat",
    "Win-Shift Lose-Stay",
    "Win-Stay Lose-Shift",
    # classics from Axelrod's first tournament and after
    "Grudger",
    "Tit For 2 Tats",
    "GTFT",
    "Prober",
    "First by Joss",
    "Random",
)
FIRST_TOURNAMENT: tuple[str, ...] = (
    # axelrod.axelrod_first_strategies (Axelrod's 1980 tournament), plus the strategy in question
    "Tit For Tat",
    "First by Tideman and Chieruzzi",
    "First by Nydegger",
    "First by Grofman",
    "First by Shubik",
    "First by Stein and Rapoport",
    "Grudger",
    "First by Davis",
    "First by Graaskamp",
    "First by Downing",
    "First by Feld",
    "First by Joss",
    "First by Tullock",
    "First by Anonymous",
    "Random",
    "Defector",
)
POPULATIONS: dict[str, tuple[str, ...]] = {
    "classic": DEFAULT_POPULATION,
    "axelrod-first": FIRST_TOURNAMENT,
}


def population(name: str) -> tuple[str, ...]:
    try:
        return POPULATIONS[name]
    except KeyError:
        valid = ", ".join(POPULATIONS)
        raise UnknownNameError(f"unknown population {name!r}; valid: {valid}") from None
