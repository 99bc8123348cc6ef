"""Local generation speed and KV-cache reuse.

1. Tokens/s through quicktakes' local backend vs llama.cpp's own API (llama-cpp-python's
   create_completion) on the same model, prompt and threads. Target (issue 5): at least 0.8x.
2. N samples of one prompt: the prompt is evaluated once and its KV cache re-used, so the cost
   is close to one prompt evaluation plus N generations. Printed: both, and the no-reuse cost.
"""

from __future__ import annotations

import os
import time

from llama_cpp import Llama

from quicktakes.llm.base import Sampling
from quicktakes.llm.local import LocalBackend, embedded_model_path

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a short story about a maze full of gold coins. " * 8},
]
TOKENS = 64


def main() -> None:
    threads = os.cpu_count() or 1
    ours = LocalBackend(threads=threads)
    prompt = ours.prompt(MESSAGES)
    raw = Llama(
        model_path=str(embedded_model_path()),
        n_ctx=2048,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )

    def raw_run(seed: int) -> int:
        raw.reset()
        r = raw.create_completion(prompt, max_tokens=TOKENS, temperature=0.8, seed=seed)
        return int(r["usage"]["completion_tokens"])

    def ours_run(seed: int) -> int:
        ours.llm.reset()
        before = ours.usage.completion_tokens
        ours.generate(MESSAGES, Sampling(0.8, TOKENS), [seed])
        return ours.usage.completion_tokens - before

    for warm_up in (raw_run, ours_run):
        warm_up(0)
    rates = {}
    for name, fn in (("llama.cpp", raw_run), ("quicktakes", ours_run)):
        start = time.perf_counter()
        toks = sum(fn(s) for s in range(1, 6))
        rates[name] = toks / (time.perf_counter() - start)
        print(
            f"{name:>10}: {rates[name]:.1f} tokens/s (prompt + {TOKENS} new tokens, "
            f"{threads} threads)"
        )
    print(
        f"ratio quicktakes / llama.cpp: {rates['quicktakes'] / rates['llama.cpp']:.2f} "
        f"(target >= 0.8)"
    )

    # KV-cache reuse across N samples of one prompt
    n = 8
    ours.llm.reset()
    n_prompt = len(ours.tokenize(prompt))
    start = time.perf_counter()
    ours.llm.eval(ours.tokenize(prompt))
    prompt_eval = time.perf_counter() - start
    ours.llm.reset()
    start = time.perf_counter()
    ours.generate(MESSAGES, Sampling(0.8, 16), list(range(n)))
    n_samples = time.perf_counter() - start
    ours.llm.reset()
    start = time.perf_counter()
    ours.generate(MESSAGES, Sampling(0.8, 16), [100])
    one = time.perf_counter() - start
    generation = one - prompt_eval
    print(f"prompt of {n_prompt} tokens: evaluated in {prompt_eval:.3f} s")
    print(
        f"{n} samples of 16 tokens: {n_samples:.3f} s; one prompt eval + {n} generations "
        f"= {prompt_eval + n * generation:.3f} s; without reuse ~{n * one:.3f} s"
    )


if __name__ == "__main__":
    main()
