"""Maze states scored per second through a vLLM server on loopback (exact scores: one
request per state and move), at concurrency 1, 4 and 16, against the in-process torch
backend on the same prompts in the same run (the baseline), fp32 on both sides, with the
largest difference of their scores over the four moves.

Starts the server itself from .venv-vllm (`python3 dev.py test` builds it), or uses
`--base-url` of one already running the embedded model's dequantized folder.

Usage: python benchmarks/serving.py [--states 32] [--base-url URL]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    import torch

    from quicktakes.llm.hf import HFBackend, dequantized_dir
    from quicktakes.llm.local import embedded_model_path
    from quicktakes.llm.remote import OpenAIBackend, over_candidates
    from quicktakes.llm.vllm import VLLMServer
    from quicktakes.maze.env import probe_conversations
    from quicktakes.maze.grid import MOVES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", type=int, default=32)
    ap.add_argument("--base-url", help="a running server (default: start one)")
    args = ap.parse_args()
    folder = dequantized_dir(embedded_model_path())
    convs = probe_conversations(args.states)
    server = None
    if args.base_url:
        url = args.base_url
    else:
        t = time.perf_counter()
        server = VLLMServer(ROOT / ".venv-vllm" / "bin" / "python", folder).start()
        url = server.url
        print(f"vLLM ready in {time.perf_counter() - t:.0f} s")
    try:
        torch_be = HFBackend(folder, seed=0, finetune="lora", precision="fp32")
        torch_be.score_batch(convs[:2], list(MOVES))  # warm
        t = time.perf_counter()
        ours = torch_be.score_batch(convs, list(MOVES))
        base = args.states / (time.perf_counter() - t)
        print(f"capability {torch.backends.cpu.get_cpu_capability()}, "
              f"{torch.get_num_threads()} torch threads, fp32, {args.states} states x 4 moves")
        print(f"torch in-process, one batch:   {base:7.2f} states/s  (baseline)")
        for k in (1, 4, 16):
            be = OpenAIBackend(url, concurrency=k)
            be.score_batch(convs[:1], list(MOVES))  # warm, and find the exact path
            t = time.perf_counter()
            theirs = be.score_batch(convs, list(MOVES))
            rate = args.states / (time.perf_counter() - t)
            gap = max(abs(a - b) for r, q in zip(theirs, ours, strict=True)
                      for a, b in zip(over_candidates(r), over_candidates(q), strict=True))
            print(f"vLLM, concurrency {k:2d}:          {rate:7.2f} states/s  "
                  f"{rate / base:.2f} x torch  (exact: {be.exact}; largest gap {gap:.1e})")
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
