"""The CLI starts without importing what a command does not need, and refuses an output it
cannot write before any work starts."""

import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "scipy.stats", "matplotlib", "gymnasium", "axelrod", "transformers")


def _modules_after(*args: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    code = (
        "import sys, runpy; sys.argv = ['quicktakes', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('quicktakes.cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - our own printed list


@pytest.mark.parametrize(
    "args", [("--help",), ("claims",), ("lottery", "--presses", "100"), ("newcomb", "--help")]
)
def test_light_commands_import_nothing_heavy(args):
    assert _modules_after(*args) == []


def test_qlearn_imports_no_torch():
    """qlearn is numpy only: the command group it shares with steer must not load torch."""
    args = ("qlearn", "--steps", "100", "--batch", "2")
    assert _modules_after(*args, heavy=("torch", "transformers")) == []


def test_lottery_imports_no_scipy():
    assert _modules_after("lottery", "--presses", "100", heavy=("scipy",)) == []


def test_daily_trial_commands_import_no_numerical_library(tmp_path, monkeypatch):
    """`trial today` and `trial log` run every day: no numpy, scipy or matplotlib."""
    monkeypatch.setenv("QUICKTAKES_DB", str(tmp_path / "t.db"))
    subprocess.run(
        [sys.executable, "-m", "quicktakes.cli", "trial", "new", "t", "--arm", "a", "--arm", "b",
         "--smallest-effect", "5", "--seed", "1"],
        check=True, capture_output=True,
    )
    light = ("numpy", "scipy", "matplotlib", "torch")
    assert _modules_after("trial", "today", "t", heavy=light) == []
    assert _modules_after("trial", "log", "t", "12", heavy=light) == []


def test_every_command_is_listed_and_shows_its_own_help(cli):
    from quicktakes.cli._app import COMMANDS

    top = cli("--help")
    assert top.exit_code == 0
    for name, (_, summary) in COMMANDS.items():
        assert name in top.stdout
        r = cli(name, "--help")
        assert r.exit_code == 0, (name, r.output)
        assert summary.split()[0] in r.stdout


def test_reproduce_refuses_an_out_that_is_a_file_before_running(cli, one_line_error, tmp_path):
    f = tmp_path / "report"
    f.write_text("keep me")
    one_line_error(cli("reproduce", "games.lottery", "--out", str(f)), "is a file")
    assert f.read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_reproduce_refuses_an_unwritable_out(cli, one_line_error, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        one_line_error(cli("reproduce", "games.lottery", "--out", str(ro)), "cannot write")
    finally:
        ro.chmod(0o700)


def test_an_out_under_a_file_cannot_be_created(cli, one_line_error, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    one_line_error(cli("reproduce", "games.lottery", "--out", str(f / "sub")), "cannot create")


def test_trial_html_into_a_missing_folder_fails_before_analysis(cli, one_line_error, tmp_path):
    r = cli("trial", "analyze", "nothing", "--html", str(tmp_path / "missing" / "a.html"))
    one_line_error(r, "does not exist")
    assert not (tmp_path / "missing").exists()


def test_importing_a_module_changes_nothing_global():
    """No environment variable set and no plotting backend chosen behind the caller's back."""
    code = (
        "import os, sys\n"
        "import quicktakes.llm.hf, quicktakes.report.plot, quicktakes.nof1.plots\n"
        "print(os.environ.get('HF_HUB_OFFLINE'), 'matplotlib.pyplot' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.split() == ["None", "False"]
