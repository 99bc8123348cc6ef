"""Insight 4 of the take: "It's easier for gradient descent to do small updates throughout
the net than a large update in one part", measured on a network taught new facts.

Three readings of one training run (every layer trained, AdamW) and of its local rivals:
- where the update lands: each layer's share of |dtheta|^2 against its share of the
  parameters, and the participation ratio of dtheta (how many parameters it effectively moves);
- what a local update costs: the same facts learned by one layer alone (the rest frozen, the
  same optimizer, its rate swept), the steps it needs to reach the all-layer run's loss and the
  norm of its update;
- whether the learned change is distributed: each layer's share of dtheta removed (the rest
  kept), and each layer's share kept alone, read as the share of the learned accuracy lost or
  recovered.

The network here is a tanh MLP that memorises random input -> class facts (a lookup table
no layer holds before training), small enough for the tests and `--fast`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from pydantic import BaseModel, Field, model_validator

from quicktakes.errors import ConfigError
from quicktakes.insights.reversal import (
    ReversalSpec,
    candidate_pools,
    run_reversal,
    score_direction,
    training_statements,
)

if TYPE_CHECKING:
    from quicktakes.llm.hf import HFBackend

Progress = Callable[[int, int], None]


class SmallUpdatesSpec(BaseModel):
    facts: int = Field(96, ge=2, description="random input -> class pairs to memorise")
    inputs: int = Field(16, ge=1)
    classes: int = Field(8, ge=2)
    width: int = Field(48, ge=1)
    depth: int = Field(4, ge=1, description="hidden tanh layers")
    lr: float = Field(3e-3, gt=0, description="AdamW's rate for the all-layer run")
    target_loss: float = Field(0.05, gt=0, description="the training loss every run trains to")
    steps: int = Field(1200, ge=1, description="the most full-batch steps of the all-layer run")
    arm_rates: tuple[float, ...] = (1e-3, 3e-3, 1e-2, 3e-2)
    """Each one-layer arm's rate sweep: the arm keeps its best rate (fewest steps to the
    all-layer loss, then the smaller update)."""
    arm_steps: int = Field(2400, ge=1, description="the most steps a one-layer arm may take")
    seed: int = 0

    @model_validator(mode="after")
    def _rates(self) -> SmallUpdatesSpec:
        if not self.arm_rates or min(self.arm_rates) <= 0:
            raise ValueError("arm_rates must be positive rates")
        return self


@dataclass(frozen=True)
class Arm:
    """One layer trained alone, at its best rate."""

    layer: str
    lr: float
    steps: int | None
    """Steps to the all-layer run's loss (`target_loss`); None if it never got there."""
    loss: float
    norm: float
    """|dtheta| of its update at the step it reached the loss (or at its last step)."""


@dataclass
class SmallUpdatesResult:
    spec: SmallUpdatesSpec
    layers: list[str]
    params: list[int]
    """Parameters per layer."""
    delta_sq: list[float]
    """|dtheta|^2 per layer, all-layer run."""
    participation: float
    """(sum dtheta^2)^2 / sum dtheta^4: the number of parameters the update effectively moves."""
    loss: float
    steps: int | None
    """Steps the all-layer run took to `target_loss` (None: it did not get there)."""
    norm: float
    accuracy: tuple[int, int]
    """Facts recalled (argmax) before and after the all-layer run."""
    removed: list[int]
    """Facts recalled with one layer's share of dtheta set back to 0."""
    alone: list[int]
    """Facts recalled with only one layer's share of dtheta applied."""
    arms: list[Arm] = field(default_factory=list)

    @property
    def update_share(self) -> np.ndarray:
        d = np.asarray(self.delta_sq)
        return d / d.sum()

    @property
    def param_share(self) -> np.ndarray:
        p = np.asarray(self.params, float)
        return p / p.sum()

    def learned(self) -> int:
        return self.accuracy[1] - self.accuracy[0]

    def share_lost(self) -> np.ndarray:
        """Per layer, the share of the learned facts lost when its update is removed."""
        return shares_lost(self.accuracy, np.asarray(self.removed))

    def share_recovered(self) -> np.ndarray:
        """Per layer, the share of the learned facts its update recovers on its own."""
        return shares_recovered(self.accuracy, np.asarray(self.alone))


