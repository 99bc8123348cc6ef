"""The maze lab's scoring throughput against the model's plain batched forward pass.

Plays lockstep episodes on held-out mazes through the lab (env steps, prompts, the sample
cache, seeded draws) with the trainable torch backend, counting scored states per second
and prompt tokens per second, then times one plain batched forward pass (last position
only) over the same prompts on the same machine, and prints the ratio: what the lab's
plumbing costs on top of the model itself.

Usage: python benchmarks/lab_throughput.py [MAZES] [OBS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

from quicktakes.llm import SampleCache
from quicktakes.llm.hf import HFBackend
from quicktakes.maze.env import observation
from quicktakes.maze.grid import MazeConfig, maze_seeds
from quicktakes.maze.methods import episodes
from quicktakes.maze.oracle import MazeBank
from quicktakes.maze.policy import LLMPolicy


def main(mazes: int, obs: str) -> None:
    backend = HFBackend(seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        policy = LLMPolicy(backend, SampleCache(Path(tmp) / "c.db"), obs=observation(obs))
        bank = MazeBank(MazeConfig())
        seeds = maze_seeds("test", mazes)
        start = time.perf_counter()
        groups = episodes(policy, bank, seeds, 1, 0, "bench")
        lab = time.perf_counter() - start
    texts = [s for g in groups for t in g for s in t.states]
    convs = [policy.messages(t) for t in texts]
    ids = backend._ids(convs)
    tokens = sum(map(len, ids))
    batch = len(seeds)
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(ids), batch):  # padded, every prompt read whole: no sharing
            enc = backend.tokenizer.pad({"input_ids": ids[i : i + batch]}, return_tensors="pt")
            backend.last_logits(enc.to(backend.device))
    plain = time.perf_counter() - start
    print(
        f"lab: {len(texts)} states in {lab:.1f} s = {len(texts) / lab:.1f} states/s, "
        f"{tokens / lab:,.0f} prompt tokens/s ({obs}, lockstep batches of <= {batch}); "
        f"plain batched forward: {len(texts) / plain:.1f} states/s; "
        f"lab/plain = {plain / lab:.2f}x of the model's own speed",
        flush=True,
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 24, args[1] if len(args) > 1 else "coins")
