import json

import pytest


def test_qlearn_json_reaches_the_target_policy_on_random_mdps(cli):
    r = cli("qlearn", "--mdp", "random", "--steps", "20000", "--batch", "50", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["metric"][-1] == 1.0
    assert data["value_iteration"] == 1.0


def test_qlearn_values_on_frozen_lake(cli):
    r = cli(
        "qlearn",
        "--mdp",
        "FrozenLake-v1",
        "--target",
        "values",
        "--steps",
        "30000",
        "--batch",
        "4",
        "--json",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["value_iteration"] < 1e-9
    assert data["metric"][-1] < data["metric"][0]


def test_steer_table(cli):
    r = cli("steer", "--hidden", "", "--rounds", "10")
    assert r.exit_code == 0, r.output
    assert "reached 1e-06" in r.stdout and "kappa*" in r.stdout


def test_steer_json_keeps_distance_and_adds_diagnostics(cli):
    r = cli("steer", "--hidden", "3", "--rounds", "4", "--order", "forward",
            "--inputs-design", "random", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["distance"][0] == 1.0 and len(data["distance"]) == len(data["steps"])
    for key in ("condition", "cancellation", "radius", "kappa"):
        assert key in data
    assert data["config"]["order"] == "forward"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("qlearn", "--gamma", "1.0"), "gamma"),
        (("qlearn", "--gamma", "-0.1"), "gamma"),
        (("qlearn", "--mdp", "Pong-v5"), "Pong-v5"),
        (("qlearn", "--target", "vibes"), "target"),
        (("qlearn", "--steps", "0"), "steps"),
        (("steer", "--hidden", "a,b"), "--hidden"),
        (("steer", "--rounds", "0"), "rounds"),
        (("steer", "--hidden", "0"), "hidden"),
        (("steer", "--hidden", "-2"), "hidden"),
        (("steer", "--order", "sideways"), "order"),
        (("steer", "--inputs-design", "vibes"), "design"),
        (("steer", "--tol", "0"), "tol"),
        (("steer", "--shoot", "-1"), "shoot"),
        (("steer", "--target", "/nonexistent/t.json"), "no such file"),
    ],
)
def test_bad_parameters_exit_2(cli, one_line_error, args, fragment):
    one_line_error(cli(*args), fragment)


def test_qlearn_builds_every_construction_the_claims_read(cli, one_line_error):
    """One table of constructions: the toolkit offers each one the claim reports."""
    import json

    from quicktakes.reward.claims import CONSTRUCTIONS as LABELS
    from quicktakes.reward.design import CONSTRUCTIONS

    assert [c.label for c in CONSTRUCTIONS.values()] == list(LABELS)
    exact = {}
    for name in CONSTRUCTIONS:
        r = cli("qlearn", "--construction", name, "--steps", "2000", "--batch", "20",
                "--p-terminate", "0.2", "--json")
        assert r.exit_code == 0, r.output
        exact[name] = json.loads(r.stdout)["value_iteration"]
    # episodic MDPs: the seed's 1/0 reward can prefer postponing the end; the shifted and the
    # inverse-Bellman rewards make pi* optimal in every state of every MDP
    assert exact["shifted"] == exact["inverse-bellman"] == 1.0
    assert exact["seed"] < 1.0
    one_line_error(cli("qlearn", "--construction", "inverse"), "unknown construction 'inverse'",
                   "inverse-bellman")


def test_a_chosen_target_is_steered_to_and_a_wrong_one_is_one_line(cli, one_line_error,
                                                                    tmp_path):
    import json

    good = tmp_path / "target.json"
    good.write_text(json.dumps([0.5, -0.25, 0.125]))  # a linear model on 2 inputs: w1, w2, b
    r = cli("steer", "--hidden", "", "--target", str(good), "--rounds", "20", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["reached"]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([0.1] * 5))
    one_line_error(cli("steer", "--target", str(wrong)), "has 17")
    for text in ("[1, \"a\"]", "{}", "[NaN]", "not json"):
        wrong.write_text(text)
        one_line_error(cli("steer", "--target", str(wrong)), "--target")
