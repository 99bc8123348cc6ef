"""The take's footnote, measured: are RL's and poor man's RL's updates alike, and does few-shot
prompting move the model the way SFT on the same examples does?

Everything is read at one anchor, the base model, from independent batches of sampled
episodes (repetitions):
- weights: the raw gradient of each method's loss on the same batch, for the dense matrices
  LoRA targets (no optimizer, so nothing of Adam's is in it; at the anchor the PPO ratio is 1
  and the KL term's gradient is 0, so RL's gradient is the policy gradient). Nulls: RL with
  its advantages permuted, SFT on a random (not the best) episode. Ceilings: the same method
  on two independent batches (this repetition's and the previous one's). Arms: the gradient
  (an SGD step) and AdamW's first step from a fresh state, g / (|g| + eps), which is Adam's
  sign pattern, and LoRA's first AdamW step as the weight change it makes (what an update of
  the adapter does, B = 0 at the anchor); and function space: the change in the move
  log-probabilities on fixed held-out probe states after a small step along each gradient.
- behaviour: few-shot prompting with the batch's top-K (state, move) pairs against LoRA SFT
  on exactly those pairs, beside a same-length prompt of random sampled pairs, judged against
  the untouched base model on the probe states.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, Field

from quicktakes.llm.precision import Precision
from quicktakes.maze.grid import MOVES, MazeConfig, maze_seeds
from quicktakes.maze.policy import Trajectory
from quicktakes.maze.spec import DEFAULT_MAZE, LabSpec
from quicktakes.progress import Note

SPACES = ("gradient", "adam step", "lora adam step", "function")
"""Where updates are compared: the raw gradient (an SGD step), AdamW's first step on the
dense weights and on the LoRA adapter (as the weight change it makes), and the change in
move log-probabilities on the probe states."""
PAIRS = ("sft~rl", "sft~rl permuted", "sft random~rl", "sft~sft'", "rl~rl'", "sft~rl'")
"""The cosines read per repetition. A prime is the previous repetition's batch: the same
method on an independent batch (the ceiling), and the two methods across batches."""
DISTANCES = ("few-shot~sft", "random few-shot~sft", "base~sft", "base~few-shot")
"""KL(first || second) on the probe states, averaged per repetition."""
MAX_DRAWS = 2
"""Batches drawn per repetition at most: one without coins (no best episode to imitate, no
reward difference to credit) is drawn again."""
ADAM_EPS = 1e-8
"""torch.optim.AdamW's default eps: its first step is lr * g / (|g| + eps)."""
PROBE_STEP = 2e-6
"""Function space: a step along a gradient whose norm is this share of the targeted
matrices' norm, which moves log pi by hundredths of a nat: small enough to be linear
(opposite steps give opposite changes, tested), large enough for fp32."""


class AlikeSpec(BaseModel):
    reps: int = Field(3, ge=2, le=100, description="independent batches of episodes")
    samples: int = Field(4, ge=2, le=64, description="episodes per training maze")
    train_mazes: int = Field(2, ge=1, le=1000)
    test_mazes: int = Field(6, ge=1, le=1000, description="held-out mazes the probes come from")
    probes: int = Field(24, ge=2, le=4096, description="held-out probe states")
    shots: int = Field(8, ge=1, le=64, description="K: examples in the prompt and in SFT")
    sft_epochs: int = Field(4, ge=1, le=50, description="behaviour: passes of SFT over the K")
    obs: str = "coins"
    maze: MazeConfig = Field(default_factory=lambda: DEFAULT_MAZE.model_copy())
    precision: Precision = Field("auto", description="torch forward passes (see LabSpec)")
    seed: int = 0


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0


def mean_kl(p: np.ndarray, q: np.ndarray) -> float:
    """Mean KL(p || q) over rows of log-probabilities (the trainer's `kl_rows`)."""
    from quicktakes.maze.train import kl_rows

    return float(kl_rows(torch.from_numpy(p), torch.from_numpy(q)).mean())


def random_band(dim: int) -> float:
    """95% of |cos| between independent random directions in `dim` dimensions lie below this."""
    return 1.96 / np.sqrt(dim)


def adam_first_step(g: np.ndarray) -> np.ndarray:
    """The direction of AdamW's first step from a fresh state (bias-corrected m = g, v = g^2):
    every coordinate moves by about the rate, whatever its gradient's size."""
    return g / (np.abs(g) + ADAM_EPS)


def target_modules(backend: Any) -> list[Any]:
    """The modules the LoRA adapter targets (wrapped or not), in a fixed order."""
    return [
        module for name, module in sorted(backend.model.named_modules())
        if name.split(".")[-1] in backend.lora_targets
    ]


