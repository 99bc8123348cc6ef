"""Real components: the embedded GGUF through llama.cpp, and llama-cpp-python's own
OpenAI-compatible server on loopback. A hand-written server only injects faults."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QUICKTAKES_LLM_CACHE", str(tmp_path / "samples.db"))


@pytest.fixture(scope="session")
def local_backend():
    pytest.importorskip("llama_cpp", reason="the llamacpp extra is not installed")
    from quicktakes.llm.local import LocalBackend

    backend = LocalBackend()
    yield backend
    backend.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory) -> Iterator[str]:
    """`python -m llama_cpp.server` serving the embedded GGUF on a free loopback port."""
    pytest.importorskip("llama_cpp", reason="the llamacpp extra is not installed")
    from quicktakes.llm.local import embedded_model_path

    port = _free_port()
    log = open(tmp_path_factory.mktemp("server") / "server.log", "w+b")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(embedded_model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            "smollm2-135m",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,  # a pipe would fill up and stall the server
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"llama_cpp.server exited: {log.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("llama_cpp.server did not come up in 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


class _Faulty(BaseHTTPRequestHandler):
    mode = "500"
    hits = 0

    def log_message(self, *args):  # quiet
        pass

    def _reply(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        self._reply(
            200,
            json.dumps(
                {
                    "object": "list",
                    "data": [{"id": "faulty", "object": "model", "created": 0, "owned_by": "test"}],
                }
            ).encode(),
        )

    def do_POST(self):  # noqa: N802
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.mode == "500":
            self._reply(500, b'{"error": {"message": "boom"}}')
        elif self.mode == "truncated":
            self._reply(200, b'{"id": "x", "choices": [{"mess')
        elif self.mode == "slow":
            time.sleep(3)
            self._reply(200, b"{}")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that gave up (timeout test) makes the write fail: expected, not news."""


@pytest.fixture
def faulty_server():
    """A loopback server that fails on purpose: returns (url, handler class to set mode)."""
    _Faulty.hits = 0
    server = _QuietServer(("127.0.0.1", 0), _Faulty)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Faulty
    server.shutdown()
