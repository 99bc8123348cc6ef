"""Per-example gradients: torch.func (vmap over grad) vs a loop of backward() calls.

Same MLP, same N >= P pairs, as one steering round needs them. Prints the ratio.
"""

from __future__ import annotations

import time

import torch

from quicktakes.reward.steering import mlp, per_example_grads, per_example_grads_loop


def best_of(fn, *args, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    torch.manual_seed(0)
    for hidden in ((16, 16), (32, 32)):
        model = mlp(4, hidden)
        P = sum(p.numel() for p in model.parameters())
        N = 2 * P
        x = torch.randn(N, 4, dtype=torch.float64)
        y = torch.randn(N, dtype=torch.float64)
        fast = best_of(per_example_grads, model, x, y)
        slow = best_of(per_example_grads_loop, model, x, y)
        print(
            f"hidden={list(hidden)} P={P} N={N}: torch.func {fast * 1e3:.1f} ms "
            f"(loss and output gradients), backward loop {slow * 1e3:.1f} ms, "
            f"ratio {slow / fast:.1f}x"
        )


if __name__ == "__main__":
    main()
