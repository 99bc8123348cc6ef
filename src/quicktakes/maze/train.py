"""Poor man's RL (SFT on the best samples) and policy-gradient RL, on the same LLM policy.

The policy is the model's softmax over the four move tokens at the end of the prompt (what the
step mode samples from), so both updates are written on that distribution:
- SFT: cross-entropy of the kept move, i.e. the loss only on the action token;
- RL: REINFORCE with a per-maze group baseline (GRPO-style): -A * log pi(move | state).
A plain torch loop rather than TRL's SFTTrainer/GRPOTrainer: each target is a single token
read off one forward pass of a batch of prompts, which those trainers' sequence formatting
and generation loops would only wrap.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, Field, model_validator

from quicktakes.errors import ConfigError
from quicktakes.llm.base import Message
from quicktakes.llm.cache import SampleCache
from quicktakes.llm.hf import Finetune, HFBackend
from quicktakes.llm.remote import ServedAdapters
from quicktakes.maze.grid import MOVES, MazeConfig, maze_seeds
from quicktakes.maze.methods import (
    IterationResult,
    LabResult,
    _episodes,
    _invalid_rate,
    _Mazes,
    _summary,
)
from quicktakes.maze.policy import LLMPolicy, Trajectory


class TrainConfig(BaseModel):
    method: Literal["sft-iter", "rl"] = "sft-iter"
    iterations: int = Field(2, ge=1, le=100)
    samples: int = Field(4, ge=1, le=256, description="N: episodes per training maze")
    train_mazes: int = Field(4, ge=1, le=10_000)
    test_mazes: int = Field(8, ge=1, le=10_000)
    temperature: float = Field(0.7, gt=0.0, le=2.0)
    finetune: Finetune = Field("lora", description="LoRA (peft) or every weight")
    lr: float | None = Field(
        None, gt=0.0, le=1.0, description="AdamW rate; default 1e-3 for LoRA, 1e-5 for full"
    )
    epochs: int = Field(2, ge=1, le=50, description="passes over each iteration's data")
    batch: int = Field(8, ge=1, le=256)
    restart: bool = Field(False, description="re-fine-tune from the base weights (ReST-EM)")
    max_pairs: int = Field(64, ge=1, description="RL: (state, move) pairs per update, sampled")
    maze: MazeConfig = Field(default_factory=MazeConfig)
    seed: int = 0

    @model_validator(mode="after")
    def _default_lr(self) -> TrainConfig:
        if self.lr is None:
            self.lr = 1e-3 if self.finetune == "lora" else 1e-5
        return self


def move_log_probs(
    backend: HFBackend, convs: Sequence[Sequence[Message]], temperature: float
) -> torch.Tensor:
    """log pi(. | state) over the four moves, differentiable: the policy being trained."""
    logits = backend.move_logits(convs, list(MOVES)) / temperature
    return torch.log_softmax(logits, dim=-1)


def train_steps(
    backend: HFBackend,
    convs: list[list[Message]],
    moves: list[int],
    weights: list[float],
    cfg: TrainConfig,
    rng: np.random.Generator,
) -> list[float]:
    """Minimize -sum w_i log pi(move_i | state_i) / n with AdamW on the trainable weights.

    SFT passes w = 1; REINFORCE passes the advantages. Returns the loss of each step.
    """
    assert cfg.lr is not None  # TrainConfig's validator fills in the default
    params = [p for p in backend.model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    backend.model.train()
    losses = []
    for _ in range(cfg.epochs):
        order = rng.permutation(len(convs))
        for start in range(0, len(order), cfg.batch):
            idx = order[start : start + cfg.batch]
            logp = move_log_probs(backend, [convs[i] for i in idx], cfg.temperature)
            chosen = logp[torch.arange(len(idx)), torch.tensor([moves[i] for i in idx])]
            w = torch.tensor([weights[i] for i in idx], dtype=chosen.dtype)
            loss = -(w * chosen).sum() / len(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    backend.model.eval()
    backend.refresh_identity()
    return losses


def sft_data(policy: LLMPolicy, best: list[Trajectory]) -> tuple[list[list[Message]], list[int]]:
    """(conversation, move) pairs of each maze's best episode, episodes with coins only."""
    convs, moves = [], []
    for t in best:
        if t.coins == 0:
            continue
        for state, move in zip(t.states, t.moves, strict=False):
            if move >= 0:
                convs.append(policy.messages(state))
                moves.append(move)
    return convs, moves


def rl_data(
    policy: LLMPolicy, groups: list[list[Trajectory]]
) -> tuple[list[list[Message]], list[int], list[float]]:
    """Every step of every episode, weighted by its episode's advantage over its maze's mean."""
    convs, moves, adv = [], [], []
    for g in groups:
        scores = np.array([t.normalized for t in g])
        baseline, spread = scores.mean(), scores.std()
        for t, s in zip(g, scores, strict=True):
            a = (s - baseline) / (spread + 1e-6) if spread > 0 else 0.0
            for state, move in zip(t.states, t.moves, strict=False):
                if move >= 0 and a != 0.0:
                    convs.append(policy.messages(state))
                    moves.append(move)
                    adv.append(float(a))
    return convs, moves, adv