def shares_lost(recalled: tuple[int, int], removed: np.ndarray) -> np.ndarray:
    """Facts recalled with a share of the update removed, as the share of the learned facts
    (after minus before) lost."""
    before, after = recalled
    return (after - removed) / max(after - before, 1)


def shares_recovered(recalled: tuple[int, int], alone: np.ndarray) -> np.ndarray:
    """Facts recalled with only a share of the update, as the share of the learned facts
    recovered."""
    before, after = recalled
    return (alone - before) / max(after - before, 1)


def make_net(spec: SmallUpdatesSpec) -> torch.nn.Sequential:
    torch.manual_seed(spec.seed)
    sizes = [spec.inputs, *([spec.width] * spec.depth)]
    mods: list[torch.nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        mods += [torch.nn.Linear(a, b), torch.nn.Tanh()]
    mods.append(torch.nn.Linear(sizes[-1], spec.classes))
    return torch.nn.Sequential(*mods).double()


def facts(spec: SmallUpdatesSpec) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(spec.seed + 1)
    x = torch.randn(spec.facts, spec.inputs, generator=gen, dtype=torch.float64)
    y = torch.randint(spec.classes, (spec.facts,), generator=gen)
    return x, y


def layer_params(net: torch.nn.Sequential) -> dict[str, list[torch.Tensor]]:
    """Each linear layer's weight and bias, named by depth ("layer 1" the first, "output")."""
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    names = [f"layer {i + 1}" for i in range(len(linears) - 1)] + ["output"]
    return {n: [m.weight, m.bias] for n, m in zip(names, linears, strict=True)}


def _flat(ps: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in ps])


def _loss_acc(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, int]:
    with torch.no_grad():
        out = net(x)
        return float(torch.nn.functional.cross_entropy(out, y)), int((out.argmax(1) == y).sum())


