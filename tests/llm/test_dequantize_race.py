"""Two processes started together on an empty cache both dequantize the embedded GGUF: the
one that finishes second uses the first one's copy instead of crashing on the rename."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = (
    "from quicktakes.llm.hf import dequantized_dir\n"
    "from quicktakes.llm.local import embedded_model_path\n"
    "print(dequantized_dir(embedded_model_path()))\n"
)


@pytest.mark.slow
def test_two_processes_on_an_empty_cache_both_finish(tmp_path):
    env = {**os.environ, "QUICKTAKES_HOME": str(tmp_path / "home")}
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert "Traceback" not in err
    folders = {out.strip() for out, _ in outs}
    assert len(folders) == 1
    folder = folders.pop()
    assert os.path.exists(os.path.join(folder, "config.json"))
    leftovers = [n for n in os.listdir(os.path.dirname(folder)) if n.endswith(".tmp")]
    assert leftovers == []