def _claim_run_dir(run_dir: Path, cfg: TrainConfig) -> None:
    """A run directory resumes only the same run: only `iterations` may grow."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "config.json"
    if path.exists():
        before = json.loads(path.read_text())
        now = json.loads(cfg.model_dump_json())
        changed = sorted(k for k in now if k != "iterations" and before.get(k) != now[k])
        if changed:
            raise ConfigError(
                f"{run_dir} holds a run with other settings ({', '.join(changed)});"
                " choose another --out to start a new one"
            )
    path.write_text(cfg.model_dump_json(indent=2))


def _update_data(
    cfg: TrainConfig, policy: LLMPolicy, groups: list[list[Trajectory]], rng: np.random.Generator
) -> tuple[list[list[Message]], list[int], list[float]]:
    if cfg.method == "sft-iter":
        convs, moves = sft_data(policy, [max(g, key=lambda t: t.normalized) for g in groups])
        return convs, moves, [1.0] * len(moves)
    convs, moves, weights = rl_data(policy, groups)
    if len(convs) > cfg.max_pairs:  # an unbiased subsample keeps CPU steps bounded
        keep = rng.choice(len(convs), size=cfg.max_pairs, replace=False)
        return [convs[i] for i in keep], [moves[i] for i in keep], [weights[i] for i in keep]
    return convs, moves, weights


def _finished(folder: Path) -> dict[str, Any] | None:
    """An iteration's record; one from before `trained` was recorded counts as trained."""
    path = folder / "result.json"
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text())
    record.setdefault("trained", True)
    return record


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write-then-rename, so an interrupted run never leaves a half-written record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _publish(served: ServedAdapters | None, backend: HFBackend, folder: Path) -> None:
    """Make the server sample the weights being trained (a no-op when they are served)."""
    if served is None or served.current == backend.weights_id:
        return
    if not (folder / backend.checkpoint_file).exists():
        backend.save(folder)
    served.publish(folder, backend.weights_id)


def run_training(
    cfg: TrainConfig,
    backend: HFBackend,
    cache: SampleCache,
    run_dir: Path,
    on_progress: Callable[[str], None] | None = None,
    served: ServedAdapters | None = None,
) -> LabResult:
    """Iterate sample -> select/weight -> update; evaluate on held-out mazes each iteration.

    Each finished iteration saves its weights (adapter or whole model) and result under
    `run_dir/iter-k`; a re-run with the same directory loads them and continues after the
    last finished iteration. With `served`, episodes are sampled from a vLLM server that
    loads each new adapter, and `backend` only trains.
    """
    note = on_progress or (lambda s: None)
    if served is not None and cfg.finetune != "lora":
        raise ConfigError(
            "sampling from a server during training needs --finetune lora: "
            "vLLM loads adapters at run time, not whole weights"
        )
    if backend.finetune != cfg.finetune:
        raise ConfigError(f"the backend fine-tunes {backend.finetune}, the run asks {cfg.finetune}")
    created = not run_dir.exists()
    _claim_run_dir(run_dir, cfg)
    try:
        return _iterate(cfg, backend, cache, run_dir, note, served)
    except BaseException:
        if created and not any(run_dir.glob("iter-*/result.json")):
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing finished: leave nothing behind
        raise


def _iterate(
    cfg: TrainConfig,
    backend: HFBackend,
    cache: SampleCache,
    run_dir: Path,
    note: Callable[[str], None],
    served: ServedAdapters | None,
) -> LabResult:
    mazes = _Mazes(cfg.maze)
    test, train = maze_seeds("test", cfg.test_mazes), maze_seeds("train", cfg.train_mazes)
    policy = LLMPolicy(served.backend if served else backend, cache, "step", cfg.temperature)
    result = LabResult(cfg, backend.model_id, served_by=served.backend.base_url if served else None)
    rng = np.random.default_rng(cfg.seed)
    used = 0
    last = cfg.iterations - 1
    for it in range(cfg.iterations):
        done = run_dir / f"iter-{it}"
        record = _finished(done)
        if record is not None:
            summary, used = IterationResult(**record["result"]), int(record["used_after"])
            if (done / backend.checkpoint_file).exists():
                backend.load(done)
            if record["trained"] or it == last:
                result.iterations.append(summary)
                rng = np.random.default_rng([cfg.seed, it + 1])
                note(f"{cfg.method}: iteration {it} already done, loaded")
                continue
            note(f"{cfg.method}: iteration {it} evaluated before; training it now")
        _publish(served, backend, run_dir / (f"iter-{it - 1}" if it else "base"))
        if record is None:
            note(f"{cfg.method}: iteration {it}, evaluating on {len(test)} test mazes")
            trajs = _episodes(policy, mazes, test, 1, cfg.seed, f"{cfg.method}-test{it}")
            used += len(test)
            summary = _summary(
                it, used, [[t.normalized for t in g] for g in trajs], _invalid_rate(trajs)
            )
        losses: list[float] = []
        if it < last:
            note(f"{cfg.method}: iteration {it}, sampling {cfg.samples} x {len(train)}")
            groups = _episodes(
                policy, mazes, train, cfg.samples, cfg.seed, f"{cfg.method}-train{it}"
            )
            used += cfg.samples * len(train)
            convs, moves, weights = _update_data(cfg, policy, groups, rng)
            if cfg.restart:
                backend.reset()
            if convs:
                note(f"{cfg.method}: iteration {it}, training on {len(convs)} pairs")
                losses = train_steps(backend, convs, moves, weights, cfg, rng)
            backend.save(done)
        result.iterations.append(summary)
        record = {
            "result": asdict(summary),
            "used_after": used,
            "losses": losses,
            "trained": it < last,
        }
        _write_json(done / "result.json", record)
        rng = np.random.default_rng([cfg.seed, it + 1])
    result.model = backend.model_id
    return result