def train(
    net: torch.nn.Module, params: Sequence[torch.Tensor], x: torch.Tensor,
    y: torch.Tensor, lr: float, steps: int, stop_at: float | None = None,
) -> tuple[int | None, float]:
    """Full-batch AdamW (no weight decay) on `params` only; stops once the loss is at or below
    `stop_at`. Returns (the step it got there, or None; the last loss)."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    loss = float("inf")
    for step in range(1, steps + 1):
        opt.zero_grad()
        out = torch.nn.functional.cross_entropy(net(x), y)
        out.backward()
        opt.step()
        loss, _ = _loss_acc(net, x, y)
        if stop_at is not None and loss <= stop_at:
            return step, loss
    return None, loss


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread for a while: at these sizes (96 x 48 matrices) a second thread only
    waits at every barrier, and beside another busy process the run took 5x as long."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_small_updates(
    spec: SmallUpdatesSpec, on_progress: Progress | None = None
) -> SmallUpdatesResult:
    with one_thread():
        return _run_small_updates(spec, on_progress)


def _run_small_updates(
    spec: SmallUpdatesSpec, on_progress: Progress | None = None
) -> SmallUpdatesResult:
    tick = on_progress or (lambda d, t: None)
    x, y = facts(spec)
    net = make_net(spec)
    groups = layer_params(net)
    names = list(groups)
    owner = {f"{i}.{kind}": n
             for i, n in zip((i for i, m in enumerate(net) if isinstance(m, torch.nn.Linear)),
                             names, strict=True)
             for kind in ("weight", "bias")}
    start = {n: _flat(ps) for n, ps in groups.items()}
    init_state = {k: v.clone() for k, v in net.state_dict().items()}
    total = 1 + len(names) * len(spec.arm_rates)
    steps, _ = train(net, list(net.parameters()), x, y, spec.lr, spec.steps,
                     stop_at=spec.target_loss)
    tick(1, total)
    loss, _ = _loss_acc(net, x, y)
    trained = {k: v.clone() for k, v in net.state_dict().items()}

    def recall(state: dict[str, torch.Tensor]) -> int:
        net.load_state_dict(state)
        return _loss_acc(net, x, y)[1]

    read = landing(init_state, trained, recall, names, group=lambda k: (owner[k], owner[k]))
    delta_sq = [read.groups[n][1] for n in names]
    result = SmallUpdatesResult(
        spec, names, [read.groups[n][0] for n in names], delta_sq, read.participation, loss,
        steps, float(np.sqrt(sum(delta_sq))), read.recalled,
        [read.removed[n] for n in names], [read.alone[n] for n in names],
    )
    done = 1
    for n in names:
        best: Arm | None = None
        for lr in spec.arm_rates:
            net.load_state_dict(init_state)
            got, arm_loss = train(net, groups[n], x, y, lr, spec.arm_steps,
                                  stop_at=spec.target_loss)
            arm = Arm(n, lr, got, arm_loss, float((_flat(groups[n]) - start[n]).norm()))
            if best is None or _better(arm, best):
                best = arm
            done += 1
            tick(done, total)
        assert best is not None
        result.arms.append(best)
    net.load_state_dict(init_state)
    return result


def _better(a: Arm, b: Arm) -> bool:
    """Reaching the loss beats not; then fewer steps, then a smaller update; among arms that
    never reach it, the lower loss."""
    if (a.steps is None) != (b.steps is None):
        return a.steps is not None
    if a.steps is None or b.steps is None:
        return a.loss < b.loss
    return (a.steps, a.norm) < (b.steps, b.norm)


# --- the embedded model's full fine-tune on the reversal curse's facts -------------------


def group_of(name: str) -> tuple[str, str]:
    """(layer, kind) of a transformer parameter: "layer 7" / "attention", "embeddings", ..."""
    import re

    kind = ("attention" if "self_attn" in name else "MLP" if ".mlp." in name
            else "norms" if "norm" in name else "embeddings")
    hit = re.search(r"layers\.(\d+)\.", name)
    return (f"layer {int(hit.group(1)) + 1}" if hit else kind), kind


@dataclass
class LLMArm:
    """The reversal curse's facts learned by one decoder layer alone (the rest frozen), with
    AdamW at `lr` for up to `epochs` passes."""

    layer: str
    lr: float
    losses: list[float]
    """Each epoch's mean training loss."""
    steps: int | None
    """Optimizer steps to the end of the first epoch at the all-layer run's loss; None if
    none got there."""
    norm: float
    """|dtheta| of the layer's update."""
    recalled: int
    """Forward facts ranked first after it."""


@dataclass
class LandingResult:
    """Where a training run's update lands, and what each layer's share of it does."""

    groups: dict[str, tuple[int, float]]
    """Per layer (or embeddings / the final norm): (parameters, |dtheta|^2)."""
    kinds: dict[str, tuple[int, float]]
    """Per kind of matrix: attention, MLP, embeddings, norms."""
    participation: float
    total: int
    recalled: tuple[int, int]
    """Forward facts ranked first before and after the fine-tune."""
    removed: dict[str, int] = field(default_factory=dict)
    alone: dict[str, int] = field(default_factory=dict)
    loss: float | None = None
    """The all-layer run's training loss at its last epoch (the arms' target)."""
    steps: int | None = None
    """The all-layer run's optimizer steps to the first epoch at that loss."""
    arms: list[LLMArm] = field(default_factory=list)
    """One-layer arms, the best rate per layer (`reversal_arms`)."""
    tried: list[LLMArm] = field(default_factory=list)
    """Every one-layer arm run, each layer at each rate."""

    @property
    def norm(self) -> float:
        """|dtheta| of the all-layer update, every weight."""
        return float(np.sqrt(sum(q for _, q in self.groups.values())))

    def share_lost(self) -> np.ndarray:
        """Per layer read, in `removed`'s order (`shares_lost`)."""
        return shares_lost(self.recalled, np.asarray(list(self.removed.values()), float))

    def share_recovered(self) -> np.ndarray:
        """Per layer read, in `alone`'s order (`shares_recovered`)."""
        return shares_recovered(self.recalled, np.asarray(list(self.alone.values()), float))

    def shares(self, table: dict[str, tuple[int, float]]) -> dict[str, tuple[float, float]]:
        """name -> (share of the parameters, share of |dtheta|^2)."""
        n = sum(v[0] for v in table.values())
        d = sum(v[1] for v in table.values()) or 1.0
        return {k: (p / n, q / d) for k, (p, q) in table.items()}


