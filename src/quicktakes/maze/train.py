"""Fine-tuning methods on the same LLM policy: oracle behaviour cloning, poor man's RL (SFT on
the best samples) and policy-gradient RL.

The policy is the model's softmax over the four move tokens at the end of the prompt (what the
step mode samples from), so every update is written on that distribution:
- oracle-bc: cross-entropy to the exact optimum's moves (spread over ties), on the states the
  current policy visits on the training mazes plus each maze's optimal path (DAgger-style);
  the ceiling of any SFT-based method at this budget;
- sft-iter: cross-entropy of each training maze's best sampled episode's moves;
- rl: the clipped-ratio policy gradient (PPO/GRPO) on every sampled move, its advantage the
  move's reward-to-go minus its maze's group mean at that step, with an exact KL penalty to
  the starting policy over the four moves.

Why plain REINFORCE collapsed (docs/results.md): advantages normalized by a group of 4 are
about +-1 whatever the reward gap, and two epochs at a LoRA rate of 1e-3 moved the logits
far from where the episodes were sampled; the move distribution's entropy fell to near 0 on
one letter after two updates. The ratio clip keeps each update near the policy that sampled
the data, the KL term keeps the run near its starting policy, the gradient norm is clipped
at 1, and advantages stay in coins (a share of the optimum), not in units of their spread.
A plain torch loop rather than TRL's trainers: each target is a single token read off one
forward pass of a batch of prompts, which their sequence formatting and generation loops
would only wrap.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from quicktakes.errors import ConfigError
from quicktakes.llm.base import Message
from quicktakes.llm.cache import SampleCache
from quicktakes.llm.hf import HFBackend
from quicktakes.llm.remote import ServedAdapters
from quicktakes.maze.env import observation
from quicktakes.maze.grid import MOVES, maze_seeds
from quicktakes.maze.lab import refuse_other_run
from quicktakes.maze.methods import (
    IterationResult,
    LabResult,
    checkpoint,
    episode_tag,
    episodes,
    evaluate,
)
from quicktakes.maze.oracle import MazeBank, optimal_rollout
from quicktakes.maze.policy import Actor, Job, LLMPolicy, Trajectory, best_per_maze, rollouts
from quicktakes.maze.spec import LabSpec
from quicktakes.maze.verify import Verifier, verdict
from quicktakes.paths import atomic_write
from quicktakes.progress import Note
from quicktakes.rng import derive_seed


def move_log_probs(
    backend: HFBackend, convs: Sequence[Sequence[Message]], temperature: float
) -> torch.Tensor:
    """log pi(. | state) over the four moves, differentiable: the policy being trained."""
    logits = backend.move_logits(convs, list(MOVES)) / temperature
    return torch.log_softmax(logits.float(), dim=-1)


@dataclass
class Update:
    """One update's data: conversations, a target row over the four moves for each, and for
    RL the advantages (then each target row is the one-hot of the sampled move)."""

    convs: list[list[Message]]
    targets: np.ndarray
    advantages: np.ndarray | None = None
    sampled: int = 0
    """Episodes sampled to build it beyond the iteration's own (step selection's rollouts)."""
    optimal_share: float | None = None
    """The share of the targets' weight on optimal moves, where the builder knows it."""

    def __len__(self) -> int:
        return len(self.convs)

    def subset(self, idx: np.ndarray) -> Update:
        adv = None if self.advantages is None else self.advantages[idx]
        return Update([self.convs[i] for i in idx], self.targets[idx], adv)

    def capped(self, most: int, rng: np.random.Generator) -> Update:
        """At most `most` pairs: an unbiased subsample, in the original order."""
        if len(self) <= most:
            return self
        return self.subset(np.sort(rng.choice(len(self), size=most, replace=False)))

    def balanced(self) -> Update:
        """The target rows rescaled, move by move, so that every move that is a target at
        all carries the same total weight (the rows' weights still average 1): a learner
        cannot lower the loss by shifting the moves' frequencies alone, which is what oracle
        BC and poor man's RL did first on the 7x7 maze (their greedy play went from always D
        to always R or U). RL's rows are one-hot samples: its advantages are centred move
        by move instead (`centred`)."""
        if self.advantages is not None:
            return self.centred()
        per_move = self.targets.sum(axis=0)
        scale = np.where(per_move > 0, 1.0 / np.maximum(per_move, 1e-12), 0.0)
        rows = self.targets * scale
        return replace(self, targets=rows * len(self) / rows.sum())

    def centred(self) -> Update:
        """RL's advantages minus, move by move, their mean over the update's pairs of that
        move: every move's advantages then sum to 0, so the surrogate's gradient cannot raise
        or lower a move everywhere at once (its first-order pull on a state-independent bias
        per move vanishes); what is left is which states a move did better in."""
        assert self.advantages is not None
        moves = self.targets.argmax(axis=1)
        total = np.bincount(moves, weights=self.advantages, minlength=4)
        count = np.bincount(moves, minlength=4)
        mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
        return replace(self, advantages=self.advantages - mean[moves])


