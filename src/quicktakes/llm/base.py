"""One small interface for every model backend, and the request types it takes.

A backend generates text (n samples per prompt, with a seed per sample) and, where it can,
scores a fixed set of candidate continuations by their log-probability. Chat messages are
rendered by the backend (its own chat template), so methods never format prompts by hand.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, str]


@dataclass(frozen=True)
class Sampling:
    """How to sample; part of the cache key."""

    temperature: float = 0.7
    max_tokens: int = 16
    stop: tuple[str, ...] = ()
    grammar: str | None = None
    """A GBNF grammar constraining the output, where the backend supports one."""

    def key(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": list(self.stop),
            "grammar": self.grammar,
        }


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


class Backend(ABC):
    """A model: `generate` for everyone, `score` where next-token log-probabilities exist."""

    name: str = "backend"
    can_score: bool = False

    def __init__(self) -> None:
        self.usage = Usage()

    @property
    @abstractmethod
    def model_id(self) -> str:
        """A stable identity of the weights (file hash or served model id): a cache key part."""

    @abstractmethod
    def generate(
        self, messages: Sequence[Message], sampling: Sampling, seeds: Sequence[int]
    ) -> list[str]:
        """One completion per seed for one conversation."""

    def score(self, messages: Sequence[Message], candidates: Sequence[str]) -> list[float]:
        """Log-probability of each candidate as the first token of the reply."""
        raise NotImplementedError(f"backend {self.name} cannot score candidates")

    def score_batch(
        self, conversations: Sequence[Sequence[Message]], candidates: Sequence[str]
    ) -> list[list[float]]:
        """`score` for many conversations; backends that can batch override this."""
        return [self.score(c, candidates) for c in conversations]

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
