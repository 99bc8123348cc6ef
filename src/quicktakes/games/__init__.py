"""Game and decision theory: repeated lotteries, iterated prisoner's dilemma, iterated Newcomb.

The names below load on first use (PEP 562): importing the package costs nothing.
"""

from quicktakes._lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
        "IPDSpec": "ipd",
        "TournamentResult": "ipd",
        "tournament": "ipd",
        "LotterySpec": "lottery",
        "LotteryOdds": "lottery",
        "odds": "lottery",
        "NewcombSpec": "newcomb",
        "one_shot_threshold": "newcomb",
        "play_all": "newcomb",
    },
)
