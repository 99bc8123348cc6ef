"""The reversal curse, measured: fine-tune on "<name> is <description>", then ask both ways.

Each test scores a fact's candidate completions (its own description, or name, and those of
`candidates - 1` other facts drawn once per fact) after a test prompt by their summed
log-probability, in one teacher-forced pass; a fact counts as recalled when the right
candidate ranks first under at least half of the test templates, and as an exact match when
greedy decoding would write the right completion token for token (every completion token
the argmax at its position, read off the same pass). Chance is that rule's, computed on the
same scores: the share of a fact's candidates the rule would count were each of them the
right one. A small fixed pool is what lets a reverse test at chance show it: among all n
facts' names two or so hits are expected whatever n is, and their interval never falls
below twice chance. The control gives the facts in the prompt instead of training on them
(the paper's in-context reversal), ranked among the names it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, Field, model_validator

from quicktakes.insights.facts import (
    FORWARD_TESTS,
    REVERSE_TESTS,
    TRAIN_TEMPLATES,
    Fact,
    make_facts,
    statements,
)
from quicktakes.llm.hf import Finetune, HFBackend
from quicktakes.llm.precision import Precision
from quicktakes.progress import Progress
from quicktakes.stats import wilson

Direction = Literal["forward", "reverse", "in-context"]


class ReversalSpec(BaseModel):
    """One reversal-curse experiment: the facts, the fine-tuning, the checkpoints."""

    facts: int = Field(20, ge=2, le=200, description="fictitious name-description facts")
    epochs: int = Field(8, ge=1, le=100, description="passes over the training statements")
    eval_every: int = Field(2, ge=1, description="evaluate after every this many epochs")
    finetune: Finetune = "full"
    lr: float | None = Field(None, gt=0, description="default: 3e-5 full, 1e-3 LoRA")
    batch: int = Field(16, ge=1, le=256)
    paraphrases: int = Field(
        len(TRAIN_TEMPLATES),
        ge=1,
        le=len(TRAIN_TEMPLATES),
        description="training templates per fact",
    )
    test_templates: int = Field(len(FORWARD_TESTS), ge=1, le=len(FORWARD_TESTS))
    candidates: int | None = Field(
        None, ge=2, description="candidates each fact is ranked among (default: every fact's)"
    )
    precision: Precision = Field("auto", description="torch passes: bf16 autocast or fp32")
    seed: int = 0

    @model_validator(mode="after")
    def _pool_fits(self) -> ReversalSpec:
        if self.candidates is not None and self.candidates > self.facts:
            raise ValueError(
                f"candidates ({self.candidates}) cannot exceed the facts ({self.facts})"
            )
        return self

    def learning_rate(self) -> float:
        return self.lr or (3e-5 if self.finetune == "full" else 1e-3)


@dataclass(frozen=True)
class DirectionScore:
    """One direction at one checkpoint: per-fact outcomes, so intervals are over facts."""

    top1: tuple[bool, ...]
    """Per fact: the right candidate ranks first under at least half the templates."""
    exact: tuple[bool, ...]
    rank: tuple[int, ...]
    """0-based rank of the right candidate among the fact's pool, per fact (mean over
    templates); in the control, the pool is the names in the prompt."""
    logp_right: float
    """Mean log-probability of the right completion."""
    logp_other: float
    """Mean log-probability of the other candidates (the paper's random-name baseline)."""
    top1_per_token: tuple[bool, ...] = ()
    """The same rule on the log-probability per completion token: summed log-probabilities
    favour short candidates, so both are reported."""
    margin: tuple[float, ...] = ()
    """Per fact: log p(right) minus the mean log p of the other candidates (mean over
    templates), for the paired permutation test."""
    candidates: int = 0
    """How many candidates each fact is ranked among."""
    chance: float = 0.0
    """The rule's chance on these scores (`rule_chance`)."""
    table: np.ndarray | None = field(default=None, compare=False, repr=False)
    """(templates, facts, candidates) summed log-probabilities, -inf outside each fact's pool:
    the scores every reading above comes from (re-read under other pools by `trends`)."""

    def summary(self) -> dict[str, object]:
        """Right first in k of n facts with its Wilson interval, exact matches, mean log p."""
        k, n = sum(self.top1), len(self.top1)
        return {
            "top1": k, "of": n, "interval": wilson(k, n), "chance": self.chance,
            "candidates": self.candidates, "exact": sum(self.exact),
            "logp_right": self.logp_right, "logp_other": self.logp_other,
        }


@dataclass
class Checkpoint:
    epoch: int
    scores: dict[str, DirectionScore]
    loss: float | None = None


@dataclass
class ReversalResult:
    spec: ReversalSpec
    facts: list[Fact]
    checkpoints: list[Checkpoint] = field(default_factory=list)
    model: str = ""

    def checkpoint_rows(self) -> list[dict[str, object]]:
        """Per checkpoint: the epoch, the loss and each direction's summary."""
        return [
            {"epoch": c.epoch, "loss": c.loss} | {d: s.summary() for d, s in c.scores.items()}
            for c in self.checkpoints
        ]


def rule_chance(scores: np.ndarray, allowed: np.ndarray) -> float:
    """P(the rule counts a fact recalled) were the right candidate any of its candidates:
    per fact, the share of its candidates that rank first (no rival strictly above) under at
    least half of the templates, averaged over facts. `scores` is (templates, facts,
    candidates) and `allowed` (facts, candidates) marks each fact's pool. Exact for a model
    that cannot tell the right candidate from the others, on this model's scores: 1 / pool
    for one template, between that and about 2 / pool for two (as the templates agree)."""
    s = np.where(allowed[None], scores, -np.inf)
    first = (s >= s.max(axis=2, keepdims=True)) & allowed[None]
    counted = first.mean(axis=0) >= 0.5
    return float((counted.sum(axis=1) / allowed.sum(axis=1)).mean())


def candidate_pools(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """Each fact's pool, (n, n) booleans: itself and `size - 1` other facts drawn without
    replacement (every fact where `size` is None)."""
    pool = np.eye(n, dtype=bool)
    if size is None or size >= n:
        pool[:] = True
        return pool
    for i in range(n):
        others = np.delete(np.arange(n), i)
        pool[i, rng.choice(others, size=size - 1, replace=False)] = True
    return pool


def sign_flip_p(diffs: Sequence[float], resamples: int = 2**16, seed: int = 0) -> float:
    """One-sided paired permutation test that the right candidate scores above the others:
    the share of sign flips of the per-fact differences whose mean reaches the observed one
    (scipy's permutation test: every flip up to 16 facts, else `resamples` random ones)."""
    from scipy.stats import permutation_test

    d = np.asarray(diffs, dtype=float)
    if d.size == 0:
        return 1.0
    res = permutation_test(
        (d,), lambda x, axis: np.mean(x, axis=axis), permutation_type="samples",
        alternative="greater", n_resamples=resamples, vectorized=True, rng=seed,
    )
    return float(res.pvalue)


def completion_logprobs(
    backend: HFBackend, pairs: Sequence[tuple[str, str]], batch: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Summed log-probability of each completion after its prompt, and whether greedy
    decoding would produce it (every completion token the argmax), teacher-forced.

    Every fact's prompt is scored against every candidate, so the pairs share a few prompts:
    each prompt goes through the model once and its key/value cache is repeated for up to
    `batch` candidates at a time, which then run only their own tokens. On two cores this
    is several times faster than running prompt + candidate per pair, more so the longer the
    prompt (the in-context control's three facts); the numbers are the same pass's."""
    tok = backend.tokenizer
    encoded: dict[str, list[int]] = {}

    def ids_of(text: str) -> list[int]:
        if text not in encoded:
            encoded[text] = tok(text, add_special_tokens=False)["input_ids"]
        return encoded[text]

    by_prompt: dict[str, list[int]] = {}
    for k, (prompt, _) in enumerate(pairs):
        by_prompt.setdefault(prompt, []).append(k)
    logps, greedy = np.zeros(len(pairs)), np.zeros(len(pairs), bool)
    with torch.no_grad():
        for prompt, rows in by_prompt.items():
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                lp, gr = _after_prompt(backend, ids_of(prompt),
                                       [ids_of(pairs[k][1]) for k in chunk])
                logps[chunk], greedy[chunk] = lp, gr
    return logps, greedy


def _after_prompt(
    backend: HFBackend, prompt: list[int], completions: list[list[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of `completions` after one `prompt`: the prompt once, its cache repeated per
    completion (as `HFBackend` reads a shared system prompt), the completions right-padded:
    under the causal mask no real token sees a pad."""
    model, dev = backend.model, backend.device
    # a completion's last token predicts nothing that is scored: it is not fed
    b, width = len(completions), max(len(c) for c in completions) - 1
    ids = torch.full((b, max(width, 1)), int(backend.tokenizer.pad_token_id), dtype=torch.long)
    for i, c in enumerate(completions):
        ids[i, : len(c) - 1] = torch.tensor(c[:-1])
    with torch.autocast(dev, dtype=torch.bfloat16, enabled=backend.autocast):
        out = model(input_ids=torch.tensor([prompt], device=dev), use_cache=True,
                    logits_to_keep=1)
        first = torch.log_softmax(out.logits[0, -1].float(), dim=-1).cpu()
        rest = torch.zeros(b, 0, first.numel())
        if width > 0:
            out.cache.batch_repeat_interleave(b)
            logits = model(
                input_ids=ids.to(dev),
                cache=out.cache,
                attention_mask=torch.ones(b, len(prompt) + width, dtype=torch.long,
                                          device=dev),
                position_ids=(len(prompt) + torch.arange(width, device=dev)).expand(b, width),
            ).logits
            rest = torch.log_softmax(logits.float(), dim=-1).cpu()
    logps, greedy = np.zeros(b), np.zeros(b, bool)
    for i, c in enumerate(completions):
        target = torch.tensor(c)
        pred = torch.cat([first[None], rest[i, : len(c) - 1]])  # row k predicts token k
        logps[i] = float(pred.gather(1, target[:, None]).sum())
        greedy[i] = bool((pred.argmax(dim=1) == target).all())
    return logps, greedy


def completion_tokens(backend: HFBackend, completions: Sequence[str]) -> np.ndarray:
    tok = backend.tokenizer
    return np.array([len(tok(c, add_special_tokens=False)["input_ids"]) for c in completions])


CONTEXT_SHOWN = 3
"""Facts in the control's prompt: the right one and two others."""


def _context(
    facts: list[Fact], i: int, rng: np.random.Generator, shown: int = CONTEXT_SHOWN
) -> tuple[str, list[int]]:
    """The fact `i` among `shown - 1` others, in a random order: the in-context control's
    prompt, and the facts it shows (the only names a reader of it can choose among)."""
    others = [j for j in range(len(facts)) if j != i]
    picks = [i, *(int(j) for j in rng.choice(others, size=min(shown - 1, len(others)),
                                              replace=False))]
    rng.shuffle(picks)
    return " ".join(f"{facts[j].name} is {facts[j].desc}." for j in picks) + " ", picks


def score_direction(
    backend: HFBackend,
    facts: list[Fact],
    direction: Direction,
    batch: int = 64,
    rng: np.random.Generator | None = None,
    templates: int = len(FORWARD_TESTS),
    pool: np.ndarray | None = None,
) -> DirectionScore:
    """Rank each fact's candidates (`pool`'s row, default every fact) under the first
    `templates` test templates of `direction`; only the pool's pairs are scored."""
    n = len(facts)
    reverse = direction != "forward"
    tests = (REVERSE_TESTS if reverse else FORWARD_TESTS)[:templates]
    contexts = [""] * n
    allowed = np.ones((n, n), bool) if pool is None else pool.copy()
    if direction == "in-context":
        # ranked among the names in its own prompt only: a reader who picks any of them
        # is right a third of the time per template, and the chance drawn says so
        rng = rng or np.random.default_rng(0)
        allowed[:] = False
        for i in range(n):
            contexts[i], picks = _context(facts, i, rng)
            allowed[i, picks] = True
    ranks = np.zeros((len(tests), n))
    top1 = np.zeros((len(tests), n), bool)
    top1_tok = np.zeros((len(tests), n), bool)
    exact = np.zeros((len(tests), n), bool)
    margins = np.zeros((len(tests), n))
    table = np.full((len(tests), n, n), -np.inf)
    right, other = [], []
    where = np.nonzero(allowed)
    for t, (prompt, completion) in enumerate(tests):
        pairs = []
        for i, j in zip(*where, strict=True):
            fill = {"name": facts[i].name, "desc": facts[i].desc}
            cand = {"name": facts[j].name, "desc": facts[j].desc}
            pairs.append((contexts[i] + prompt.format(**fill), completion.format(**cand)))
        scored, greedy = completion_logprobs(backend, pairs, batch)
        lp, gr = np.full((n, n), -np.inf), np.zeros((n, n), bool)
        lp[where], gr[where] = scored, greedy
        table[t] = lp
        length = completion_tokens(backend, [completion.format(name=c.name, desc=c.desc)
                                             for c in facts])
        per_tok = lp / length[None, :]
        diag, diag_tok = np.diag(lp), np.diag(per_tok)
        rivals = allowed & ~np.eye(n, dtype=bool)
        ranks[t] = ((lp > diag[:, None]) & rivals).sum(axis=1)
        top1[t] = ranks[t] == 0
        top1_tok[t] = ((per_tok > diag_tok[:, None]) & rivals).sum(axis=1) == 0
        exact[t] = np.diag(gr)
        others = np.where(rivals, lp, 0.0).sum(axis=1) / np.maximum(rivals.sum(axis=1), 1)
        margins[t] = diag - others
        right.append(diag.mean())
        other.append(float(np.where(rivals, lp, 0.0).sum() / max(rivals.sum(), 1)))
    return DirectionScore(
        top1=tuple(bool(x) for x in top1.mean(axis=0) >= 0.5),
        exact=tuple(bool(x) for x in exact.mean(axis=0) >= 0.5),
        rank=tuple(int(round(x)) for x in ranks.mean(axis=0)),
        logp_right=float(np.mean(right)),
        logp_other=float(np.mean(other)),
        top1_per_token=tuple(bool(x) for x in top1_tok.mean(axis=0) >= 0.5),
        margin=tuple(float(x) for x in margins.mean(axis=0)),
        candidates=int(allowed[0].sum()),
        chance=rule_chance(table, allowed),
        table=table,
    )


def train_epoch(
    backend: HFBackend,
    texts: list[str],
    opt: torch.optim.Optimizer,
    batch: int,
    rng: np.random.Generator,
) -> float:
    """One pass of next-token cross-entropy over the statements, in a seeded order; the
    loss is on every token of a statement (the model learns the whole sentence)."""
    tok, dev = backend.tokenizer, backend.device
    params = [p for p in backend.model.parameters() if p.requires_grad]
    order = rng.permutation(len(texts))
    backend.model.train()
    losses = []
    for start in range(0, len(order), batch):
        chunk = [texts[i] + tok.eos_token for i in order[start : start + batch]]
        rows = [tok(t, add_special_tokens=False)["input_ids"] for t in chunk]
        enc = tok.pad({"input_ids": rows}, padding_side="right", return_tensors="pt")
        ids, mask = enc["input_ids"], enc["attention_mask"]
        labels = ids.masked_fill(mask == 0, -100)
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=backend.autocast):
            out = backend.model(
                input_ids=ids.to(dev), attention_mask=mask.to(dev), labels=labels.to(dev)
            )
        opt.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(out.loss.item())
    backend.model.eval()
    backend.refresh_identity()
    return float(np.mean(losses))


def training_statements(spec: ReversalSpec, facts: list[Fact]) -> list[str]:
    """What the fine-tune trains on: each fact in the first `spec.paraphrases` name-first
    templates."""
    return statements(facts, TRAIN_TEMPLATES[: spec.paraphrases])


def run_reversal(
    spec: ReversalSpec,
    backend: HFBackend | None = None,
    on_progress: Progress | None = None,
) -> ReversalResult:
    """Evaluate, then fine-tune on name-first statements, evaluating every `eval_every`
    epochs; the in-context control is measured on the untrained model."""
    rng = np.random.default_rng([spec.seed, 0])
    facts = make_facts(spec.facts, rng)
    backend = backend or HFBackend(finetune=spec.finetune, seed=spec.seed,
                                   precision=spec.precision)
    backend.reset()
    texts = training_statements(spec, facts)
    pool = candidate_pools(len(facts), spec.candidates, np.random.default_rng([spec.seed, 3]))
    result = ReversalResult(spec, facts)
    evals = [e for e in range(0, spec.epochs + 1) if e % spec.eval_every == 0 or e == spec.epochs]
    # a step per direction scored and per epoch: scoring n x n candidates is the long part
    total, done = 2 * len(evals) + 1 + spec.epochs, 0
    tick = on_progress or (lambda d, t: None)

    def evaluate(epoch: int, loss: float | None, control: bool = False) -> None:
        nonlocal done
        k = spec.test_templates
        directions: tuple[Direction, ...] = ("forward", "reverse", "in-context")
        scores: dict[str, DirectionScore] = {}
        for d in directions[: 3 if control else 2]:
            rng = np.random.default_rng([spec.seed, 1]) if d == "in-context" else None
            scores[d] = score_direction(backend, facts, d, rng=rng, templates=k, pool=pool)
            done += 1
            tick(done, total)
        result.checkpoints.append(Checkpoint(epoch, scores, loss))

    evaluate(0, None, control=True)
    params = [p for p in backend.model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=spec.learning_rate(), weight_decay=0.0)
    order_rng = np.random.default_rng([spec.seed, 2])
    for epoch in range(1, spec.epochs + 1):
        loss = train_epoch(backend, texts, opt, spec.batch, order_rng)
        done += 1
        tick(done, total)
        if epoch in evals:
            evaluate(epoch, loss)
    result.model = backend.model_id
    return result