def _like(ref: torch.Tensor, values: np.ndarray) -> torch.Tensor:
    """Data as a tensor on the device and dtype of the model's output: the one place where
    host arrays meet the model's tensors."""
    return torch.as_tensor(values, dtype=ref.dtype, device=ref.device)


def sft_loss(logp: torch.Tensor, targets: np.ndarray) -> torch.Tensor:
    """Cross-entropy to the target rows (weighted where the rows are: `Update.balanced`)."""
    return -(_like(logp, targets) * logp).sum(dim=1).mean()


def clipped_sft_loss(
    logp: torch.Tensor, old: torch.Tensor, targets: np.ndarray, clip: float
) -> torch.Tensor:
    """Cross-entropy with RL's trust region: -sum_m min(r_m w_m, clip(r_m, 1 -+ clip) w_m), r_m
    the move's probability ratio to `old` (the policy before the update), w_m the target
    weight. At r = 1 its gradient is cross-entropy's; a target move whose probability has
    grown by `clip` stops pulling, as PPO's surrogate does for a positive advantage, and under
    `--sft-centre` (where a weight may be negative) a move pushed down stops once its
    probability has fallen by `clip`."""
    ratio = torch.exp(logp - old)
    w = _like(logp, targets)
    surrogate = torch.minimum(ratio * w, torch.clamp(ratio, 1 - clip, 1 + clip) * w)
    return -surrogate.sum(dim=1).mean()


def ce_pulls(targets: np.ndarray, logp: torch.Tensor) -> np.ndarray:
    """Cross-entropy's descent direction on each pair's four move logits at the policy `logp`:
    target - p * sum(target), one row per pair."""
    p = logp.detach().float().exp().cpu().numpy()
    return targets - p * targets.sum(axis=1, keepdims=True)


def shared_pull(targets: np.ndarray, logp: torch.Tensor) -> np.ndarray:
    """The mean over pairs of `ce_pulls`: the shared part of cross-entropy's pull."""
    return ce_pulls(targets, logp).mean(axis=0)


def centred(targets: np.ndarray, shared: np.ndarray | None) -> np.ndarray:
    """The target rows less `shared` (`shared_pull` over the update at the policy before it),
    for `--sft-centre`. The shared pull sums to 0 over the moves, so cross-entropy to these
    rows pulls on each state's logits as plain cross-entropy less `shared`: no move is raised
    or lowered at every state at once, and what is left is how the target depends on the
    state, as in RL's centred advantages. Some weights are then negative, and cross-entropy
    with a negative weight is unbounded below (it pays for driving that move's probability
    to 0): on the 7x7 maze it swung the policy by KL 1-2 an update. `--sft-clip` holds it with
    RL's trust region (`clipped_sft_loss`), which in the one run tried took the learning away
    with the swings (docs/results.md, session 10)."""
    return targets if shared is None else targets - shared[None, :]


