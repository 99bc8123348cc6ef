"""Scoring and training throughput idle vs beside two busy-loop processes (issue 13).

On a 2-core machine two busy loops take about 2/3 of the CPU from a third process, so a
well-behaved backend should run at most ~3x slower beside them; spin-waiting worker threads
made it 15x. For each workload the script measures states (or steps) per second idle, then
with two `while True: pass` processes running, and prints the slowdown against the 3x target.

Usage: python benchmarks/busy_machine.py [--states N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time


def _spin() -> None:
    while True:
        pass


def score_local(n: int) -> float:
    """llama.cpp: score the four moves for `n` maze states, one prompt at a time."""
    from quicktakes.llm.local import LocalBackend
    from quicktakes.maze.env import OBSERVATIONS, start_state
    from quicktakes.maze.grid import maze_for_seed
    from quicktakes.maze.spec import DEFAULT_MAZE

    backend = LocalBackend()
    obs = OBSERVATIONS["coins"]
    convs = [
        [{"role": "system", "content": obs.system},
         {"role": "user", "content": obs.render(m, start_state(m), "step")}]
        for m in (maze_for_seed(DEFAULT_MAZE, 10_000 + i) for i in range(n))
    ]
    start = time.perf_counter()
    for c in convs:
        backend.score(c, list("UDLR"))
    return n / (time.perf_counter() - start)


def train_hf(steps: int) -> float:
    """torch: LoRA SFT steps of batch 8 on the embedded model."""
    import numpy as np

    from quicktakes.llm.hf import HFBackend
    from quicktakes.maze.env import OBSERVATIONS, start_state
    from quicktakes.maze.grid import maze_for_seed
    from quicktakes.maze.spec import DEFAULT_MAZE, LabSpec
    from quicktakes.maze.train import Update, train_steps

    backend = HFBackend()
    spec = LabSpec(method="oracle-bc", epochs=1, batch=8, max_pairs=8 * steps)
    obs = OBSERVATIONS["coins"]
    convs = [
        [{"role": "system", "content": obs.system},
         {"role": "user", "content": obs.render(m, start_state(m), "step")}]
        for m in (maze_for_seed(DEFAULT_MAZE, 20_000 + i) for i in range(8 * steps))
    ]
    targets = np.eye(4)[np.arange(len(convs)) % 4]
    update = Update(convs, targets)
    start = time.perf_counter()
    train_steps(backend, update, spec, np.random.default_rng(0))
    return steps / (time.perf_counter() - start)


def measure(name: str, fn, arg: int) -> None:  # noqa: ANN001 - a workload function
    idle = fn(arg)
    spinners = [mp.Process(target=_spin, daemon=True) for _ in range(2)]
    for p in spinners:
        p.start()
    try:
        time.sleep(1.0)  # let the scheduler see them
        busy = fn(arg)
    finally:
        for p in spinners:
            p.terminate()
    slow = idle / busy
    print(f"{name}: idle {idle:.2f}/s, beside 2 busy loops {busy:.2f}/s: {slow:.1f}x slower "
          f"(target <= 3x: {3 / slow:.2f}x)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", type=int, default=40)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    measure("llama.cpp scoring (states)", score_local, args.states)
    measure("torch LoRA training (steps)", train_hf, args.steps)


if __name__ == "__main__":
    main()
