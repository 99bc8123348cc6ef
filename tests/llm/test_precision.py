"""Precision by capability: auto picks bf16 only where the hardware has it, the choice is
recorded and keys the cache, and bad requests are one-line errors."""

import pytest

from quicktakes.errors import ConfigError
from quicktakes.llm import precision


@pytest.fixture
def no_native_bf16(monkeypatch):
    monkeypatch.delenv(precision.ENV, raising=False)
    monkeypatch.setattr(precision, "native_bf16", lambda device="cpu": False)


@pytest.fixture
def native(monkeypatch):
    monkeypatch.delenv(precision.ENV, raising=False)
    monkeypatch.setattr(precision, "native_bf16", lambda device="cpu": True)


def test_auto_follows_the_hardware(no_native_bf16, monkeypatch):
    assert precision.resolve("auto", "cpu") == "fp32"
    monkeypatch.setattr(precision, "native_bf16", lambda device="cpu": True)
    assert precision.resolve("auto", "cpu") == "bf16"
    assert precision.resolve("fp32", "cpu") == "fp32"


def test_the_environment_sets_auto_for_a_whole_run(native, monkeypatch):
    monkeypatch.setenv(precision.ENV, "fp32")
    assert precision.resolve(None, "cpu") == "fp32" and precision.resolve("auto") == "fp32"
    assert precision.resolve("bf16", "cpu") == "bf16"  # an explicit choice wins
    monkeypatch.setenv(precision.ENV, "fp16")
    with pytest.raises(ConfigError, match="QUICKTAKES_PRECISION"):
        precision.resolve(None, "cpu")


def test_bf16_where_it_cannot_run_and_unknown_names_are_errors(monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device="cpu": False)
    with pytest.raises(ConfigError, match="cannot run it"):
        precision.resolve("bf16", "cuda")
    assert precision.resolve("bf16", "cpu") == "bf16"  # emulated on a CPU: slow, but runs
    with pytest.raises(ConfigError, match="valid: auto, bf16, fp32"):
        precision.resolve("half", "cpu")


def test_the_real_capability_is_read():
    cap = precision.provenance("cpu")
    assert cap["precision"] in {"bf16", "fp32"} and cap["cpu_capability"] not in {"", "unknown"}
    assert (cap["precision"] == "bf16") == (cap["native_bf16"] == "true") or cap[
        "precision_asked"
    ] != "auto"


def test_backend_without_native_bf16_runs_fp32_and_keys_the_cache_on_it(no_native_bf16):
    from quicktakes.llm.hf import HFBackend

    auto = HFBackend(seed=0)
    assert not auto.autocast and auto.precision == "fp32" and "+bf16" not in auto.model_id
    forced = HFBackend(seed=0, precision="bf16")
    assert forced.autocast and forced.model_id != auto.model_id
    conv = [[{"role": "user", "content": "Which way? Answer U, D, L or R."}]]
    a, b = auto.score_batch(conv, list("UDLR")), forced.score_batch(conv, list("UDLR"))
    assert a != b  # bf16 really ran: the scores differ in the low bits
    assert max(abs(x - y) for x, y in zip(a[0], b[0], strict=True)) < 0.5


def test_a_run_records_the_precision_it_used(no_native_bf16, tmp_path):
    from quicktakes.maze.grid import MazeConfig
    from quicktakes.maze.lab import run, run_dir_name
    from quicktakes.maze.spec import LabSpec

    spec = LabSpec(method="oracle-bc", iterations=1, test_mazes=1,
                   maze=MazeConfig(size=4, wall_density=0.2, coins=1, max_steps=3))
    assert spec.precision == "auto" and "-fp32-" in run_dir_name(spec)
    result = run(spec, run_dir=tmp_path / "run")
    assert result.config.model_dump()["precision"] == "fp32"
    assert '"precision": "fp32"' in (tmp_path / "run" / "config.json").read_text()


def test_cli_bad_precision_is_one_line_and_writes_nothing(cli, one_line_error, tmp_path,
                                                          monkeypatch):
    out = tmp_path / "runs"
    one_line_error(cli("maze", "run", "--method", "sft-iter", "--precision", "fp16",
                       "--out", str(out)), "precision")
    one_line_error(cli("reproduce", "games.lottery", "--precision", "fp16", "--out",
                       str(tmp_path / "r")), "precision")
    monkeypatch.setattr(precision, "native_bf16", lambda device="cpu": False)
    monkeypatch.setattr(precision, "default_device", lambda: "cuda")
    one_line_error(cli("maze", "run", "--method", "sft-iter", "--precision", "bf16",
                       "--out", str(out)), "cannot run")
    one_line_error(cli("reversal", "run", "--precision", "bf16"), "cannot run")
    monkeypatch.setenv(precision.ENV, "fp64")
    one_line_error(cli("reproduce", "games.lottery", "--out", str(tmp_path / "r")),
                   "QUICKTAKES_PRECISION")
    assert not out.exists() and not (tmp_path / "r").exists()
