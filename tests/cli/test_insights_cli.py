import json

import pytest


def test_rollback_json_counts_every_step_from_a(cli):
    r = cli("rollback", "run", "--steps", "20", "--seeds", "2", "-k", "2", "-k", "8",
            "--margin", "0", "--margin", "0.5", "--rate", "0.01", "--rate", "0.003", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    arms = [(a["lr"], a["margin"], a["level"]) for a in data["arms"]]
    assert arms == [(lr, d, k) for lr in (0.01, 0.003) for d in (0.0, 0.5) for k in (2.0, 8.0)]
    for lv in data["arms"]:
        ac, ab = lv["a_to_c"], lv["a_to_b"]
        assert ac[1] == ab[1] > 0 and 0 <= ac[0] + ab[0] <= ac[1]
        assert lv["kept_good"][1] == 2


def test_rollback_table(cli):
    r = cli("rollback", "run", "--steps", "10", "--seeds", "1")
    assert r.exit_code == 0, r.output
    assert "A->C" in r.stdout and "without rollback" in r.stdout


def test_reversal_json_on_the_embedded_model(cli):
    r = cli(
        "reversal",
        "run",
        "--facts",
        "3",
        "--epochs",
        "1",
        "--finetune",
        "lora",
        "--paraphrases",
        "1",
        "--candidates",
        "2",
        "--json",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert [c["epoch"] for c in data["checkpoints"]] == [0, 1]
    rev = data["checkpoints"][0]["reverse"]
    assert rev["of"] == 3 and rev["candidates"] == 2
    # first under one of two templates, in pools of 2: a half per fact where the templates
    # agree on the first, the whole pool where they do not
    assert rev["chance"] * 6 == pytest.approx(round(rev["chance"] * 6))
    assert 0.5 <= rev["chance"] <= 1.0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("reversal", "run", "--facts", "0"), "facts"),
        (("reversal", "run", "--facts", "-3"), "facts"),
        (("reversal", "run", "--epochs", "0"), "epochs"),
        (("reversal", "run", "--finetune", "qlora"), "finetune"),
        (("reversal", "run", "--candidates", "1"), "candidates"),
        (("reversal", "run", "--facts", "3", "--candidates", "4"), "cannot exceed"),
        (("reversal", "run", "--test-templates", "3"), "test_templates"),
        (("rollback", "run", "--samples", "0"), "at least 1"),
        (("rollback", "run", "--samples", "-2"), "at least 1"),
        (("rollback", "run", "--samples", "500"), "larger than the state space"),
        (("rollback", "run", "--steps", "0"), "steps"),
        (("rollback", "run", "--seeds", "0"), "seeds"),
        (("rollback", "run", "--margin", "-1"), "margins"),
        (("rollback", "run", "--rate", "0"), "rates"),
    ],
)
def test_bad_parameters_exit_2(cli, one_line_error, args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli(*args)
    one_line_error(r, fragment)
    assert list(tmp_path.iterdir()) == []
