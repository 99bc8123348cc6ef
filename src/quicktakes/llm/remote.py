"""Any OpenAI-compatible server (vLLM, Ollama, llama.cpp's server, OpenAI) via the openai SDK.

N samples are N requests with distinct seeds (llama.cpp and Ollama ignore `n`), sent with
bounded concurrency. The SDK retries timeouts, 429 and 5xx with exponential backoff. The API
key lives only in the client object: it is never written to the cache, a log or an error.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from quicktakes.errors import BackendError, ConfigError
from quicktakes.llm.base import Backend, Message, Sampling

T = TypeVar("T")
MISSING_LOGPROB = -100.0
"""Log-probability given to a candidate outside the server's top log-probabilities."""


class OpenAIBackend(Backend):
    name = "openai"
    can_score = True

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        concurrency: int = 4,
        max_retries: int = 3,
        timeout: float = 60.0,
    ) -> None:
        super().__init__()
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise ConfigError("--backend openai needs a base URL (--base-url or OPENAI_BASE_URL)")
        if concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        import openai

        self._openai = openai
        self.base_url = base_url.rstrip("/")
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
            max_retries=max_retries,
            timeout=timeout,
        )
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.model = model or self._served_model()

    def _call(self, fn: Any, **kw: Any) -> Any:
        o = self._openai
        try:
            return fn(**kw)
        except (o.APIConnectionError, o.APITimeoutError) as exc:
            raise BackendError(
                f"server at {self.base_url} unreachable after "
                f"{self.max_retries} retries: {type(exc).__name__}"
            ) from None
        except o.APIStatusError as exc:
            raise BackendError(
                f"server at {self.base_url} answered {exc.status_code} after "
                f"{self.max_retries} retries"
            ) from None
        except (o.APIResponseValidationError, ValueError) as exc:
            raise BackendError(
                f"server at {self.base_url} sent a malformed response: {type(exc).__name__}"
            ) from None

    def _served_model(self) -> str:
        models = self._call(self.client.models.list)
        data = list(getattr(models, "data", []) or [])
        if not data:
            raise BackendError(f"server at {self.base_url} lists no models; pass --model")
        return str(data[0].id)

    @property
    def model_id(self) -> str:
        return f"{self.base_url}|{self.model}"

    def _one(self, messages: Sequence[Message], sampling: Sampling, seed: int) -> str:
        kw: dict[str, Any] = dict(
            model=self.model,
            messages=list(messages),
            temperature=sampling.temperature,
            max_tokens=sampling.max_tokens,
            seed=int(seed),
            n=1,
        )
        if sampling.stop:
            kw["stop"] = list(sampling.stop)
        if sampling.grammar:
            kw["extra_body"] = {"grammar": sampling.grammar}  # llama.cpp servers honour it
        r = self._call(self.client.chat.completions.create, **kw)
        self.usage.calls += 1
        if r.usage:
            self.usage.prompt_tokens += r.usage.prompt_tokens or 0
            self.usage.completion_tokens += r.usage.completion_tokens or 0
        return str(r.choices[0].message.content or "")

    def _pooled(self, fn: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
        """`fn` over `items` with at most `concurrency` requests in flight, timed."""
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            out = list(pool.map(fn, items))
        self.usage.seconds += time.perf_counter() - start
        return out

    def generate(
        self, messages: Sequence[Message], sampling: Sampling, seeds: Sequence[int]
    ) -> list[str]:
        return self._pooled(lambda s: self._one(messages, sampling, s), seeds)

    def score(self, messages: Sequence[Message], candidates: Sequence[str]) -> list[float]:
        """First-token top log-probabilities (a server-side limit of 20 alternatives)."""
        r = self._call(
            self.client.chat.completions.create,
            model=self.model,
            messages=list(messages),
            max_tokens=1,
            temperature=0.0,
            logprobs=True,
            top_logprobs=20,
        )
        self.usage.calls += 1
        content = r.choices[0].logprobs.content if r.choices[0].logprobs else None
        if not content:
            raise BackendError(f"server at {self.base_url} returned no logprobs")
        top = {t.token.strip(): t.logprob for t in content[0].top_logprobs}
        return [max(MISSING_LOGPROB, float(top.get(c, -math.inf))) for c in candidates]

    def score_batch(
        self, conversations: Sequence[Sequence[Message]], candidates: Sequence[str]
    ) -> list[list[float]]:
        return self._pooled(lambda c: self.score(c, candidates), conversations)


class ServedAdapters:
    """Sample a model being fine-tuned from a vLLM server: each saved LoRA adapter is loaded
    by path (`POST /v1/load_lora_adapter`) and then requested by name.

    The name carries the hash of the adapter's weights, so the backend's `model_id`, and with
    it every sample-cache key, changes with each update. The server must serve the same base
    checkpoint that is trained, see the adapter's folder, and allow run-time adapters
    (vLLM: `--enable-lora` and `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`).
    """

    def __init__(self, backend: OpenAIBackend) -> None:
        self.backend = backend
        self.current: str | None = None

    def publish(self, folder: Path, weights_id: str) -> None:
        name = f"quicktakes-{weights_id}"
        body = {"lora_name": name, "lora_path": str(Path(folder).resolve())}
        o = self.backend._openai
        try:
            self.backend.client.post("/load_lora_adapter", body=body, cast_to=str)
        except o.APIStatusError as exc:
            text = str(getattr(exc, "message", "") or exc)
            if exc.status_code in (404, 405):
                raise BackendError(
                    f"server at {self.backend.base_url} cannot load LoRA adapters at run time "
                    "(vLLM: --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True)"
                ) from None
            if "already" not in text.lower():  # the same name is the same weights
                raise BackendError(
                    f"server at {self.backend.base_url} refused adapter {name} "
                    f"({exc.status_code}): {text.splitlines()[0][:200] if text else ''}"
                ) from None
        except (o.APIConnectionError, o.APITimeoutError) as exc:
            raise BackendError(
                f"server at {self.backend.base_url} unreachable: {type(exc).__name__}"
            ) from None
        self.backend.model = name
        self.current = weights_id
