"""The maze lab's one runner: `run(spec)` for every method, whoever asks (CLI, compare, claims).

It wires the backend a spec names (the embedded model through llama.cpp for prompting; the
same weights in torch for the fine-tuning methods, optionally sampled from a vLLM server) and
calls the method's loop.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quicktakes.errors import ConfigError
from quicktakes.maze.env import observation
from quicktakes.maze.methods import LabResult, run_prompting
from quicktakes.maze.spec import BEFORE, LabSpec
from quicktakes.paths import atomic_write, user_file
from quicktakes.progress import Note

if TYPE_CHECKING:
    from quicktakes.llm.cache import SampleCache
    from quicktakes.llm.hf import HFBackend


def runs_root() -> Path:
    """Where run directories live: `$QUICKTAKES_RUNS`, else the user data directory."""
    return user_file("QUICKTAKES_RUNS", "data", "maze-runs")


def run_dir_name(spec: LabSpec) -> str:
    """Named by what decides its numbers, the precision included (a bf16 run and an fp32 one
    never resume each other)."""
    from quicktakes.llm.precision import resolve

    precision = resolve(spec.precision) if spec.trains else spec.precision
    return f"{spec.method}-{spec.finetune}-{spec.obs}-{precision}-seed{spec.seed}"


RESUMABLE = ("iterations", "checkpoints")
"""The settings a run folder may resume under other values of."""


def changed_settings(run_dir: Path, config: dict[str, Any]) -> list[str]:
    """The settings in which `config` differs from the run `run_dir` holds (none when it
    holds none): a folder is one run, and only how long it goes and where it is scored
    (`iterations`, `checkpoints`) may change: neither changes how it trains."""
    path = run_dir / "config.json"
    if not path.exists():
        return []
    before = json.loads(path.read_text())
    # a setting added since the run was made reads as what it did then
    defaults = LabSpec().model_dump(mode="json") | BEFORE
    return sorted(k for k in config
                  if k not in RESUMABLE and before.get(k, defaults.get(k)) != config[k])


def refuse_other_run(run_dir: Path, config: dict[str, Any]) -> None:
    if changed := changed_settings(run_dir, config):
        raise ConfigError(
            f"{run_dir} holds a run with other settings ({', '.join(changed)});"
            " choose another --out to start a new one"
        )


def run(
    spec: LabSpec,
    note: Note | None = None,
    run_dir: Path | None = None,
    cache: SampleCache | None = None,
    trainer: HFBackend | None = None,
) -> LabResult:
    """Run `spec` in its folder (`run_dir`, else `run_dir_name` under `runs_root`), which
    keeps `config.json` and, once done, `result.json`. Fine-tuning runs also save every
    iteration there and resume from it; pass `trainer` to re-use loaded weights (they are
    reset to the base first)."""
    from quicktakes.llm.cache import SampleCache

    run_dir = run_dir or runs_root() / run_dir_name(spec)
    cache = cache or SampleCache()
    start = time.perf_counter()
    if spec.trains:
        result = _training(spec, cache, note, run_dir, trainer)
    else:
        asked = spec.model_dump(mode="json")
        if spec.precision == "auto":
            asked.pop("precision")  # the backend resolves it; the check after the run reads it
        refuse_other_run(run_dir, asked)
        result = _prompting(spec, cache, note, trainer)
        config = result.config.model_dump(mode="json")
        refuse_other_run(run_dir, config)
        atomic_write(run_dir / "config.json", json.dumps(config, indent=2))
    record = result.to_dict() | {"seconds": round(time.perf_counter() - start, 2)}
    atomic_write(run_dir / "result.json", json.dumps(record, indent=2))
    return result


def _prompting(
    spec: LabSpec, cache: SampleCache, note: Note | None,
    trainer: HFBackend | None,
) -> LabResult:
    from quicktakes.llm import make_backend
    from quicktakes.llm.base import Backend
    from quicktakes.maze.policy import LLMPolicy

    if not spec.needs_model:
        return run_prompting(spec, None, note)
    b = spec.backend
    be: Backend
    if b.kind == "hf":
        if spec.mode != "step":
            raise ConfigError(
                "--backend hf scores moves: it needs --mode step (plan mode generates text: "
                "--backend local or openai)"
            )
        be = trainer or make_trainer(spec, _existing(b.model) if b.model else None)
        be.reset()
        spec = resolved(spec, be)
    else:
        be = make_backend(b.kind, b.model, b.base_url, None, b.concurrency)
    try:
        policy = LLMPolicy(be, cache, spec.mode, spec.temperature, obs=observation(spec.obs))
        return run_prompting(spec, policy, note)
    finally:
        if be is not trainer:
            be.close()


def make_trainer(spec: LabSpec, weights: Path | None = None) -> HFBackend:
    """The torch backend a spec asks for (the embedded weights unless `weights`)."""
    from quicktakes.llm.hf import HFBackend
    from quicktakes.llm.lora import lora_targets

    return HFBackend(weights, seed=spec.seed, finetune=spec.finetune, precision=spec.precision,
                     lora_rank=spec.lora_rank, lora_targets=lora_targets(spec.lora_targets))


def _training(
    spec: LabSpec,
    cache: SampleCache,
    note: Note | None,
    run_dir: Path,
    trainer: HFBackend | None,
) -> LabResult:
    """Train in torch here; sample here too, or (`kind="openai"`) from a vLLM server."""
    from quicktakes.llm.remote import OpenAIBackend, ServedAdapters
    from quicktakes.maze.train import run_training

    b = spec.backend
    served = None
    weights: Path | None
    if b.kind == "openai":
        if not b.train_model:
            raise ConfigError(
                "--backend openai with a fine-tuning method needs --train-model: the "
                "checkpoint directory the server serves, to fine-tune here"
            )
        served = ServedAdapters(OpenAIBackend(b.base_url, b.model, None, b.concurrency))
        weights = _existing(b.train_model)
    else:
        weights = _existing(b.model) if b.model else None
    if trainer is None:
        trainer = make_trainer(spec, weights)
    else:
        trainer.reset()
    if served is not None:  # before any sample: the server must serve what is trained
        from quicktakes.llm.remote import check_served
        from quicktakes.maze.grid import MOVES

        check_served(served.backend, trainer, MOVES)
    return run_training(resolved(spec, trainer), trainer, cache, run_dir, note, served)


def resolved(spec: LabSpec, trainer: HFBackend) -> LabSpec:
    """The spec as it runs: the precision the torch backend picked, so a run's recorded
    config says bf16 or fp32, never auto."""
    return spec.model_copy(update={"precision": trainer.precision})


def _existing(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"no such model file or directory: {p}")
    return p
