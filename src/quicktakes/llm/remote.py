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
        self.exact: bool | None = None
        """Whether the server scores the candidates exactly; None: not asked yet."""
        self._ids: list[int] | None = None

    def _call(self, fn: Any, **kw: Any) -> Any:
        try:
            return fn(**kw)
        except (self._openai.APIError, ValueError) as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> BackendError:
        """An SDK error (after its retries) as one line naming the server."""
        o = self._openai
        if isinstance(exc, o.APIConnectionError | o.APITimeoutError):
            return BackendError(
                f"server at {self.base_url} unreachable after "
                f"{self.max_retries} retries: {type(exc).__name__}"
            )
        if isinstance(exc, o.APIStatusError):
            return BackendError(
                f"server at {self.base_url} answered {exc.status_code} after "
                f"{self.max_retries} retries"
            )
        return BackendError(
            f"server at {self.base_url} sent a malformed response: {type(exc).__name__}"
        )

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
        """Each candidate's log-probability as the first token of the answer: over the
        candidates, exactly, where the server restricts the answer to them and reports the
        restricted log-probabilities (vLLM with `--logprobs-mode processed_logprobs`); else
        over the vocabulary, from its top 20."""
        return self.score_batch([messages], candidates)[0]

    def score_batch(
        self, conversations: Sequence[Sequence[Message]], candidates: Sequence[str]
    ) -> list[list[float]]:
        if not conversations:
            return []
        if self.exact is None:  # the first request finds out what the server can do
            self.exact = self._restricted(conversations[0], candidates) is not None
        if not self.exact:
            return self._pooled(lambda c: self._top(c, candidates), conversations)
        rows = self._pooled(lambda c: self._restricted(c, candidates), conversations)
        if any(r is None for r in rows):
            raise BackendError(f"server at {self.base_url} stopped restricting the answer "
                               "to the candidates")
        return [r for r in rows if r is not None]

    def _token_ids(self, candidates: Sequence[str]) -> list[int] | None:
        """The candidates' token ids by the server's own tokenizer (vLLM's /tokenize), or
        None where it has no such endpoint or a candidate is not one token."""
        if self._ids is None:
            import httpx

            ids = []
            for c in candidates:
                try:
                    r = httpx.post(f"{self.base_url.removesuffix('/v1')}/tokenize", timeout=30,
                                   json={"model": self.model, "prompt": c,
                                         "add_special_tokens": False})
                    tokens = r.json().get("tokens") if r.status_code == 200 else None
                except (httpx.HTTPError, ValueError, AttributeError):
                    return None
                if not tokens or len(tokens) != 1:
                    return None
                ids.append(int(tokens[0]))
            self._ids = ids
        return self._ids

    def _restricted(
        self, messages: Sequence[Message], candidates: Sequence[str]
    ) -> list[float] | None:
        """One request whose answer may only be a candidate, with their log-probabilities;
        None where the server ignores the restriction or reports unrestricted values."""
        ids = self._token_ids(candidates)
        if ids is None:
            return None
        r = self._call(
            self.client.chat.completions.create,
            model=self.model,
            messages=list(messages),
            max_tokens=1,
            temperature=1.0,  # the model's own distribution, restricted
            seed=0,
            logprobs=True,
            top_logprobs=len(candidates),
            extra_body={"allowed_token_ids": ids},
        )
        self.usage.calls += 1
        content = r.choices[0].logprobs.content if r.choices[0].logprobs else None
        top = {t.token: t.logprob for t in content[0].top_logprobs} if content else {}
        if set(top) != set(candidates) or abs(math.log(sum(map(math.exp, top.values())))) > 1e-3:
            return None
        return [float(top[c]) for c in candidates]

    def _top(self, messages: Sequence[Message], candidates: Sequence[str]) -> list[float]:
        """From the first answer token's top 20 (a server-side limit): a candidate outside
        it gets MISSING_LOGPROB. An exact token beats a spaced variant of it."""
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
        exact = {t.token: t.logprob for t in content[0].top_logprobs}
        spaced: dict[str, float] = {}
        for t in content[0].top_logprobs:
            spaced[t.token.strip()] = max(t.logprob, spaced.get(t.token.strip(), -math.inf))
        return [max(MISSING_LOGPROB, float(exact.get(c, spaced.get(c, -math.inf))))
                for c in candidates]


PROBE = [{"role": "user", "content": "You are in a maze. Which move: U, D, L or R? "
          "Answer with one letter."}]
PROBE_TOLERANCE = 0.3
"""Nats by which the served model's and the trainer's probe scores may differ: fp32 on both
sides agrees within 1e-3; another checkpoint differs by whole nats."""


def over_candidates(scores: Sequence[float]) -> list[float]:
    """Log-probabilities renormalized over the candidates: what the policy samples from, and
    what a server restricted to the candidates reports."""
    total = math.log(sum(math.exp(x) for x in scores))
    return [x - total for x in scores]


def check_served(served: OpenAIBackend, trainer: Backend, candidates: Sequence[str]) -> float:
    """The largest difference between the served model's and the trainer's scores of
    `candidates` on a probe prompt (over the candidates); a ConfigError if it says they are
    different models."""
    theirs = served.score(PROBE, candidates)
    if min(theirs) <= MISSING_LOGPROB:
        raise BackendError(
            f"server at {served.base_url} could not score all of {list(candidates)} on the "
            "probe (vLLM: --logprobs-mode processed_logprobs scores them exactly)"
        )
    ours = over_candidates(trainer.score(PROBE, candidates))
    gap = max(abs(a - b) for a, b in zip(over_candidates(theirs), ours, strict=True))
    if gap > PROBE_TOLERANCE:
        raise ConfigError(
            f"the server at {served.base_url} ({served.model}) does not serve the model "
            f"being trained: probe scores differ by {gap:.2f} nats (at most "
            f"{PROBE_TOLERANCE}); serve the --train-model folder"
        )
    return gap


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
