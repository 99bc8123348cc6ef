#!/usr/bin/env python3
"""One entry point for a fresh machine with only python3: set up .venv, then run a task.

    python3 dev.py reproduce [ARGS]   # quicktakes reproduce, writes ./quicktakes-report
    python3 dev.py test [PYTEST ARGS] # the whole test suite
    python3 dev.py lint               # ruff and mypy
    python3 dev.py shell CMD ...      # any command inside the environment
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".quicktakes-installed"


def _requirements_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


LLAMA_CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
    "-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
)
"""llama-cpp-python compiles from source (~7 min on 2 cores, then pip caches the wheel). A
native build enables AMX where the CPU reports it, and some VMs then die with SIGILL: build
a portable AVX2 one instead."""


def ensure_env() -> None:
    """Create the virtual environment and (re)install the project when pyproject.toml changed."""
    if not (BIN / "python").exists():
        print("creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _requirements_hash():
        return
    print("installing quicktakes and its dependencies into .venv", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    env = dict(os.environ)
    if platform.machine() in ("x86_64", "AMD64"):
        env.setdefault("CMAKE_ARGS", LLAMA_CMAKE_ARGS)
    print("(llama-cpp-python compiles from source the first time: about 7 minutes)",
          file=sys.stderr)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True, env=env)
    STAMP.write_text(_requirements_hash())


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"reproduce", "test", "lint", "shell"}:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_env()
    task, rest = argv[0], argv[1:]
    py = str(BIN / "python")
    if task == "reproduce":
        return subprocess.call([str(BIN / "quicktakes"), "reproduce", *rest])
    if task == "test":
        return subprocess.call([py, "-m", "pytest", *rest], cwd=ROOT)
    if task == "lint":
        rc = subprocess.call([py, "-m", "ruff", "check", "src", "tests", "benchmarks"], cwd=ROOT)
        return rc or subprocess.call([py, "-m", "mypy", "src"], cwd=ROOT)
    return subprocess.call(rest, env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