def landing(
    before: dict[str, torch.Tensor], after: dict[str, torch.Tensor],
    recall: Callable[[dict[str, torch.Tensor]], int], layers: Sequence[str] | None = None,
    on_progress: Progress | None = None,
    group: Callable[[str], tuple[str, str]] = group_of,
) -> LandingResult:
    """Read a training run's update: `before` and `after` are state dicts (CPU), `recall(state)`
    loads a state and counts the facts recalled, `group(name)` is a parameter's (layer, kind)
    (a transformer's by default). Each layer in `layers` (default every group named "layer
    ...") is removed from the update and kept alone, one at a time."""
    tick = on_progress or (lambda d, t: None)
    groups: dict[str, list[float]] = {}
    kinds: dict[str, list[float]] = {}
    sq_sum = quad_sum = 0.0
    total = 0
    for name, b in before.items():
        if name not in after or not b.is_floating_point():
            continue
        d = (after[name].double() - b.double()).flatten()
        sq, n = float(d.pow(2).sum()), d.numel()
        sq_sum += sq
        quad_sum += float(d.pow(4).sum())
        total += n
        layer, kind = group(name)
        for table, key in ((groups, layer), (kinds, kind)):
            table.setdefault(key, [0.0, 0.0])
            table[key][0] += n
            table[key][1] += sq
    result = LandingResult(
        {k: (int(v[0]), v[1]) for k, v in groups.items()},
        {k: (int(v[0]), v[1]) for k, v in kinds.items()},
        sq_sum**2 / quad_sum if quad_sum else 0.0, total, (recall(before), recall(after)),
    )
    chosen = list(layers) if layers is not None else [g for g in groups if g.startswith("layer")]
    for i, layer in enumerate(chosen):
        mine = {k for k in after if group(k)[0] == layer}
        result.removed[layer] = recall({k: before[k] if k in mine else v
                                        for k, v in after.items()})
        result.alone[layer] = recall({k: v if k in mine else before[k]
                                      for k, v in after.items()})
        tick(i + 1, len(chosen))
    return result


def reversal_landing(
    spec: ReversalSpec, layers: Sequence[str] | None = None,
    on_progress: Progress | None = None, arm_rates: Sequence[float] = (),
    arm_layers: Sequence[str] | None = None, arm_epochs: int | None = None,
    on_arm_progress: Progress | None = None,
) -> LandingResult:
    """The reversal curse's full fine-tune of the embedded model (`spec`), read by `landing`
    (its progress to `on_progress`): recall is forward top-1 among each fact's pool, as the
    reversal claim scores it. With `arm_rates`, also the one-layer arms (`reversal_arms`,
    progress to `on_arm_progress`) on `arm_layers` (default `spread_layers`), each for
    `arm_epochs` (default twice the all-layer run's)."""
    from quicktakes.llm.hf import HFBackend

    backend = HFBackend(finetune="full", seed=spec.seed, precision=spec.precision)
    if arm_layers is not None:
        check_layers(backend, arm_layers)
    r = run_reversal(spec, backend)
    tied = bool(getattr(backend.model.config, "tie_word_embeddings", False))
    after = {k: v.detach().cpu().clone() for k, v in backend.model.state_dict().items()
             if not (tied and k == "lm_head.weight")}
    before = {k: v for k, v in backend.base_state().items() if k in after}
    pool = candidate_pools(len(r.facts), spec.candidates, np.random.default_rng([spec.seed, 3]))

    def recalled() -> int:
        """Forward facts ranked first by the weights the model holds."""
        score = score_direction(backend, r.facts, "forward", templates=spec.test_templates,
                                pool=pool)
        return int(sum(score.top1))

    def recall(state: dict[str, torch.Tensor]) -> int:
        backend.model.load_state_dict(state, strict=False)
        return recalled()

    try:
        result = landing(before, after, recall, layers, on_progress)
    finally:
        backend.model.load_state_dict(after, strict=False)
    texts = training_statements(spec, r.facts)
    per_epoch = steps_per_epoch(texts, spec.batch)
    result.loss = r.checkpoints[-1].loss
    result.steps = next(c.epoch for c in r.checkpoints
                        if c.loss is not None and c.loss <= (result.loss or 0.0)) * per_epoch
    if arm_rates:
        chosen = arm_layers or spread_layers(result)
        result.tried = reversal_arms(backend, spec, texts, chosen, arm_rates,
                                     result.loss or 0.0, recalled,
                                     arm_epochs or 2 * spec.epochs, on_arm_progress)
        result.arms = best_arms(result.tried)
    return result


