"""Game and decision theory: repeated lotteries, iterated prisoner's dilemma, iterated Newcomb."""

from quicktakes.games import claims as _claims  # noqa: F401  (registers the claims)
from quicktakes.games.ipd import IPDConfig, TournamentResult, tournament
from quicktakes.games.lottery import LotteryConfig, LotteryOdds, odds
from quicktakes.games.newcomb import NewcombConfig, one_shot_threshold, play_all

__all__ = [
    "IPDConfig",
    "LotteryConfig",
    "LotteryOdds",
    "NewcombConfig",
    "TournamentResult",
    "odds",
    "one_shot_threshold",
    "play_all",
    "tournament",
]
