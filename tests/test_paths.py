"""One home for what quicktakes keeps, and writes that land whole or not at all."""

from __future__ import annotations

import json
import os

import pytest

from quicktakes.paths import atomic_write, replacing


def test_quicktakes_home_holds_every_user_path_and_the_per_file_variables_still_win(
    tmp_path, monkeypatch, cli
):
    from quicktakes.llm import cache
    from quicktakes.llm.local import file_identity
    from quicktakes.maze.lab import runs_root
    from quicktakes.nof1 import store

    home = tmp_path / "qt"
    for var in ("QUICKTAKES_DB", "QUICKTAKES_LLM_CACHE", "QUICKTAKES_RUNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("QUICKTAKES_HOME", str(home))
    assert store.default_path() == home / "data" / "trials.db"
    assert cache.default_path() == home / "cache" / "samples.db"
    assert runs_root() == home / "data" / "maze-runs"
    weights = tmp_path / "w.gguf"
    weights.write_bytes(b"not really weights")
    file_identity(weights)
    assert weights.resolve().as_posix() in (home / "cache" / "model-hashes.json").read_text()

    r = cli("trial", "new", "t", "--arm", "a", "--arm", "b", "--smallest-effect", "5")
    assert r.exit_code == 0, r.output
    assert (home / "data" / "trials.db").exists()

    monkeypatch.setenv("QUICKTAKES_DB", str(tmp_path / "mine.db"))
    assert store.default_path() == tmp_path / "mine.db"


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = atomic_write(tmp_path / "results.json", json.dumps({"v": 1}))
    assert json.loads(target.read_text()) == {"v": 1}

    def full_disk(self, data, encoding=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_text", full_disk)  # a fault, injected
    with pytest.raises(OSError):
        atomic_write(target, json.dumps({"v": 2}))
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"v": 1}
    assert os.listdir(tmp_path) == ["results.json"]  # no temporary file left beside it


def test_replacing_swaps_a_whole_folder_in_and_leaves_nothing_when_the_block_fails(tmp_path):
    target = tmp_path / "weights"
    with replacing(target) as tmp:
        tmp.mkdir()
        (tmp / "config.json").write_text("{}")
    assert (target / "config.json").exists()

    other = tmp_path / "other"
    with pytest.raises(RuntimeError), replacing(other) as tmp:
        tmp.mkdir()
        (tmp / "half.bin").write_bytes(b"x")
        raise RuntimeError("interrupted")
    assert sorted(os.listdir(tmp_path)) == ["weights"]