def ppo_loss(
    logp: torch.Tensor, old: torch.Tensor, ref: torch.Tensor, targets: np.ndarray,
    adv: np.ndarray, clip: float, kl: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clipped-ratio surrogate on the sampled move (ratio to `old`, the policy that sampled)
    plus kl * KL(new || ref) over the four moves, `ref` the run's starting policy (GRPO)."""
    onehot = _like(logp, targets)
    a = _like(logp, adv)
    ratio = torch.exp(((logp - old) * onehot).sum(dim=1))
    surrogate = torch.minimum(ratio * a, torch.clamp(ratio, 1 - clip, 1 + clip) * a)
    divergence = kl_rows(logp, ref)
    return -surrogate.mean() + kl * divergence.mean(), divergence.mean()


def kl_rows(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) per row, from log-probabilities over the same moves."""
    return (p.exp() * (p - q)).sum(dim=1)


def shared_shift(data: Update, logp: torch.Tensor) -> float:
    """The share of an update's pull on the four moves' logits that is the same at every state
    (a bias per move could absorb it): |mean g|^2 / mean |g|^2, g each state's gradient of
    the loss's descent on its logits at the policy `logp`. Cross-entropy's is target - p, so
    at states where the policy favours one move it lowers that move everywhere; RL's with
    per-step credit is the advantages themselves. Near 1: the update teaches the moves'
    frequencies, not how the move depends on the state (what the learners did first on the
    7x7 maze). RL's pairs of one state (the same conversation) are summed first."""
    if data.advantages is None:
        g = ce_pulls(data.targets, logp)
    else:
        p = logp.detach().float().exp().cpu().numpy()
        pulls = data.advantages[:, None] * (data.targets - p)
        groups: dict[int, np.ndarray] = {}
        for conv, pull in zip(data.convs, pulls, strict=True):
            groups[id(conv)] = groups.get(id(conv), 0.0) + pull
        g = np.array(list(groups.values()))
    total = float(np.mean(np.sum(g**2, axis=1)))
    return float(np.sum(g.mean(axis=0) ** 2) / total) if total > 0 else 0.0


def entropy(logp: torch.Tensor) -> float:
    return float(-(logp.exp() * logp).sum(dim=1).mean())


COLLAPSE_ENTROPY = 0.05
"""Nats: a policy whose move distribution's mean entropy falls below this after an update has
collapsed: every later sample is the same move, so no group has a spread to learn from."""


def collapsed(entropy_after: float) -> bool:
    return entropy_after < COLLAPSE_ENTROPY


DIAGNOSTIC_PAIRS = 32
"""SFT's entropy and KL diagnostics read this many pairs (RL needs every pair's old policy)."""


def batched_log_probs(
    backend: HFBackend, convs: Sequence[Sequence[Message]], temperature: float, batch: int
) -> torch.Tensor:
    """log pi(. | state) for many states, `batch` prompts per forward pass, no gradient."""
    with torch.no_grad():
        return torch.cat(
            [move_log_probs(backend, convs[i : i + batch], temperature)
             for i in range(0, len(convs), batch)]
        )


def _all_log_probs(backend: HFBackend, data: Update, spec: LabSpec) -> torch.Tensor:
    return batched_log_probs(backend, data.convs, spec.temperature, spec.batch)


def make_optimizer(backend: HFBackend, spec: LabSpec) -> torch.optim.Optimizer:
    """AdamW over the trainable weights at the spec's rate, no weight decay."""
    assert spec.lr is not None  # LabSpec's validator fills in the default
    params = [p for p in backend.model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=spec.lr, weight_decay=0.0)


def train_steps(
    backend: HFBackend, data: Update, spec: LabSpec, rng: np.random.Generator,
    opt: torch.optim.Optimizer | None = None,
) -> dict[str, float]:
    """AdamW on the trainable weights: cross-entropy to the target rows, or for RL the clipped
    surrogate; `opt` carries the optimizer's state over from earlier updates (a fresh one when
    None). Returns diagnostics: mean loss, entropy before and after, KL moved, the steps'
    mean gradient norm and the share of steps whose norm was clipped to 1; for RL also the
    advantages' mean, spread and positive share, the KL to the start, and the share of moves
    whose probability ratio ended outside the clip (where the surrogate gives no gradient)."""
    params = [p for p in backend.model.parameters() if p.requires_grad]
    opt = opt or make_optimizer(backend, spec)
    rl = data.advantages is not None
    probe = data if rl else data.subset(np.arange(min(len(data), DIAGNOSTIC_PAIRS)))
    # every pair's policy before the update where a loss reads it (RL's and the clipped
    # cross-entropy's ratio, the centred targets' shared pull); otherwise the probe's alone,
    # for the diagnostics (its first rows)
    sft_clip = None if rl else spec.sft_clip
    centre = spec.sft_centre and not rl
    old = _all_log_probs(backend, data if sft_clip is not None or centre else probe, spec)
    before = old[: len(probe)]
    shared = shared_pull(data.targets, old) if centre else None
    ref = before
    # the starting policy: the KL term's anchor and the diagnostic kl_to_start (free for an
    # adapter; a full fine-tune swaps weights for it only when the KL term needs it)
    anchored = rl and (spec.kl > 0 or backend.finetune == "lora")
    if anchored:
        with backend.base_weights():
            ref = _all_log_probs(backend, data, spec)
    backend.model.train()
    losses: list[float] = []
    norms: list[float] = []
    for _ in range(spec.epochs):
        order = rng.permutation(len(data))
        for start in range(0, len(order), spec.batch):
            idx = order[start : start + spec.batch]
            part = data.subset(idx)
            logp = move_log_probs(backend, part.convs, spec.temperature)
            rows = torch.as_tensor(idx, device=old.device)
            if part.advantages is None:
                targets = centred(part.targets, shared)
                loss = (sft_loss(logp, targets) if sft_clip is None
                        else clipped_sft_loss(logp, old[rows], targets, sft_clip))
            else:
                loss, _ = ppo_loss(logp, old[rows], ref[rows], part.targets, part.advantages,
                                   spec.clip, spec.kl)
            opt.zero_grad()
            loss.backward()
            norms.append(float(torch.nn.utils.clip_grad_norm_(params, 1.0)))
            opt.step()
            losses.append(loss.item())
    backend.model.eval()
    backend.refresh_identity()
    after = _all_log_probs(backend, probe, spec)
    moved = float(kl_rows(before, after).mean())
    out = {
        "loss": float(np.mean(losses)),
        "steps": float(len(losses)),
        "pairs": float(len(data)),
        "entropy_before": entropy(before),
        "entropy_after": entropy(after),
        "kl_moved": moved,
        "collapsed": float(collapsed(entropy(after))),
        "grad_norm": float(np.mean(norms)),
        "grad_clipped": float(np.mean(np.array(norms) > 1.0)),
        # plain cross-entropy's shared shift at the policy before the update: under
        # --sft-centre, what the centring took out of the loss
        "shared_shift": shared_shift(probe, before),
    }
    if data.advantages is not None:
        taken = _like(after, data.targets)
        ratio = torch.exp(((after - before) * taken).sum(dim=1))
        outside = (ratio - 1).abs() > spec.clip
        out |= {"adv_mean": float(data.advantages.mean()), "adv_std": float(data.advantages.std()),
                "adv_positive": float(np.mean(data.advantages > 0)),
                "ratio_outside_clip": float(outside.float().mean())}
        if anchored:
            out["kl_to_start"] = float(kl_rows(after, ref).mean())
    return out


def optimal_mass(
    backend: HFBackend, policy: LLMPolicy, mazes: MazeBank, seeds: Sequence[int], spec: LabSpec
) -> list[float]:
    """For each held-out maze, the policy's mean probability (at its sampling temperature)
    on the optimal moves along the maze's optimal path, where some move is worse than
    another (a maze with no such state, where no coin can be reached, is left out). The
    states are the oracle's, not the policy's, so checkpoints pair: a learner
    whose greedy play has not flipped yet (the embedded model plays D everywhere on the 7x7
    maze) still shows whether its distribution moved towards the right moves."""
    convs, labels, owner = [], [], []
    for n, ms in enumerate(seeds):
        sol = mazes(ms)
        for state, best in optimal_rollout(sol):
            if len(best) < 4:
                convs.append(policy.messages(policy.obs.render(sol.maze, state, "step")))
                labels.append(best)
                owner.append(n)
    if not convs:
        return []
    p = batched_log_probs(backend, convs, spec.temperature, max(spec.batch, 32)).exp()
    mass = np.array([float(p[i, best].sum()) for i, best in enumerate(labels)])
    per = np.bincount(owner, weights=mass, minlength=len(seeds))
    counts = np.bincount(owner, minlength=len(seeds))
    return [round(float(m / c), 6) for m, c in zip(per, counts, strict=True) if c]


def _onehot(moves: Sequence[int]) -> np.ndarray:
    out = np.zeros((len(moves), 4))
    out[np.arange(len(moves)), list(moves)] = 1.0
    return out


def sft_data(policy: LLMPolicy, best: list[Trajectory]) -> Update:
    """(conversation, move) pairs of each maze's best episode up to its last coin (the moves
    after it earned nothing), episodes with coins only."""
    convs, moves = [], []
    for t in best:
        n = t.scoring_moves()
        for state, move in zip(t.states[:n], t.moves[:n], strict=True):
            if move >= 0:
                convs.append(policy.messages(state))
                moves.append(move)
    return Update(convs, _onehot(moves))


@dataclass
class StepValues:
    """Monte Carlo values of the four moves at states the policy visited: `value[i, m]` is the
    coins collected after taking move m at state i and playing on with the policy (the mean
    of `spec.rollouts` continuations), what the state already held subtracted."""

    keys: list[tuple[int, Any]]
    texts: list[str]
    value: np.ndarray
    sampled: int


def step_values(
    policy: LLMPolicy, mazes: MazeBank, groups: list[list[Trajectory]], spec: LabSpec,
    rng: np.random.Generator, tag: str, actor: Actor | None = None,
) -> StepValues:
    """At `max_pairs` states the policy visited (distinct ones; where it visited fewer, each
    again in turn, so an update always spends `LabSpec.step_rollouts`), try each of the four
    moves and play on `spec.rollouts` times with the current policy (`actor` instead: the
    tests' exact optimum). The simulator resets to any state, so per-step credit costs only
    rollouts (VinePPO's Monte Carlo values)."""
    seen: dict[tuple[int, Any], str] = {}
    for g in groups:
        for t in g:
            for state, text in zip(t.visited, t.states, strict=True):
                seen.setdefault((t.maze_seed, state), text)
    keys = list(seen)
    order = rng.permutation(len(keys))
    if len(keys) >= spec.max_pairs:
        order = np.sort(order[: spec.max_pairs])
    else:  # every state, then again in the same order: the spend is always `max_pairs` states
        order = np.resize(order, spec.max_pairs)
    picked = [keys[i] for i in order]
    jobs = [
        Job(mazes(ms), ms, derive_seed(spec.seed, tag, str(n), str(move), str(k)) % 2**31,
            start=state, first=move)
        for n, (ms, state) in enumerate(picked)
        for move in range(4)
        for k in range(spec.rollouts)
    ]
    played = rollouts(jobs, actor or policy, policy.obs)
    held = np.array([state.coins for _, state in picked], dtype=float)
    ended = np.array([t.coins for t in played], dtype=float).reshape(len(picked), 4, -1)
    value = (ended.mean(axis=2) - held[:, None]).reshape(-1, 4)
    return StepValues(picked, [seen[k] for k in picked], value, len(jobs))


def _optimal_hits(
    mazes: MazeBank, keys: list[tuple[int, Any]], rows: list[np.ndarray]
) -> float | None:
    """The mean share of the target rows' weight on optimal moves (states where some move is
    worse than another)."""
    hits = []
    for (ms, state), row in zip(keys, rows, strict=True):
        best = mazes(ms).optimal_moves(state)
        if len(best) < 4:
            hits.append(float(row[best].sum()))
    return float(np.mean(hits)) if hits else None


def step_data(
    policy: LLMPolicy, mazes: MazeBank, groups: list[list[Trajectory]], spec: LabSpec,
    rng: np.random.Generator, tag: str, actor: Actor | None = None,
) -> Update:
    """Poor man's RL read per step, as the take words it ("sample the model a few times, take
    the action that led to the most gold coins"): at the states of `step_values`, label the
    move(s) that led to the most coins (the target spread over ties). A state where every
    move did equally well teaches nothing: skipped. Every label carries credit, which an
    episode's best move list does not."""
    sv = step_values(policy, mazes, groups, spec, rng, tag, actor)
    convs, rows, keys = [], [], []
    for key, text, v in zip(sv.keys, sv.texts, sv.value, strict=True):
        top = v == v.max()
        if top.all():
            continue
        convs.append(policy.messages(text))
        rows.append(top / top.sum())
        keys.append(key)
    return Update(convs, np.array(rows).reshape(-1, 4), sampled=sv.sampled,
                  optimal_share=_optimal_hits(mazes, keys, rows))


def step_advantages(
    policy: LLMPolicy, mazes: MazeBank, groups: list[list[Trajectory]], spec: LabSpec,
    rng: np.random.Generator, tag: str, actor: Actor | None = None,
) -> Update:
    """RL on the same per-step values as poor man's RL's step selection: at each state every
    move is a pair, its advantage the move's value minus the four moves' mean (VinePPO's
    Monte Carlo credit, each move tried once per rollout). A state whose moves all tie
    teaches nothing: skipped."""
    sv = step_values(policy, mazes, groups, spec, rng, tag, actor)
    convs, moves, adv = [], [], []
    for text, v in zip(sv.texts, sv.value, strict=True):
        a = v - v.mean()
        if np.allclose(a, 0.0):
            continue
        conv = policy.messages(text)
        for m in range(4):
            convs.append(conv)
            moves.append(m)
            adv.append(float(a[m]))
    return Update(convs, _onehot(moves), np.array(adv), sampled=sv.sampled)


def optimal_share(
    mazes: MazeBank, trajs: Sequence[Trajectory], upto_last_coin: bool
) -> float | None:
    """The share of the moves in `trajs` that are optimal moves (the oracle knows), counted
    over states where some move is better than another; None when there are none."""
    hits = total = 0
    for t in trajs:
        sol = mazes(t.maze_seed)
        n = t.scoring_moves() if upto_last_coin else len(t.moves)
        for state, move in zip(t.visited[:n], t.moves[:n], strict=False):
            best = sol.optimal_moves(state)
            if move < 0 or len(best) == 4:
                continue
            total += 1
            hits += move in best
    return hits / total if total else None


def advantages(group: Sequence[Trajectory]) -> list[np.ndarray]:
    """RL's credit for each move of each episode of one maze's group: the move's reward-to-go
    minus the group's mean reward-to-go at the same step (coins arrive per move, so a move is
    credited only with what came after it). Not divided by the group's spread: that would
    blow a gap of one coin in a hundred up to a full-size advantage."""
    togo = [t.to_go() for t in group]
    width = max(len(x) for x in togo)
    padded = np.array([np.pad(x, (0, width - len(x))) for x in togo])
    baseline = padded.mean(axis=0)
    out = []
    for t, row in zip(group, padded, strict=True):
        a = row[: len(t.moves)] - baseline[: len(t.moves)]
        a[np.abs(a) < 1e-12] = 0.0
        out.append(a)
    return out


def rl_data(policy: LLMPolicy, groups: list[list[Trajectory]]) -> Update:
    """Every move of every episode with its `advantages`; zero advantages (moves after every
    episode's last coin) carry no gradient and are left out."""
    convs, moves, adv = [], [], []
    for g in groups:
        for t, credit in zip(g, advantages(g), strict=True):
            for state, move, a in zip(t.states, t.moves, credit, strict=True):
                if move >= 0 and a != 0.0:
                    convs.append(policy.messages(state))
                    moves.append(move)
                    adv.append(float(a))
    return Update(convs, _onehot(moves), np.array(adv))


def oracle_data(policy: LLMPolicy, mazes: MazeBank, groups: list[list[Trajectory]]) -> Update:
    """Every distinct state the policy visited on the training mazes, plus each maze's optimal
    path, labelled with the exact optimum's moves (the target spread evenly over ties).
    States where every move is optimal (no coin reachable any more) teach nothing: skipped."""
    obs = policy.obs
    seen: dict[tuple[int, Any], np.ndarray] = {}
    texts: dict[tuple[int, Any], str] = {}
    for g in groups:
        sol = mazes(g[0].maze_seed)
        states = [s for t in g for s in t.visited] + [s for s, _ in optimal_rollout(sol)]
        for s in states:
            key = (g[0].maze_seed, s)
            if key in seen:
                continue
            best = sol.optimal_moves(s)
            if len(best) == 4:
                continue
            row = np.zeros(4)
            row[best] = 1.0 / len(best)
            seen[key] = row
            texts[key] = obs.render(sol.maze, s, "step")
    convs = [policy.messages(texts[k]) for k in seen]
    return Update(convs, np.array(list(seen.values())).reshape(-1, 4))


def _claim_run_dir(run_dir: Path, cfg: LabSpec) -> None:
    """A run directory resumes only the same run: only `iterations` may grow."""
    refuse_other_run(run_dir, json.loads(cfg.model_dump_json()))
    atomic_write(run_dir / "config.json", cfg.model_dump_json(indent=2))


def update_data(
    spec: LabSpec, policy: LLMPolicy, mazes: MazeBank, groups: list[list[Trajectory]],
    rng: np.random.Generator, tag: str,
) -> Update:
    """The method's training pairs from this iteration's episodes. The SFT methods keep at
    most `max_pairs` (an unbiased subsample); RL keeps every move of the episodes it sampled,
    the same episodes poor man's RL selects from (a cap kept a tenth of them)."""
    if spec.method == "rl" and spec.select == "step":
        data = step_advantages(policy, mazes, groups, spec, rng, tag)
    elif spec.method == "rl":
        data = rl_data(policy, groups)
    elif spec.method == "oracle-bc":
        data = oracle_data(policy, mazes, groups).capped(spec.max_pairs, rng)
    elif spec.select == "step":
        data = step_data(policy, mazes, groups, spec, rng, tag)
    else:
        if spec.drop_flat:
            groups = [g for g in groups if len({t.coins for t in g}) > 1]
        data = sft_data(policy, best_per_maze(groups)).capped(spec.max_pairs, rng)
    return data.balanced() if spec.balance and len(data) else data


def target_quality(
    spec: LabSpec, mazes: MazeBank, groups: list[list[Trajectory]], data: Update
) -> dict[str, float]:
    """For poor man's RL: the share of its targets that are optimal moves, against the share
    among every sampled move; a selection that carries credit raises the first above the
    second."""
    spent = {"rollouts": float(data.sampled)} if data.sampled else {}
    if spec.method != "sft-iter":
        return spent
    targets = (
        data.optimal_share
        if spec.select == "step"
        else optimal_share(mazes, [t for t in best_per_maze(groups) if t.coins], True)
    )
    shares = {
        "optimal_share_targets": targets,
        "optimal_share_sampled": optimal_share(mazes, [t for g in groups for t in g], False),
    }
    out = {k: round(v, 4) for k, v in shares.items() if v is not None}
    return out | spent


def _finished(folder: Path) -> dict[str, Any] | None:
    """An iteration's record; one from before `trained` was recorded counts as trained."""
    path = folder / "result.json"
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text())
    record.setdefault("trained", True)
    return record


