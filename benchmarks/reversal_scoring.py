"""Reversal-curse scoring: each prompt's cache shared by its candidates vs prompt + candidate
run per pair (the padded batches `insights.reversal` used until 2026-12-03, kept here as the
baseline).

Scores every fact against every candidate, as one checkpoint of the claim does, in the three
directions, on the embedded weights at the precision `auto` picks; checks that both give the
same ranks, and prints the seconds and the ratio per direction:

    python benchmarks/reversal_scoring.py [--facts 24]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
import torch

from quicktakes.insights import reversal
from quicktakes.insights.facts import make_facts
from quicktakes.llm.hf import HFBackend


def padded_logprobs(
    backend: HFBackend, pairs: Sequence[tuple[str, str]], batch: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """The baseline: prompt + completion per row, left-padded, the last positions kept."""
    tok, dev = backend.tokenizer, backend.device
    logps, greedy = [], []
    with torch.no_grad():
        for start in range(0, len(pairs), batch):
            chunk = [(tok(p, add_special_tokens=False)["input_ids"],
                      tok(c, add_special_tokens=False)["input_ids"])
                     for p, c in pairs[start : start + batch]]
            keep = max(len(c) for _, c in chunk) + 1
            enc = tok.pad({"input_ids": [p + c for p, c in chunk]}, return_tensors="pt")
            ids, mask = enc["input_ids"], enc["attention_mask"]
            positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=backend.autocast):
                logits = backend.model(input_ids=ids.to(dev), attention_mask=mask.to(dev),
                                       position_ids=positions.to(dev),
                                       logits_to_keep=keep).logits
            logp = torch.log_softmax(logits.float(), dim=-1).cpu()
            for i, (_, c) in enumerate(chunk):
                target = torch.tensor(c)
                pred = logp[i, keep - 1 - len(c) : keep - 1]
                logps.append(float(pred.gather(1, target[:, None]).sum()))
                greedy.append(bool((pred.argmax(dim=1) == target).all()))
    return np.array(logps), np.array(greedy)


def timed(backend: HFBackend, facts: list, direction: str) -> tuple[float, tuple[int, ...]]:
    start = time.perf_counter()
    s = reversal.score_direction(backend, facts, direction, templates=1,  # type: ignore[arg-type]
                                 rng=np.random.default_rng(0))
    return time.perf_counter() - start, s.rank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=24)
    args = parser.parse_args()
    backend = HFBackend(seed=0)
    facts = make_facts(args.facts, np.random.default_rng(0))
    shared = reversal.completion_logprobs
    print(f"{args.facts} facts x {args.facts} candidates, one template, "
          f"bf16 autocast {backend.autocast}, {torch.get_num_threads()} threads")
    for direction in ("forward", "reverse", "in-context"):
        reversal.completion_logprobs = padded_logprobs  # type: ignore[assignment]
        slow, slow_ranks = timed(backend, facts, direction)
        reversal.completion_logprobs = shared
        fast, fast_ranks = timed(backend, facts, direction)
        same = sum(a == b for a, b in zip(slow_ranks, fast_ranks, strict=True))
        print(f"{direction:>10}: shared prompt {fast:6.1f} s, per pair {slow:6.1f} s, "
              f"ratio {slow / fast:.1f}x; same rank for {same}/{len(facts)} facts")


if __name__ == "__main__":
    main()
