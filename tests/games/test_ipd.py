import pytest
from hypothesis import given
from hypothesis import strategies as st

from quicktakes.errors import UnknownNameError
from quicktakes.games import ipd


@given(x=st.floats(0, 1), n=st.integers(1, 1000))
def test_closed_form_is_x_times_2n_minus_3_minus_1(x, n):
    assert ipd.tft_advantage(x, n) == pytest.approx(x * (2 * n - 3) - 1, abs=1e-9)


@pytest.mark.parametrize("n", [2, 5, 100])
@pytest.mark.parametrize("x", [0.0, 0.3, 1.0])
def test_closed_form_matches_axelrod_matches(x, n):
    assert ipd.simulated_advantage(x, n) == pytest.approx(ipd.tft_advantage(x, n))


def test_tournament_is_reproducible_with_a_seed():
    cfg = ipd.IPDSpec(turns=20, repetitions=2, strategies=("Tit For Tat", "Defector", "Random"))
    a, b = ipd.tournament(cfg, seed=3), ipd.tournament(cfg, seed=3)
    assert a.to_dict() == b.to_dict()


def test_defector_wins_a_one_round_tournament_against_cooperators():
    cfg = ipd.IPDSpec(
        turns=1, repetitions=1, strategies=("Cooperator", "Defector", "Tit For Tat")
    )
    res = ipd.tournament(cfg, seed=0)
    assert res.standings[0].name == "Defector"
    assert res.rank_of("Defector") == 1


def test_unknown_strategy_is_a_clear_error():
    with pytest.raises(UnknownNameError, match="nobody"):
        ipd.make_players(("Tit For Tat", "nobody"))