def _update_record(record: dict[str, Any]) -> dict[str, float]:
    """A finished iteration's update diagnostics (a record from before `update` was kept
    holds them in its scored result)."""
    if "update" in record:
        return dict(record["update"])
    return dict(record["result"]["diagnostics"])


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Whole or not at all, so an interrupted run never leaves a half-written record."""
    atomic_write(path, json.dumps(data))


OPTIMIZER_FILE = "optimizer.pt"
"""Beside an iteration's weights when the run keeps its optimizer: AdamW's moments, so a
resumed run continues as if never stopped."""


def _save_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    import io

    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    atomic_write(path, buf.getvalue())


def _publish(served: ServedAdapters | None, backend: HFBackend, folder: Path) -> None:
    """Make the server sample the weights being trained (a no-op when they are served)."""
    if served is None or served.current == backend.weights_id:
        return
    if not (folder / backend.checkpoint_file).exists():
        backend.save(folder)
    served.publish(folder, backend.weights_id)


def verified_steps(
    verifier: Verifier | None, backend: HFBackend, data: Update, cfg: LabSpec,
    rng: np.random.Generator, opt: torch.optim.Optimizer | None,
) -> dict[str, float]:
    """One update's `train_steps`, kept or rolled back by `verifier` where the run verifies
    (`maze.verify`)."""
    def steps() -> dict[str, float]:
        return train_steps(backend, data, cfg, rng, opt)

    return verifier.update(backend, opt, steps) if verifier else steps()


def run_training(
    cfg: LabSpec,
    backend: HFBackend,
    cache: SampleCache,
    run_dir: Path,
    note: Note | None = None,
    served: ServedAdapters | None = None,
) -> LabResult:
    """Iterate sample -> select/weight -> update; evaluate on held-out mazes each iteration.

    Each finished iteration saves its weights (adapter or whole model) and result under
    `run_dir/iter-k`; a re-run with the same directory loads them and continues after the
    last finished iteration. With `served`, episodes are sampled from a vLLM server that
    loads each new adapter, and `backend` only trains.
    """
    note = note or (lambda s: None)
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
    cfg: LabSpec,
    backend: HFBackend,
    cache: SampleCache,
    run_dir: Path,
    note: Note,
    served: ServedAdapters | None,
) -> LabResult:
    mazes = MazeBank(cfg.maze)
    test, train = cfg.scored_mazes(), maze_seeds("train", cfg.train_mazes)
    policy = LLMPolicy(
        served.backend if served else backend, cache, "step", cfg.temperature,
        obs=observation(cfg.obs),
    )
    result = LabResult(cfg, backend.model_id, served_by=served.backend.base_url if served else None)
    rng = np.random.default_rng(cfg.seed)
    opt = make_optimizer(backend, cfg) if cfg.optimizer == "keep" else None
    verifier: Verifier | None = None
    used = 0
    last = cfg.iterations - 1
    for it in range(cfg.iterations):
        done = run_dir / f"iter-{it}"
        record = _finished(done)
        if record is not None and record["result"] is None and it == last:
            record = None  # trained past here in a longer run, never scored: score it now
        summary: IterationResult | None = None
        if record is not None:
            used = int(record["used_after"])
            if record["result"] is not None:
                # a record from before `update` was kept repeats it in the result
                kept = {k: v for k, v in record["result"].items() if k != "diagnostics"}
                summary = IterationResult(**kept)
            if (done / backend.checkpoint_file).exists():
                backend.load(done)
            if opt is not None and (done / OPTIMIZER_FILE).exists():
                opt.load_state_dict(torch.load(done / OPTIMIZER_FILE, weights_only=True))
            if record["trained"] or it == last:
                if summary is not None:
                    result.iterations.append(summary)
                if record["trained"]:
                    result.updates.append(_update_record(record))
                rng = np.random.default_rng([cfg.seed, it + 1])
                note(f"{cfg.method}: iteration {it} already done, loaded")
                continue
            note(f"{cfg.method}: iteration {it} evaluated before; training it now")
        _publish(served, backend, run_dir / (f"iter-{it - 1}" if it else "base"))
        if record is None and cfg.scored(it):
            note(f"{cfg.method}: iteration {it}, evaluating on {len(test)} test mazes")
            tag = episode_tag(cfg.method, "test", it)
            trajs = evaluate(policy, mazes, test, cfg, tag)
            summary = checkpoint(it, used, trajs)
            summary.optimal_mass = optimal_mass(backend, policy, mazes, test, cfg)
        update: dict[str, float] = {}
        if it < last:
            counts = cfg.training_counts()
            note(f"{cfg.method}: iteration {it}, sampling {sum(counts)} episodes on "
                 f"{len(train)} mazes")
            tag = episode_tag(cfg.method, "train", it)
            groups = episodes(policy, mazes, train, counts, cfg.seed, tag)
            used += sum(counts)
            data = update_data(cfg, policy, mazes, groups, rng, f"{cfg.method}-step{it}")
            used += data.sampled
            if cfg.restart:
                backend.reset()
                opt = make_optimizer(backend, cfg) if opt is not None else None
            if len(data):
                note(f"{cfg.method}: iteration {it}, training on {len(data)} pairs")
                if cfg.verify and verifier is None:  # scores the weights this update starts at
                    verifier = Verifier(policy, mazes, maze_seeds("verify", cfg.verify), cfg.seed)
                    used += verifier.spent if it == 0 else 0
                update = verified_steps(verifier, backend, data, cfg, rng, opt)
                used += verifier.spent if verifier else 0
                if "kept" in update:
                    note(f"{cfg.method}: iteration {it}, verification mazes {verdict(update)}")
                if update["collapsed"]:
                    note(f"warning: {cfg.method} collapsed in update {it + 1}: entropy "
                         f"{update['entropy_after']:.3f} nats (below "
                         f"{COLLAPSE_ENTROPY}); later samples repeat one move")
            update |= target_quality(cfg, mazes, groups, data)
            result.updates.append(update)
            backend.save(done)
            if opt is not None:
                _save_optimizer(opt, done / OPTIMIZER_FILE)
        if summary is not None:
            result.iterations.append(summary)
        record = {"result": asdict(summary) if summary else None, "update": update,
                  "used_after": used, "trained": it < last}
        _write_json(done / "result.json", record)
        rng = np.random.default_rng([cfg.seed, it + 1])
    result.model = backend.model_id
    return result
