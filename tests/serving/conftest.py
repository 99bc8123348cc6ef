"""A real vLLM server on loopback (the CPU build, from .venv-vllm, which `dev.py test`
builds), serving the embedded model's dequantized folder with run-time LoRA adapters.

Where vLLM could not be installed, every test here is skipped with the reason, and the run
ends with a line counting them, so a skip is seen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = Path(os.environ.get("QUICKTAKES_VLLM_PYTHON", ROOT / ".venv-vllm" / "bin" / "python"))


def unavailable() -> str | None:
    why = os.environ.get("QUICKTAKES_VLLM_UNAVAILABLE")
    if why:
        return why
    if not PYTHON.exists():
        return f"no vLLM environment at {PYTHON} (python3 dev.py test builds .venv-vllm)"
    return None


@pytest.fixture(scope="session")
def model_folder() -> Path:
    """The embedded GGUF dequantized to a Hugging Face folder: what vLLM serves and torch
    trains."""
    from quicktakes.llm.hf import dequantized_dir
    from quicktakes.llm.local import embedded_model_path

    return dequantized_dir(embedded_model_path())


@pytest.fixture(scope="session")
def vllm(model_folder) -> Iterator:
    why = unavailable()
    if why:
        pytest.skip(why)
    from quicktakes.llm.vllm import VLLMServer

    server = VLLMServer(PYTHON, model_folder)
    try:
        server.start()
    except Exception as exc:
        tail = server.tail()
        server.close()
        pytest.fail(f"vLLM did not come up: {exc}\n{tail}")
    yield server
    server.close()


def pytest_terminal_summary(terminalreporter) -> None:
    counts = {
        kind: sum(
            getattr(r, "nodeid", "").startswith("tests/serving/") and r.when in ("call", "setup")
            for r in terminalreporter.stats.get(kind, [])
        )
        for kind in ("passed", "failed", "skipped", "error")
    }
    if any(counts.values()):
        terminalreporter.write_line(
            "vLLM server tests: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        )
