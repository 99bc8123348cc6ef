"""Model backends behind one interface, and the SQLite sample cache."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from quicktakes.errors import ConfigError
from quicktakes.llm.base import Backend, Message, Sampling
from quicktakes.llm.cache import SampleCache

BackendKind = Literal["local", "hf", "openai"]
"""Every backend by name, the one list: `maze.spec.BackendSpec.kind` is typed with it."""
BACKENDS: tuple[str, ...] = get_args(BackendKind)


def make_backend(
    name: str = "local",
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    concurrency: int = 4,
) -> Backend:
    """`local`: the embedded SmolLM2 GGUF (or --model PATH) in llama.cpp; `hf`: the same
    weights (or a checkpoint folder) in torch; `openai`: any compatible server."""
    if name == "hf":
        from quicktakes.llm.hf import HFBackend

        return HFBackend(Path(model) if model else None)
    if name == "local":
        from quicktakes.llm.local import LocalBackend

        return LocalBackend(Path(model) if model else None)
    if name == "openai":
        from quicktakes.llm.remote import OpenAIBackend

        return OpenAIBackend(base_url, model, api_key, concurrency)
    raise ConfigError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS", "Backend", "BackendKind", "Message", "SampleCache", "Sampling", "make_backend",
]