def lora_layers(backend: Any) -> list[Any]:
    """The LoRA-wrapped target modules, in `targeted`'s order."""
    return [m for m in target_modules(backend) if hasattr(m, "lora_A")]


def lora_delta(module: Any, before: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """The effective weight change of one LoRA module since `before` = (A, B):
    s * (B'A' - BA), what merging the adapter adds to the weight."""
    a, b = module.lora_A["default"].weight, module.lora_B["default"].weight
    s = module.scaling["default"]
    return (s * (b @ a - before[1] @ before[0])).detach()


def lora_first_step(backend: Any, g: np.ndarray) -> np.ndarray:
    """LoRA's first AdamW step from B = 0, as the weight change it makes, from the dense
    gradient G of each targeted matrix: dL/dB = s G A^T (dL/dA = 0 while B = 0), Adam moves
    B by the rate times dL/dB / (|dL/dB| + eps), and the weight by s dB A; flattened like
    `gradients`, signed like a gradient."""
    out, offset = [], 0
    for module in lora_layers(backend):
        w = module.base_layer.weight
        grad = torch.as_tensor(g[offset : offset + w.numel()]).view_as(w).double()
        offset += w.numel()
        a = module.lora_A["default"].weight.detach().double().cpu()
        s = module.scaling["default"]
        db = s * grad @ a.T
        out.append((s * (db / (db.abs() + ADAM_EPS)) @ a).flatten().float().numpy())
    return np.concatenate(out)


def centered(logp: np.ndarray) -> np.ndarray:
    """Log-probabilities up to each state's constant: what a change of logits can move."""
    return logp - logp.mean(axis=1, keepdims=True)


@dataclass
class AlikeRep:
    """One repetition's numbers."""

    cosines: dict[str, dict[str, float]] = field(default_factory=dict)
    """space -> pair -> cosine (the primed pairs from the second repetition on)."""
    kl: dict[str, float] = field(default_factory=dict)
    pairs: dict[str, int] = field(default_factory=dict)
    """How many (state, move) pairs each loss read."""


@dataclass
class AlikeResult:
    config: AlikeSpec
    dim: int
    reps: list[AlikeRep] = field(default_factory=list)
    skipped: int = 0
    """Batches drawn with no coins to learn from (redrawn, up to `MAX_DRAWS` x reps)."""

    def values(self, space: str, pair: str) -> list[float]:
        return [r.cosines[space][pair] for r in self.reps if pair in r.cosines.get(space, {})]

    def kls(self, name: str) -> list[float]:
        return [r.kl[name] for r in self.reps if name in r.kl]


def targeted(backend: Any) -> list[torch.nn.Parameter]:
    """The dense weight matrices the LoRA adapter targets, in a fixed order."""
    return [getattr(m, "base_layer", m).weight for m in target_modules(backend)]


@contextlib.contextmanager
def dense_grads(backend: Any) -> Iterator[list[torch.nn.Parameter]]:
    """Gradients for the targeted dense matrices only (the adapter's are not needed)."""
    params = list(backend.model.parameters())
    before = [p.requires_grad for p in params]
    weights = targeted(backend)
    for p in params:
        p.requires_grad_(False)
    for w in weights:
        w.requires_grad_(True)
        w.grad = None
    try:
        yield weights
    finally:
        for w in weights:
            w.grad = None
        for p, flag in zip(params, before, strict=True):
            p.requires_grad_(flag)


def gradients(
    log_probs: Callable[[slice], torch.Tensor], n: int, weights: Sequence[torch.Tensor],
    coefs: dict[str, np.ndarray], batch: int = 8,
) -> dict[str, np.ndarray]:
    """For each named loss L = -sum(coef * log pi) / (rows with a coefficient), its gradient
    with respect to `weights`, flattened. `log_probs(rows)` is log pi over the four moves for
    a slice of the `n` states: one forward pass per chunk serves every loss (a backward pass
    each, skipped where a loss has no coefficient in the chunk)."""
    counts = {k: max(1, int((np.abs(c).sum(axis=1) > 0).sum())) for k, c in coefs.items()}
    acc = {k: [torch.zeros_like(w, dtype=torch.float32) for w in weights] for k in coefs}
    for start in range(0, n, batch):
        part = slice(start, start + batch)
        live = [k for k, c in coefs.items() if np.abs(c[part]).sum() > 0]
        if not live:
            continue
        logp = log_probs(part)
        for j, k in enumerate(live):
            c = torch.as_tensor(coefs[k][part], dtype=logp.dtype, device=logp.device)
            loss = -(c * logp).sum() / counts[k]
            grads = torch.autograd.grad(loss, list(weights), retain_graph=j < len(live) - 1)
            for a, g in zip(acc[k], grads, strict=True):
                a += g
    return {k: torch.cat([p.flatten() for p in v]).float().cpu().numpy() for k, v in acc.items()}


def model_gradients(
    backend: Any, convs: Sequence[Any], coefs: dict[str, np.ndarray], temperature: float
) -> dict[str, np.ndarray]:
    """`gradients` of the model's move policy on `convs`, for the dense targeted matrices."""
    from quicktakes.maze.train import move_log_probs

    with dense_grads(backend) as weights:
        return gradients(
            lambda rows: move_log_probs(backend, convs[rows], temperature), len(convs),
            weights, coefs,
        )


def probe_log_probs(backend: Any, convs: Sequence[Any], temperature: float) -> np.ndarray:
    from quicktakes.maze.train import batched_log_probs

    return batched_log_probs(backend, convs, temperature, 16).cpu().numpy()


@contextlib.contextmanager
def fp32(backend: Any) -> Iterator[None]:
    """Full precision for a while: a small step's change would drown in bf16's rounding."""
    before = backend.autocast
    backend.autocast = False
    try:
        yield
    finally:
        backend.autocast = before


def function_change(
    backend: Any, direction: np.ndarray, convs: Sequence[Any], base: np.ndarray,
    temperature: float,
) -> np.ndarray:
    """The change in centered log pi on the probe states after a small step down `direction`
    (flattened like `gradients`), per unit of step; the weights are put back exactly."""
    with fp32(backend):  # the step lands on the fp32 weights, not on bf16 copies of them
        weights = targeted(backend)
        scale = float(torch.stack([w.detach().double().norm() for w in weights]).norm())
        size = PROBE_STEP * scale / max(float(np.linalg.norm(direction)), 1e-30)
        saved = [w.detach().clone() for w in weights]
        offset = 0
        with torch.no_grad():
            for w in weights:
                n = w.numel()
                step = torch.as_tensor(direction[offset : offset + n], device=w.device)
                w.sub_(size * step.view_as(w).to(w.dtype))
                offset += n
        try:
            after = probe_log_probs(backend, convs, temperature)
        finally:
            with torch.no_grad():
                for w, s in zip(weights, saved, strict=True):
                    w.copy_(s)
    return np.asarray((centered(after) - centered(base)).flatten() / PROBE_STEP)


def losses(
    groups: list[list[Trajectory]], rng: np.random.Generator
) -> tuple[list[str], dict[str, np.ndarray]]:
    """The batch's states that some loss reads, and for each loss its coefficient on each
    state's four log-probabilities: SFT on each maze's best episode up to its last coin (as
    `train.sft_data` keeps); SFT on another episode of the same maze drawn at random, all its
    moves (without selection there is no last coin to stop at); RL's advantages
    (`train.advantages`); and those advantages permuted over the batch's moves. A state no
    loss reads costs a forward pass for nothing, so it is left out."""
    from quicktakes.maze.policy import best_per_maze
    from quicktakes.maze.train import advantages

    states: list[str] = []
    sft: list[np.ndarray] = []
    rand: list[np.ndarray] = []
    rl: list[np.ndarray] = []
    for g in groups:
        best = best_per_maze([g])[0]
        others = [t for t in g if t is not best]
        other = others[int(rng.integers(len(others)))] if others else None
        for t, credit in zip(g, advantages(g), strict=True):
            n = t.scoring_moves()
            for k, (text, move) in enumerate(zip(t.states, t.moves, strict=True)):
                row = np.eye(4)[move] if move >= 0 else np.zeros(4)
                states.append(text)
                sft.append(row * (t is best and k < n))
                rand.append(row * (t is other))
                rl.append(row * credit[k])
    a = np.array(rl)
    valid = np.flatnonzero(a.any(axis=1))
    moved = a.copy()
    moved[valid] = a[valid][rng.permutation(len(valid))].sum(axis=1)[:, None] * (a[valid] != 0)
    coefs = {"sft": np.array(sft), "sft random": np.array(rand), "rl": a, "rl permuted": moved}
    keep = np.flatnonzero(sum(np.abs(c).sum(axis=1) for c in coefs.values()) > 0)
    return [states[i] for i in keep], {k: c[keep] for k, c in coefs.items()}


def measure_alike(
    cfg: AlikeSpec, note: Note | None = None, trainer: object | None = None
) -> AlikeResult:
    from quicktakes.llm import SampleCache
    from quicktakes.llm.hf import HFBackend
    from quicktakes.maze.env import observation
    from quicktakes.maze.methods import best_examples, episodes
    from quicktakes.maze.oracle import MazeBank, optimal_rollout
    from quicktakes.maze.policy import LLMPolicy, best_per_maze
    from quicktakes.maze.train import Update, train_steps

    say = note or (lambda s: None)
    backend = (
        trainer
        if isinstance(trainer, HFBackend)
        else HFBackend(seed=cfg.seed, precision=cfg.precision)
    )
    backend.reset()
    spec = LabSpec(method="sft-iter", obs=cfg.obs, maze=cfg.maze, seed=cfg.seed,
                   epochs=cfg.sft_epochs, batch=cfg.shots, precision=backend.precision)
    obs = observation(cfg.obs)
    policy = LLMPolicy(backend, SampleCache(), "step", spec.temperature, obs=obs)
    mazes = MazeBank(cfg.maze)
    train = maze_seeds("train", cfg.train_mazes)
    rng = np.random.default_rng(cfg.seed)
    held = [
        obs.render(sol.maze, s, "step")
        for sol in (mazes(m) for m in maze_seeds("test", cfg.test_mazes))
        for s, _ in optimal_rollout(sol)
    ]
    held = [held[i] for i in np.sort(rng.permutation(len(held))[: cfg.probes])]
    plain = [policy.messages(t) for t in held]
    base = probe_log_probs(backend, plain, spec.temperature)
    with fp32(backend):
        base32 = probe_log_probs(backend, plain, spec.temperature)
    result = AlikeResult(cfg, sum(w.numel() for w in targeted(backend)))

    def prompted(examples: list[tuple[str, str]]) -> np.ndarray:
        policy.examples = examples
        convs = [policy.messages(t) for t in held]
        policy.examples = []
        return probe_log_probs(backend, convs, spec.temperature)

    previous: dict[str, dict[str, np.ndarray]] | None = None
    for draw in range(MAX_DRAWS * cfg.reps):
        if len(result.reps) == cfg.reps:
            break
        r = len(result.reps)
        say(f"updates-alike: batch {r + 1}/{cfg.reps}, sampling")
        groups = episodes(policy, mazes, train, cfg.samples, cfg.seed, f"alike-{draw}")
        best = best_per_maze(groups)
        states, coefs = losses(groups, rng)
        if coefs["sft"].sum() < 2 or not coefs["rl"].any():
            say(f"updates-alike: batch {r + 1} had no coins to learn from; drawing another")
            result.skipped += 1
            continue
        convs = [policy.messages(t) for t in states]
        say(f"updates-alike: batch {r + 1}/{cfg.reps}, gradients on {len(states)} states")
        grads = model_gradients(backend, convs, coefs, spec.temperature)
        vectors = {
            "gradient": grads,
            "adam step": {k: adam_first_step(v) for k, v in grads.items()},
            "lora adam step": {k: lora_first_step(backend, v) for k, v in grads.items()},
            "function": {
                k: function_change(backend, v, plain, base32, spec.temperature)
                for k, v in grads.items()
            },
        }
        rep = AlikeRep(pairs={k: int((np.abs(c).sum(axis=1) > 0).sum()) for k, c in coefs.items()})
        for space, v in vectors.items():
            c = {
                "sft~rl": cosine(v["sft"], v["rl"]),
                "sft~rl permuted": cosine(v["sft"], v["rl permuted"]),
                "sft random~rl": cosine(v["sft random"], v["rl"]),
            }
            if previous is not None:
                p = previous[space]
                c |= {
                    "sft~sft'": cosine(v["sft"], p["sft"]),
                    "rl~rl'": cosine(v["rl"], p["rl"]),
                    "sft~rl'": (cosine(v["sft"], p["rl"]) + cosine(p["sft"], v["rl"])) / 2,
                }
            rep.cosines[space] = c
        previous = {s: {k: v[k] for k in ("sft", "rl")} for s, v in vectors.items()}
        del grads, vectors

        say(f"updates-alike: batch {r + 1}/{cfg.reps}, few-shot vs SFT on the same examples")
        examples = best_examples(best, cfg.shots)
        pool = [(t.states[k], MOVES[m]) for g in groups for t in g
                for k, m in enumerate(t.moves) if m >= 0]
        random_examples = [pool[j] for j in rng.choice(len(pool), size=len(examples),
                                                        replace=False)] if examples else []
        if examples:
            few, few_random = prompted(examples), prompted(random_examples)
            data = Update([policy.messages(s) for s, _ in examples],
                          np.eye(4)[[MOVES.index(m) for _, m in examples]])
            train_steps(backend, data, spec, rng)
            sft = probe_log_probs(backend, plain, spec.temperature)
            backend.reset()
            rep.kl = {
                "few-shot~sft": mean_kl(few, sft),
                "random few-shot~sft": mean_kl(few_random, sft),
                "base~sft": mean_kl(base, sft),
                "base~few-shot": mean_kl(base, few),
            }
        result.reps.append(rep)
    backend.reset()
    return result
