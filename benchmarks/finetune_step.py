"""Seconds per AdamW step on the embedded SmolLM2-135M, LoRA vs full fine-tuning.

The issue sized its CPU budgets on ~7.5 s per step at batch 8 x 128 tokens (2 cores); this
prints the measured step time of each mode at batch 8 on real maze prompts (~115 tokens),
against that figure. Usage: python benchmarks/finetune_step.py [STEPS]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from quicktakes.llm import SampleCache
from quicktakes.llm.hf import HFBackend
from quicktakes.maze.grid import MazeConfig, maze_for_seed
from quicktakes.maze.policy import LLMPolicy, state_text
from quicktakes.maze.train import TrainConfig, train_steps

ISSUE_SECONDS = 7.5


def step_seconds(finetune: str, steps: int) -> tuple[float, int]:
    backend = HFBackend(seed=0, finetune=finetune)  # type: ignore[arg-type]
    policy = LLMPolicy(backend, SampleCache())
    mazes = [maze_for_seed(MazeConfig(), s) for s in range(8 * steps)]
    convs = [policy.messages(state_text(m, m.start, frozenset(), 12)) for m in mazes]
    tokens = len(backend.tokenizer(backend.prompts(convs[:1]))["input_ids"][0])
    cfg = TrainConfig(finetune=finetune, epochs=1, batch=8)
    rng = np.random.default_rng(0)
    train_steps(backend, convs[:8], [0] * 8, [1.0] * 8, cfg, rng)  # warm-up
    start = time.perf_counter()
    train_steps(backend, convs, [0] * len(convs), [1.0] * len(convs), cfg, rng)
    return (time.perf_counter() - start) / steps, tokens


def main(steps: int) -> None:
    for finetune in ("lora", "full"):
        sec, tokens = step_seconds(finetune, steps)
        print(
            f"{finetune}: {sec:.2f} s per AdamW step (batch 8 x {tokens} tokens, {steps} steps); "
            f"issue's figure {ISSUE_SECONDS} s; issue/measured = {ISSUE_SECONDS / sec:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
