import json

import pytest


def test_show_prints_the_maze_and_its_optimum(cli):
    r = cli("maze", "show", "--seed", "3")
    assert r.exit_code == 0
    assert "@" in r.stdout and "collectable in 14 moves" in r.stdout


def test_a_person_can_play(cli):
    r = cli("maze", "play", "--seed", "3", input="U\nx\nL\nR\nD\nQ\n")
    assert r.exit_code == 0, r.output
    assert "U, D, L or R, please" in r.stdout
    assert "you collected" in r.stdout
    assert "@ you   o coin" in r.stdout and "coins 0/" in r.stdout
    assert "move 4/" in r.stdout  # the invalid 'x' used no move: U, L, R, D were 4


def test_play_keys_arrows_and_wasd_and_nothing_else():
    from quicktakes.maze.play import key_move

    assert [key_move(k) for k in ("\x1b[A", "\x1b[D", "w", "d", "s", "a")] == list("ULURDL")
    assert key_move("q") == "Q" and key_move("\x03") == "Q"
    assert key_move("x") is None and key_move("\x1b[Z") is None


def test_random_method_runs_without_a_model_and_saves_its_config(cli, tmp_path):
    r = cli(
        "maze",
        "run",
        "--method",
        "random",
        "--iterations",
        "2",
        "--test-mazes",
        "3",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert len(data["iterations"]) == 2 and data["config"]["method"] == "random"
    saved = json.loads(open(data["saved"]).read())
    assert saved["config"] == data["config"]


def test_openai_backend_without_a_base_url_is_a_one_line_error(cli, one_line_error, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    one_line_error(cli("maze", "run", "--method", "zero-shot", "--backend", "openai"), "base URL")


def test_unreachable_server_is_a_one_line_error(cli, one_line_error):
    r = cli(
        "maze",
        "run",
        "--method",
        "zero-shot",
        "--backend",
        "openai",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
        "--test-mazes",
        "1",
        "--iterations",
        "1",
    )
    one_line_error(r, "unreachable")


def test_bad_maze_parameters(cli, one_line_error):
    one_line_error(cli("maze", "show", "--size", "2"), "size")
    one_line_error(cli("maze", "run", "--method", "ppo"), "method")
    one_line_error(cli("maze", "run", "--backend", "ollama", "--method", "zero-shot"), "backend")
    one_line_error(cli("maze", "run", "--method", "zero-shot", "--concurrency", "0"),
                   "--concurrency")


def test_q_table_reference_runs_and_improves_with_episodes(cli, tmp_path):
    r = cli(
        "maze",
        "run",
        "--method",
        "q-table",
        "--samples",
        "2",
        "--iterations",
        "4",
        "--test-mazes",
        "4",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert r.exit_code == 0, r.output
    its = json.loads(r.stdout)["iterations"]
    assert [i["samples_used"] for i in its] == [8, 16, 32, 64]
    assert its[-1]["mean"] >= its[0]["mean"]


def test_sft_iter_through_the_cli_saves_adapters_and_resumes(cli, tmp_path):
    args = (
        "maze",
        "run",
        "--method",
        "sft-iter",
        "--iterations",
        "2",
        "--samples",
        "2",
        "--train-mazes",
        "1",
        "--test-mazes",
        "1",
        "--size",
        "4",
        "--coins",
        "1",
        "--steps",
        "3",
        "--out",
        str(tmp_path),
        "--json",
    )
    first = cli(*args)
    assert first.exit_code == 0, first.output
    (run_dir,) = tmp_path.glob("sft-iter-lora-coins-*-seed0")
    assert (run_dir / "iter-0" / "adapter_model.safetensors").exists()
    again = cli(*args)
    assert json.loads(again.stdout)["iterations"] == json.loads(first.stdout)["iterations"]


def test_verified_training_records_each_update_and_counts_its_episodes(cli, tmp_path,
                                                                        monkeypatch):
    """`--verify N`: every update is judged on N verification mazes, kept or rolled back, and
    their greedy episodes count as spent (N before the first update, N after each); a
    resumed run repeats it."""
    args = ("maze", "run", "--method", "oracle-bc", "--iterations", "3", "--samples", "2",
            "--train-mazes", "1", "--test-mazes", "1", "--verify", "3", "--size", "4",
            "--coins", "1", "--steps", "3", "--out", str(tmp_path), "--json")
    first = cli(*args)
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    assert [i["samples_used"] for i in out["iterations"]] == [0, 2 + 3 + 3, 2 * (2 + 3) + 3]
    for u in out["updates"]:
        assert u["kept"] in (0.0, 1.0)
        assert (u["verify_after"] >= u["verify_before"]) == (u["kept"] == 1.0)
    assert out["updates"][1]["verify_before"] == max(out["updates"][0]["verify_before"],
                                                     out["updates"][0]["verify_after"])
    again = cli(*args)
    assert json.loads(again.stdout)["iterations"] == out["iterations"]
    monkeypatch.setenv("COLUMNS", "240")  # the table whole: a column for the verification
    table = cli(*args[:-1])
    assert table.exit_code == 0 and "verification mazes" in table.stdout, table.stdout
    assert ("kept" in table.stdout) or ("rolled back" in table.stdout)


def test_show_prints_what_a_model_reads(cli):
    r = cli("maze", "show", "--seed", "3", "--obs", "coins")
    assert r.exit_code == 0 and "Coins: " in r.stdout and "Blocked: " in r.stdout


def test_bad_lab_input_is_one_line_and_leaves_no_run_directory(cli, one_line_error, tmp_path):
    out = tmp_path / "runs"
    run = ("maze", "run", "--out", str(out))
    one_line_error(cli(*run, "--obs", "pixels"), "unknown observation 'pixels'", "grid")
    one_line_error(cli(*run, "--size", "3", "--coins", "8", "--walls", "0.3"), "too few")
    one_line_error(cli(*run, "--test-mazes", "0"), "--test-mazes")
    one_line_error(cli(*run, "--method", "rl", "--kl", "-1"), "kl")
    one_line_error(cli(*run, "--method", "few-shot", "--balance"), "--balance", "oracle-bc")
    one_line_error(cli(*run, "--walls", "0.9"), "--walls")
    one_line_error(cli(*run, "--steps", "0"), "--steps")
    r = cli(*run, "--method", "foo")
    one_line_error(r)
    for m in ("random", "heuristic", "zero-shot", "best-of-n", "few-shot", "oracle-bc",
              "sft-iter", "rl", "q-table"):
        assert m in r.stderr
    assert not out.exists()
    (tmp_path / "file").write_text("x")
    one_line_error(cli("maze", "run", "--method", "random", "--out", str(tmp_path / "file")),
                   "is a file")


def test_heuristic_reference_runs_without_a_model(cli, tmp_path):
    r = cli("maze", "run", "--method", "heuristic", "--iterations", "1", "--test-mazes", "8",
            "--out", str(tmp_path), "--json")
    assert r.exit_code == 0, r.output
    it = json.loads(r.stdout)["iterations"][0]
    assert 0.3 < it["mean"] < 1.0 and json.loads(r.stdout)["config"]["obs"] == "coins"


def test_the_local_backend_without_llama_cpp_says_how_to_install_it(cli, one_line_error,
                                                                     tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    out = tmp_path / "runs"
    one_line_error(cli("maze", "run", "--method", "zero-shot", "--backend", "local",
                       "--out", str(out)), "quicktakes[llamacpp]")
    assert not out.exists()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["compare", "--start", "cold"], "start"),
        (["compare", "--start", "warm", "--warm-updates", "0"], "warm_updates"),
        (["run", "--method", "sft-iter", "--select", "best"], "select"),
        (["run", "--method", "oracle-bc", "--select", "step"], "--select step"),
        (["run", "--method", "sft-iter", "--select", "step", "--rollouts", "0"], "rollouts"),
        (["run", "--method", "rl", "--select", "step", "--extra-episodes", "8"],
         "--extra-episodes"),
        (["run", "--method", "zero-shot", "--extra-episodes", "8"], "--extra-episodes"),
        (["run", "--method", "rl", "--extra-episodes", "-1"], "--extra-episodes"),
        (["run", "--method", "oracle-bc", "--eval-episodes", "0"], "--eval-episodes"),
        (["run", "--evaluation", "greedy", "--eval-episodes", "3"], "one episode per maze"),
        (["run", "--method", "rl", "--lora-rank", "0"], "--lora-rank"),
        (["run", "--method", "rl", "--optimizer", "stale"], "optimizer"),
    ],
)
def test_lab_options_out_of_range_fail_in_one_line_before_any_work(
    cli, one_line_error, tmp_path, args, fragment
):
    out = tmp_path / "out"
    one_line_error(cli("maze", *args, "--out", str(out)), fragment)
    assert not out.exists()


def test_a_spec_file_runs_and_the_options_typed_override_it(cli, tmp_path):
    spec = tmp_path / "run.json"
    spec.write_text(json.dumps({"method": "heuristic", "iterations": 2, "test_mazes": 5,
                                "maze": {"size": 6, "coins": 3}, "seed": 4}))
    r = cli("maze", "run", "--spec", str(spec), "--test-mazes", "3", "--out", str(tmp_path),
            "--json")
    assert r.exit_code == 0, r.output
    config = json.loads(r.stdout)["config"]
    assert (config["method"], config["iterations"], config["test_mazes"]) == ("heuristic", 2, 3)
    assert config["maze"] == {"size": 6, "wall_density": 0.3, "coins": 3, "max_steps": 14}
    (run_dir,) = tmp_path.glob("heuristic-*-seed4")
    assert json.loads((run_dir / "config.json").read_text()) == config
    assert json.loads((run_dir / "result.json").read_text())["config"] == config


@pytest.mark.parametrize(
    "content, fragment",
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"method": "random", "iteratoins": 2}', "iteratoins: not a field of this spec"),
        ('{"maze": {"walls": 0.2}}', "maze.walls: not a field of this spec"),
        ('{"samples": 0}', "samples: Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_spec_file_is_one_line_and_writes_nothing(
    cli, one_line_error, tmp_path, content, fragment
):
    spec = tmp_path / "run.json"
    if content is not None:
        spec.write_text(content)
    out = tmp_path / "out"
    r = cli("maze", "run", "--spec", str(spec), "--out", str(out))
    one_line_error(r, f"--spec {spec}", fragment)
    assert not out.exists()


@pytest.mark.parametrize(
    "option, fragment",
    [
        (["--concurrency", "0"], "--concurrency: Input should be greater than or equal to 1"),
        (["--samples", "0"], "--samples: Input should be greater than or equal to 1"),
        (["--temperature", "3"], "--temperature: Input should be less than or equal to 2"),
        (["--backend", "ollama"], "--backend: Input should be 'local', 'hf' or 'openai'"),
        (["--iterations", "two"], "Invalid value for '--iterations'"),
        (["--sft-clip", "0"], "--sft-clip: Input should be greater than 0"),
        (["--sft-clip", "0.2"], "--sft-clip clips fine-tuning on selected moves"),
        (["--sft-centre"], "--sft-centre centres fine-tuning on selected moves"),
        (["--verify", "4"], "--verify keeps or rolls back a learner's updates"),
        (["--verify", "-1"], "--verify: Input should be greater than or equal to 0"),
    ],
)
def test_each_generated_option_names_itself_when_its_value_is_wrong(
    cli, option, fragment, tmp_path
):
    out = tmp_path / "out"
    r = cli("maze", "run", "--method", "zero-shot", *option, "--out", str(out))
    assert r.exit_code == 2 and fragment in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_a_run_folder_holds_one_run_and_refuses_other_settings(cli, one_line_error, tmp_path):
    args = ("maze", "run", "--method", "random", "--test-mazes", "2", "--iterations", "1",
            "--out", str(tmp_path))
    assert cli(*args).exit_code == 0
    (run_dir,) = tmp_path.glob("random-*-seed0")
    before = (run_dir / "result.json").read_text()
    one_line_error(cli(*args, "--samples", "3"), "other settings (samples)", "--out")
    assert (run_dir / "result.json").read_text() == before
    again = cli(*args, "--iterations", "2", "--json")  # only iterations may change
    assert again.exit_code == 0 and len(json.loads(again.stdout)["iterations"]) == 2


def test_every_option_of_maze_run_is_a_spec_field_with_its_help_and_default(cli):
    from quicktakes.cli.maze import LAB_OPTIONS
    from quicktakes.maze.spec import LabSpec

    text = " ".join(cli("maze", "run", "--help").stdout.split())
    nested = {"maze", "backend"}
    assert {o.path[0] for o in LAB_OPTIONS} == set(LabSpec.model_fields)
    assert {o.path[0] for o in LAB_OPTIONS if len(o.path) == 2} == nested
    spec = LabSpec()
    for o in LAB_OPTIONS:
        assert o.flag in text
        assert " ".join((o.field.description or "").split()[:4]) in text
        default = spec.model_dump()
        for part in o.path:
            default = default[part]
        if o.field.default is not None:  # lr: None, resolved by finetune (its help says so)
            assert f"[default: {default}]" in " ".join(o.help().split())


@pytest.mark.parametrize("targets", ["mlp_in", "q_proj,nowhere", ","])
def test_lora_targets_naming_no_module_are_one_line_and_write_nothing(
    cli, one_line_error, tmp_path, targets
):
    out = tmp_path / "out"
    r = cli("maze", "run", "--method", "sft-iter", "--lora-targets", targets, "--out", str(out))
    one_line_error(r, "no module" if targets == "," else "names no linear layer")
    if targets != ",":
        assert "gate_proj" in r.stderr and "all" in r.stderr  # it says what would do
    assert not out.exists()


def test_a_bad_checkpoint_schedule_is_one_line_and_writes_nothing(cli, one_line_error,
                                                                   tmp_path):
    out = tmp_path / "runs"
    run = ("maze", "run", "--method", "sft-iter", "--iterations", "5", "--out", str(out))
    one_line_error(cli(*run, "--checkpoints", ""), "--checkpoints", "empty")
    one_line_error(cli(*run, "--checkpoints", " , "), "--checkpoints", "empty")
    one_line_error(cli(*run, "--checkpoints", "0,3,2"), "--checkpoints", "not increasing")
    one_line_error(cli(*run, "--checkpoints", "0,2,2"), "not increasing")
    one_line_error(cli(*run, "--checkpoints", "0,-1"), "whole numbers")
    one_line_error(cli(*run, "--checkpoints", "0,two"), "whole numbers")
    one_line_error(cli(*run, "--checkpoints", "0,5"), "past the last iteration (4")
    one_line_error(cli("maze", "run", "--method", "random", "--checkpoints", "0,1",
                       "--out", str(out)), "fine-tuning")
    assert not out.exists()
    spec = tmp_path / "spec.json"
    spec.write_text('{"method": "rl", "iterations": 3, "checkpoints": []}')
    one_line_error(cli("maze", "run", "--spec", str(spec), "--out", str(out)), "empty")
    assert not out.exists()
