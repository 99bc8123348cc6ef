"""fp32 against bf16 autocast on this machine: one scoring forward pass and one LoRA training
step of the embedded SmolLM2-135M on the lab's coins prompts, what `--precision auto` picks
here, and whether the two precisions choose the same greedy moves. The baseline is fp32:
a ratio above 1 means bf16 is faster here, and auto should have picked it.

Usage: python benchmarks/precision.py [REPEATS] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from quicktakes.llm import SampleCache
from quicktakes.llm.hf import HFBackend
from quicktakes.llm.precision import cpu_capability, native_bf16, resolve
from quicktakes.maze.env import OBSERVATIONS, start_state
from quicktakes.maze.grid import maze_for_seed
from quicktakes.maze.policy import LLMPolicy
from quicktakes.maze.spec import DEFAULT_MAZE, LabSpec
from quicktakes.maze.train import Update, move_log_probs, train_steps

BATCH = 8


def best_of(repeats: int, fn) -> float:
    """The fastest of `repeats` timed calls, after one warm-up (the least disturbed one)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(repeats: int, threads: int | None) -> None:
    backend = HFBackend(seed=0, threads=threads, precision="fp32")
    obs = OBSERVATIONS["coins"]
    policy = LLMPolicy(backend, SampleCache(), obs=obs)
    mazes = [maze_for_seed(DEFAULT_MAZE, s) for s in range(64)]
    convs = [policy.messages(obs.render(m, start_state(m), "step")) for m in mazes]
    tokens = len(backend.tokenizer(backend.prompts(convs[:1]))["input_ids"][0])
    spec = LabSpec(method="sft-iter", epochs=1, batch=BATCH)
    data = Update(convs[:BATCH], np.eye(4)[np.zeros(BATCH, int)])
    forward, step, moves = {}, {}, {}
    for precision in ("fp32", "bf16"):
        backend.autocast = precision == "bf16"
        backend.reset()
        with torch.no_grad():
            forward[precision] = best_of(
                repeats, lambda: move_log_probs(backend, convs[:BATCH], 1.0)
            )
            moves[precision] = move_log_probs(backend, convs, 1.0).argmax(1)
        rng = np.random.default_rng(0)
        step[precision] = best_of(
            repeats, lambda rng=rng: train_steps(backend, data, spec, rng)
        )
    agree = float((moves["fp32"] == moves["bf16"]).float().mean())
    print(
        f"cpu capability {cpu_capability()}; native bf16: {native_bf16('cpu')}; "
        f"--precision auto picks {resolve('auto', 'cpu')}; {torch.get_num_threads()} threads"
    )
    for name, t in (("forward pass (scoring)", forward), ("LoRA training step", step)):
        print(
            f"{name}, {BATCH} prompts x {tokens} tokens: fp32 {t['fp32']:.3f} s, bf16 "
            f"autocast {t['bf16']:.3f} s, ratio fp32/bf16 {t['fp32'] / t['bf16']:.2f}x"
        )
    print(f"greedy moves agree on {agree:.0%} of {len(convs)} start states")
    faster = "bf16" if step["bf16"] < step["fp32"] else "fp32"
    verdict = "right" if faster == resolve("auto", "cpu") else "WRONG"
    print(f"the faster training step here is {faster}: auto's pick is {verdict}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("repeats", nargs="?", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    main(a.repeats, a.threads)
