"""The maze lab's scoring throughput against the model's plain batched forward pass.

Plays lockstep episodes on held-out mazes through the lab (env steps, prompts, the sample
cache, seeded draws) with the trainable torch backend, counting scored states per second
and prompt tokens per second, then times one plain batched forward pass (last position
only) over the same prompts on the same machine, and prints the ratio: what the lab's
plumbing costs on top of the model itself.

Also prints the machine's roofline for this work: matmul GFLOP/s measured at the model's own
shapes (rows = a lockstep batch's prompt tokens, in the precision the backend runs), divided
by the FLOPs one scored state costs (2 x the transformer's linear weights x its prompt
tokens, plus the output head at the last position), is the states/s no implementation
without prefix sharing can beat here; the lab's states/s is reported as a share of it.

The default batch is a training update's: 16 mazes x 4 sampled episodes in lockstep (64
rows); `MAZES 1` is an evaluation's shape. The frozen base is stored in bf16 under bf16
autocast (`HFBackend.bf16_base`); `--fp32-base` times the old layout beside it.

Where the rest goes (torch's profiler, 64 rows on the 2-core native-bf16 machine): the
matmuls run at about half the roofline's rate, and the elementwise work between them (RMSNorm
in fp32, SiLU, rotary, the casts into each linear layer, LoRA's side path) takes as long as
they do. Fusing it is what `torch.compile` does: 1.85x on one fixed 64 x 40 batch, after 49 s
of compiling per shape, with logits that differ in the last bf16 bit. The lab's lockstep
batches change shape at every step, so it is not used.

Usage: python benchmarks/lab_throughput.py [MAZES] [SAMPLES] [OBS] [--fp32-base]
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


class Fp32Base(HFBackend):
    bf16_base = False


def main(mazes: int, samples: int, obs: str, fp32_base: bool) -> None:
    backend = (Fp32Base if fp32_base else HFBackend)(seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        policy = LLMPolicy(backend, SampleCache(Path(tmp) / "c.db"), obs=observation(obs))
        bank = MazeBank(MazeConfig())
        seeds = maze_seeds("test", mazes)
        start = time.perf_counter()
        groups = episodes(policy, bank, seeds, samples, 0, "bench")
        lab = time.perf_counter() - start
    texts = [s for g in groups for t in g for s in t.states]
    convs = [policy.messages(t) for t in texts]
    ids = backend._ids(convs)
    tokens = sum(map(len, ids))
    batch = len(seeds) * samples
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(ids), batch):  # padded, every prompt read whole: no sharing
            enc = backend.tokenizer.pad({"input_ids": ids[i : i + batch]}, return_tensors="pt")
            backend.last_logits(enc.to(backend.device))
    plain = time.perf_counter() - start
    stored = "fp32" if fp32_base or not backend.autocast else "bf16"
    flops, gflops = roofline(backend, tokens / len(texts), batch)
    limit = gflops * 1e9 / flops
    print(
        f"roofline: {flops / 1e9:.1f} GFLOP per scored state ({tokens / len(texts):.0f} prompt "
        f"tokens), matmuls at the model's shapes {gflops:,.0f} GFLOP/s "
        f"({'bf16' if backend.autocast else 'fp32'}, base stored {stored}): "
        f"at most {limit:.1f} states/s without prefix sharing; "
        f"the lab reaches {len(texts) / lab / limit:.2f} of it",
        flush=True,
    )
    print(
        f"lab: {len(texts)} states in {lab:.1f} s = {len(texts) / lab:.1f} states/s, "
        f"{tokens / lab:,.0f} prompt tokens/s ({obs}, lockstep batches of <= {batch}); "
        f"plain batched forward: {len(texts) / plain:.1f} states/s; "
        f"lab/plain = {plain / lab:.2f}x of the model's own speed",
        flush=True,
    )


def roofline(backend: HFBackend, tokens_per_state: float, batch: int) -> tuple[float, float]:
    """(FLOPs per scored state, measured matmul GFLOP/s at the model's linear shapes)."""
    linears = [m for name, m in backend.model.named_modules()
               if isinstance(m, torch.nn.Linear) and "lm_head" not in name]
    weights = sum(m.in_features * m.out_features for m in linears)
    config = backend.model.config
    head = 2 * config.hidden_size * config.vocab_size
    flops = 2 * weights * tokens_per_state + head
    rows = max(1, int(tokens_per_state * batch))
    shapes = sorted({(m.in_features, m.out_features) for m in linears})
    dtype = torch.bfloat16 if backend.autocast else torch.float32
    done, spent = 0.0, 0.0
    with torch.no_grad():
        for k, n in shapes:
            a = torch.randn(rows, k, dtype=dtype)
            w = torch.randn(k, n, dtype=dtype)
            a @ w  # warm
            start = time.perf_counter()
            reps = 10
            for _ in range(reps):
                a @ w
            spent += time.perf_counter() - start
            done += 2.0 * rows * k * n * reps
    return float(flops), done / spent / 1e9


if __name__ == "__main__":
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(
        int(args[0]) if args else 16,
        int(args[1]) if len(args) > 1 else 4,
        args[2] if len(args) > 2 else "coins",
        "--fp32-base" in flags,
    )
