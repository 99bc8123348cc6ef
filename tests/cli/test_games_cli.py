import json

import pytest


def test_lottery_json_matches_the_known_value(cli):
    r = cli("lottery", "--p", "0.4", "--prize", "3", "--sure", "1", "--presses", "100", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["p_less"] == pytest.approx(0.0913, abs=5e-5)


def test_lottery_table(cli):
    r = cli("lottery", "--presses", "1")
    assert r.exit_code == 0
    assert "0.6" in r.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("lottery", "--p", "1.5"), "p:"),
        (("lottery", "--p", "-0.1"), "p:"),
        (("lottery", "--presses", "-3"), "presses"),
        (("lottery", "--presses", "0"), "presses"),
        (("lottery", "--presses", "many"), "--presses"),
        (("lottery", "--prize", "0"), "prize"),
        (("newcomb", "--rounds", "0"), "rounds"),
        (("newcomb", "--accuracy", "2"), "accuracy"),
        (("newcomb", "--predictor", "psychic"), "predictor"),
        (("ipd", "--turns", "0"), "turns"),
        (("ipd", "--strategy", "Tit For Tat", "--strategy", "nobody"), "nobody"),
        (("lottery", "--bogus"), "--bogus"),
    ],
)
def test_nonsense_parameters_exit_2_with_one_line(cli, one_line_error, args, fragment):
    one_line_error(cli(*args), fragment)


def test_newcomb_json(cli):
    r = cli("newcomb", "--rounds", "4", "--accuracy", "0.9", "--episodes", "50", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    players = {p["player"]: p for p in data["players"]}
    assert players["backward-induction"]["plan"] == "1112"
    assert players["contents-fixed"]["plan"] == "2222"
    assert data["one_shot_threshold"] == pytest.approx(0.5005)
    # (n - 1)(2a - 1) big = n small at n = 4: a = 1/2 + 4000 / 6e6
    assert data["commit_pays_above_accuracy"] == pytest.approx(0.5 + 4000 / 6e6)
    assert data["commit_pays_from_rounds"] == 2


def test_ipd_unknown_population_exits_2(cli, one_line_error):
    one_line_error(cli("ipd", "--population", "nobody"), "unknown population")


def test_ipd_json_ranks_the_given_strategies(cli):
    r = cli(
        "ipd",
        "--turns",
        "50",
        "-s",
        "Tit For Tat",
        "-s",
        "Defector",
        "-s",
        "Cooperator",
        "--repetitions",
        "1",
        "--json",
    )
    assert r.exit_code == 0, r.output
    standings = json.loads(r.stdout)["standings"]
    assert {s["name"] for s in standings} == {"Tit For Tat", "Defector", "Cooperator"}
    # with self-play, Defector's exploitation of Cooperator outweighs TFT's mutual cooperation
    assert [s["name"] for s in standings] == ["Defector", "Tit For Tat", "Cooperator"]