def steps_per_epoch(texts: Sequence[str], batch: int) -> int:
    """Optimizer steps in one pass of `train_epoch` over `texts`."""
    return -(-len(texts) // batch)


def check_layers(backend: HFBackend, layers: Sequence[str]) -> None:
    """Refuse a layer the model does not have, before anything trains."""
    have = {group_of(k)[0] for k, _ in backend.model.named_parameters()}
    depth = sum(g.startswith("layer ") for g in have)
    for layer in layers:
        if layer not in have or not layer.startswith("layer "):
            raise ConfigError(f"no decoder layer {layer!r}: the model has layer 1 to "
                              f"layer {depth}")


def spread_layers(r: LandingResult, count: int = 3) -> list[str]:
    """`count` decoder layers spanning the depth (the first and the last among them), and the
    layer whose share of the update alone recovered the most facts."""
    depth = sum(g.startswith("layer ") for g in r.groups)
    picks = {int(round(x)) for x in np.linspace(1, depth, count)}
    if r.alone:
        picks.add(int(max(r.alone, key=lambda k: r.alone[k]).split()[1]))
    return [f"layer {k}" for k in sorted(picks)]


def reversal_arms(
    backend: HFBackend, spec: ReversalSpec, texts: list[str], layers: Sequence[str],
    rates: Sequence[float], target: float, recalled: Callable[[], int], epochs: int,
    on_progress: Progress | None = None,
) -> list[LLMArm]:
    """For each layer, the reversal curse's fine-tune on `texts` (`training_statements`) with
    only that layer's weights trained (AdamW, each rate in `rates`, up to `epochs` passes in
    the same seeded order as the all-layer run), scored by `recalled()` on the weights it
    ends at: every layer at every rate, in that order (`best_arms` picks per layer)."""
    from quicktakes.insights.reversal import train_epoch

    check_layers(backend, layers)
    tick = on_progress or (lambda d, t: None)
    per_epoch = steps_per_epoch(texts, spec.batch)
    tried: list[LLMArm] = []
    total = len(layers) * len(rates)
    for i, layer in enumerate(layers):
        for j, lr in enumerate(rates):
            backend.reset()
            mine = [(k, p) for k, p in backend.model.named_parameters()
                    if group_of(k)[0] == layer]
            start = {k: p.detach().clone() for k, p in mine}
            for p in backend.model.parameters():
                p.requires_grad_(False)
            try:
                for _, p in mine:
                    p.requires_grad_(True)
                opt = torch.optim.AdamW([p for _, p in mine], lr=lr, weight_decay=0.0)
                order = np.random.default_rng([spec.seed, 2])
                losses = [train_epoch(backend, texts, opt, spec.batch, order)
                          for _ in range(epochs)]
            finally:
                for p in backend.model.parameters():
                    p.requires_grad_(True)
            reached = next((e + 1 for e, v in enumerate(losses) if v <= target), None)
            norm = float(torch.sqrt(sum((p.detach().double() - start[k].double()).pow(2).sum()
                                        for k, p in mine)))
            tried.append(LLMArm(layer, lr, losses, reached and reached * per_epoch, norm,
                                recalled()))
            tick(i * len(rates) + j + 1, total)
    backend.reset()
    return tried


def best_arms(tried: Sequence[LLMArm]) -> list[LLMArm]:
    """Per layer, in order, its best rate: the one that reached the target in the fewest
    steps (then with the smaller update), else the one that ended at the lowest loss."""
    layers = list(dict.fromkeys(a.layer for a in tried))
    return [min((a for a in tried if a.layer == layer),
                key=lambda a: (a.steps is None, a.steps or 0,
                               a.norm if a.steps is not None else a.losses[-1]))
            for layer in layers]
