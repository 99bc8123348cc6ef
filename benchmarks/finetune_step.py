"""Seconds per AdamW step on the embedded SmolLM2-135M: LoRA vs full fine-tuning, fp32 vs
bf16 autocast, on the lab's prompts (the compact `coins` observation and the `grid` one), and
whether the two precisions choose the same moves; then, for LoRA under autocast, the batch's
shared opening (system prompt and chat markup) read once against every row reading it.

Usage: python benchmarks/finetune_step.py [STEPS]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

import quicktakes.llm.hf as hf
from quicktakes.llm import SampleCache
from quicktakes.llm.hf import HFBackend
from quicktakes.maze.env import OBSERVATIONS, start_state
from quicktakes.maze.grid import maze_for_seed
from quicktakes.maze.policy import LLMPolicy
from quicktakes.maze.spec import DEFAULT_MAZE, LabSpec
from quicktakes.maze.train import Update, move_log_probs, train_steps


def convs_for(backend: HFBackend, obs: str, count: int) -> list:
    o = OBSERVATIONS[obs]
    policy = LLMPolicy(backend, SampleCache(), obs=o)
    mazes = [maze_for_seed(DEFAULT_MAZE, s) for s in range(count)]
    return [policy.messages(o.render(m, start_state(m), "step")) for m in mazes]


def step_seconds(backend: HFBackend, convs: list, finetune: str, steps: int) -> float:
    spec = LabSpec(method="sft-iter", finetune=finetune, epochs=1, batch=8)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    data = Update(convs, np.eye(4)[np.zeros(len(convs), int)])
    train_steps(backend, data.subset(np.arange(8)), spec, rng)  # warm-up
    start = time.perf_counter()
    train_steps(backend, data.subset(np.arange(8 * steps)), spec, rng)
    return (time.perf_counter() - start) / steps


def main(steps: int) -> None:
    for finetune in ("lora", "full"):
        backend = HFBackend(seed=0, finetune=finetune)  # type: ignore[arg-type]
        for obs in ("coins", "grid"):
            convs = convs_for(backend, obs, 8 * steps)
            tokens = len(backend.tokenizer(backend.prompts(convs[:1]))["input_ids"][0])
            times = {}
            for autocast in (False, True):
                backend.reset()
                backend.autocast = autocast
                times[autocast] = step_seconds(backend, convs, finetune, steps)
            backend.reset()
            with torch.no_grad():
                backend.autocast = False
                a = move_log_probs(backend, convs[:32], 1.0).argmax(1)
                backend.autocast = True
                b = move_log_probs(backend, convs[:32], 1.0).argmax(1)
            agree = float((a == b).float().mean())
            print(
                f"{finetune:4} {obs:5} (batch 8 x {tokens} tokens): fp32 "
                f"{times[False]:.2f} s/step, bf16 autocast {times[True]:.2f} s/step, ratio "
                f"{times[False] / times[True]:.2f}x; greedy moves agree on {agree:.0%} of 32 "
                "states",
                flush=True,
            )

    backend = HFBackend(seed=0)
    for obs in ("coins", "grid"):
        convs = convs_for(backend, obs, 8 * steps)
        times = {}
        for minimum in (10**9, hf.PREFIX_MIN):  # never shared, then the backend's rule
            saved, hf.PREFIX_MIN = hf.PREFIX_MIN, minimum
            try:
                backend.reset()
                times[minimum] = step_seconds(backend, convs, "lora", steps)
            finally:
                hf.PREFIX_MIN = saved
        plain, shared = times[10**9], times[hf.PREFIX_MIN]
        print(
            f"lora {obs:5} bf16: every row reads the whole prompt {plain:.2f} s/step, the "
            f"shared opening read once {shared:.2f} s/step, ratio {plain / shared:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
