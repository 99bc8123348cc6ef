"""The trainable backend: the same embedded SmolLM2 weights in transformers, LoRA or full.

transformers reads the GGUF with `gguf_file=` and dequantizes it (~20 s); the result is saved
once to the user cache directory and re-used. The backend's identity includes a hash of the
trainable weights (the LoRA matrices, or every weight under full fine-tuning), so after every
update the sample cache sees a new model and re-uses nothing stale.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import torch

from quicktakes.llm.base import Backend, Message, Sampling
from quicktakes.llm.local import embedded_model_path, file_identity
from quicktakes.llm.lora import LORA_TARGETS, check_target_names
from quicktakes.llm.precision import default_device
from quicktakes.llm.precision import resolve as resolve_precision
from quicktakes.llm.threads import cpu_threads
from quicktakes.paths import atomic_write, home, replacing


def linear_layers(model: Any) -> list[str]:
    """The names of `model`'s linear layers, the output head left out."""
    return sorted({n.split(".")[-1] for n, m in model.named_modules()
                   if isinstance(m, torch.nn.Linear) and n.split(".")[-1] != "lm_head"})


OFFLINE = {"local_files_only": True}
"""Every load reads local files only: nothing reaches for the hub (no environment variable
set behind the caller's back)."""


PREFIX_MIN = 32
"""Shared opening (tokens) from which a batch computes it once (a coins prompt's system
prompt and chat markup are about 43 tokens of 86)."""
PREFIX_CHUNK = 64
"""Rows per pass on the shared-opening path: bounds the copied keys and values (~0.7 GB)."""


def shared_prefix(ids: Sequence[Sequence[int]]) -> int:
    """Tokens every row starts with, leaving each row at least one token of its own."""
    limit = min(len(r) for r in ids) - 1
    n = 0
    while n < limit and all(r[n] == ids[0][n] for r in ids):
        n += 1
    return n


def frozen_linears(model: Any) -> dict[str, Any]:
    """Every frozen linear layer's weight by module name: a LoRA adapter's base layers and the
    output head (tied to the input embeddings, which stay as they are)."""
    return {
        name: module.weight
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and not module.weight.requires_grad
    }


def _quiet_transformers() -> None:
    """Library chatter (load bars, deprecation notes) would bury quicktakes' own progress."""
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")


@contextlib.contextmanager
def _no_gguf_bar() -> Iterator[None]:
    """transformers' GGUF reader draws its own tqdm bar (20 carriage-return frames in a log),
    which its logging switches do not reach: iterate plainly instead."""
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        yield
        return
    bar = getattr(gguf_utils, "tqdm", None)
    gguf_utils.tqdm = lambda it, *a, **k: it
    try:
        yield
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar


def dequantized_dir(gguf: Path) -> Path:
    """Load the GGUF through transformers once and save plain weights; return the folder."""
    ident = file_identity(gguf).replace(":", "_")
    folder = home("cache") / "hf" / ident
    if (folder / "config.json").exists():
        return folder
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _no_gguf_bar():
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, **OFFLINE)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32, **OFFLINE
        )
    # save_pretrained refuses a model still marked as coming from a quantizer
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    try:
        with replacing(folder) as tmp:
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
    except OSError:
        if (folder / "config.json").exists():  # another process finished first: its copy
            return folder
        raise
    return folder


Finetune = Literal["lora", "full"]


class HFBackend(Backend):
    """Scores the four moves from one batched forward pass; trainable (LoRA or every weight)."""

    name = "hf"
    can_score = True
    bf16_base = True
    """With LoRA under bf16 autocast, the frozen linear weights run as bf16 copies of their fp32
    masters. Autocast casts a weight to bf16 on every call and caches only weights that train,
    so the copies give the same logits and gradients, bit for bit, without the per-call casts:
    1.1-1.2x more states scored per second. With autocast off the masters run again."""

    def __init__(
        self,
        model: Path | None = None,
        lora_rank: int = 8,
        seed: int = 0,
        threads: int | None = None,
        finetune: Finetune = "lora",
        precision: str | None = None,
        lora_targets: Sequence[str] = LORA_TARGETS,
    ) -> None:
        super().__init__()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        _quiet_transformers()
        torch.set_num_threads(threads or cpu_threads())
        source = Path(model) if model else embedded_model_path()
        # A Hugging Face checkpoint directory loads as is; a GGUF is dequantized once.
        self.folder = source if source.is_dir() else dequantized_dir(source)
        self.finetune = finetune
        self.device = default_device()
        self._masters: dict[str, torch.nn.Parameter] = {}
        self.autocast = resolve_precision(precision, self.device) == "bf16"
        self.tokenizer = AutoTokenizer.from_pretrained(self.folder, **OFFLINE)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        torch.manual_seed(seed)
        base = AutoModelForCausalLM.from_pretrained(self.folder, dtype=torch.float32, **OFFLINE)
        base.to(self.device)  # type: ignore[arg-type]
        self.model: Any = base
        self.lora_targets = tuple(lora_targets)
        if finetune == "lora":
            from peft import LoraConfig, get_peft_model

            check_target_names(self.lora_targets, linear_layers(base))
            cfg = LoraConfig(
                r=lora_rank,
                lora_alpha=2 * lora_rank,
                lora_dropout=0.0,
                target_modules=list(self.lora_targets),
                task_type="CAUSAL_LM",
            )
            self.model = get_peft_model(base, cfg)
            if self.bf16_base:
                self._masters = frozen_linears(self.model)
                self.autocast = self.autocast  # bf16 copies where autocast runs
            # the adapter's initial draw: every restart begins from the same A (and B = 0)
            self._adapter_init = {
                k: p.detach().cpu().clone()
                for k, p in self.model.named_parameters()
                if p.requires_grad
            }
        else:
            # a CPU copy to restart from, whatever shape the checkpoint came in (shards, GGUF)
            self._base_state = {k: v.detach().cpu().clone() for k, v in base.state_dict().items()}
        self.model.eval()
        self._base_id = source.name if source.is_dir() else file_identity(source)
        self._weights_id = ""
        self.refresh_identity()

    @property
    def autocast(self) -> bool:
        """bf16 autocast for the forward pass, where the hardware has it (`precision.resolve`:
        1.3-1.9x faster steps with native bf16, 5.7x slower without); trainable weights stay
        fp32. Switching it swaps the frozen base between its bf16 copies and its fp32 masters
        (`bf16_base`)."""
        return self._autocast

    @autocast.setter
    def autocast(self, on: bool) -> None:
        self._autocast = on
        if not self._masters:
            return
        modules = dict(self.model.named_modules())
        for name, master in self._masters.items():
            modules[name].weight = (
                torch.nn.Parameter(master.detach().to(torch.bfloat16), requires_grad=False)
                if on else master
            )

    def refresh_identity(self) -> None:
        """Hash the trainable weights (all of them under full fine-tuning): call after updates."""
        h = hashlib.sha256()
        for name, p in sorted(self.model.named_parameters()):
            if p.requires_grad:
                h.update(name.encode())
                h.update(p.detach().cpu().numpy().tobytes())
        self._weights_id = h.hexdigest()[:16]

    @property
    def weights_id(self) -> str:
        return self._weights_id

    @property
    def precision(self) -> str:
        return "bf16" if self.autocast else "fp32"

    @property
    def model_id(self) -> str:
        precision = "+bf16" if self.autocast else ""
        return f"{self._base_id}+{self.finetune}{precision}:{self._weights_id}"

    @property
    def checkpoint_file(self) -> str:
        """The file `save` writes: the adapter, or the whole model."""
        return "adapter_model.safetensors" if self.finetune == "lora" else "model.safetensors"

    def prompts(self, conversations: Sequence[Sequence[Message]]) -> list[str]:
        return [
            str(
                self.tokenizer.apply_chat_template(
                    list(c), tokenize=False, add_generation_prompt=True
                )
            )
            for c in conversations
        ]

    def candidate_ids(self, candidates: Sequence[str]) -> list[int]:
        ids = [self.tokenizer.encode(c, add_special_tokens=False) for c in candidates]
        assert all(len(i) == 1 for i in ids), "candidates must be single tokens"
        return [i[0] for i in ids]

    def last_logits(self, enc: Any) -> torch.Tensor:
        """(batch, vocabulary) logits at the last position only (the rest are never read),
        under bf16 autocast when enabled; differentiable, returned as fp32."""
        with torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.autocast):
            out = self.model(**enc, logits_to_keep=1)
        return out.logits[:, -1, :].float()

    def prompt_logits(self, ids: list[list[int]]) -> torch.Tensor:
        """(batch, vocabulary) logits after each prompt, differentiable. Prompts that share a
        long opening (the system prompt, a few-shot prompt's examples) read it once
        (`_logits_shared`)."""
        shared = shared_prefix(ids)
        if len(ids) > 1 and shared >= PREFIX_MIN:
            extra = self.usage.extra
            extra["reused_prompt_tokens"] = extra.get("reused_prompt_tokens", 0.0) + shared * (
                len(ids) - 1
            )
            return self._logits_shared(ids, shared)
        enc = self.tokenizer.pad({"input_ids": ids}, return_tensors="pt")
        return self.last_logits(enc.to(self.device))

    def _ids(self, conversations: Sequence[Sequence[Message]]) -> list[list[int]]:
        return [
            self.tokenizer(p, add_special_tokens=False)["input_ids"]
            for p in self.prompts(conversations)
        ]

    def move_logits(
        self, conversations: Sequence[Sequence[Message]], candidates: Sequence[str]
    ) -> torch.Tensor:
        """(batch, candidates) next-token logits at the end of each prompt; differentiable."""
        return self.prompt_logits(self._ids(conversations))[:, self.candidate_ids(candidates)]

    def score_batch(
        self, conversations: Sequence[Sequence[Message]], candidates: Sequence[str]
    ) -> list[list[float]]:
        """Log-probabilities of each candidate over the full vocabulary, batched."""
        ids = self._ids(conversations)
        with torch.no_grad():
            logits = self.prompt_logits(ids)
        logp = torch.log_softmax(logits.double(), dim=-1)[:, self.candidate_ids(candidates)].cpu()
        self.usage.calls += 1
        self.usage.prompt_tokens += sum(map(len, ids))
        return [[float(x) for x in row] for row in logp]

    def _logits_shared(self, ids: list[list[int]], shared: int) -> torch.Tensor:
        """Last-position logits with the shared opening's keys and values computed once per
        chunk of rows and repeated for each row: the same function as the plain pass (equal
        within 2e-5 in fp32, gradients included), with the opening read once instead of once
        per row (7.5x faster on 32 few-shot prompts of ~500 tokens; 1.2-1.4x on coins prompts,
        whose system prompt is half the tokens). Rows are right-padded: under the causal mask
        no real token sees a pad, so positions stay contiguous and no mask is needed."""
        dev, pad = self.device, int(self.tokenizer.pad_token_id)
        out = []
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=self.autocast):
            for start in range(0, len(ids), PREFIX_CHUNK):
                rest = [row[shared:] for row in ids[start : start + PREFIX_CHUNK]]
                width, n = max(map(len, rest)), len(rest)
                cache = self.model(
                    input_ids=torch.tensor([ids[0][:shared]], device=dev), use_cache=True,
                    logits_to_keep=1,
                ).cache
                cache.batch_repeat_interleave(n)
                inp = torch.full((n, width), pad, device=dev)
                for i, r in enumerate(rest):
                    inp[i, : len(r)] = torch.tensor(r, device=dev)
                last = torch.tensor([len(r) - 1 for r in rest], device=dev)
                keep = torch.unique(last)
                logits = self.model(
                    input_ids=inp,
                    cache=cache,
                    attention_mask=torch.ones(n, shared + width, dtype=torch.long, device=dev),
                    position_ids=(shared + torch.arange(width, device=dev)).expand(n, width),
                    logits_to_keep=keep,
                ).logits
                out.append(logits[torch.arange(n, device=dev), torch.searchsorted(keep, last)])
        return torch.cat(out).float()

    def score(self, messages: Sequence[Message], candidates: Sequence[str]) -> list[float]:
        return self.score_batch([messages], candidates)[0]

    def generate(
        self, messages: Sequence[Message], sampling: Sampling, seeds: Sequence[int]
    ) -> list[str]:
        raise NotImplementedError("the hf backend scores moves; use step mode")

    def save(self, folder: Path) -> None:
        self.model.save_pretrained(str(folder))
        atomic_write(folder / "quicktakes.json", json.dumps({"model_id": self.model_id}))

    def load(self, folder: Path) -> None:
        from safetensors.torch import load_file

        state = load_file(str(folder / self.checkpoint_file), device=self.device)
        if self.finetune == "lora":
            from peft import set_peft_model_state_dict

            set_peft_model_state_dict(self.model, state)
        else:
            self._load_full(state)
        self.refresh_identity()

    def _load_full(self, state: dict[str, torch.Tensor]) -> None:
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        tied = {"lm_head.weight"} if self.model.config.tie_word_embeddings else set()
        if unexpected or set(missing) - tied:
            raise ValueError(f"checkpoint does not fit the model: {missing or unexpected}")

    @contextlib.contextmanager
    def base_weights(self) -> Iterator[None]:
        """Score with the base weights for a while (the reference policy of a KL penalty):
        the adapter switched off, or under full fine-tuning the base state swapped in."""
        if self.finetune == "lora":
            with self.model.disable_adapter():
                yield
            return
        current = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        self.model.load_state_dict(self._base_state)
        try:
            yield
        finally:
            self.model.load_state_dict(current)

    def absorb(self) -> None:
        """Make the current weights the base that `reset` returns to and `base_weights` scores
        with (a warm start): the adapter is merged into the weights it adapts and starts
        afresh. The model id then names the merged weights, so no cached sample of the old
        base is read for the new one."""
        merged = self._weights_id
        if self.finetune == "lora":
            on, self.autocast = self.autocast, False  # merged into the fp32 masters
            with torch.no_grad():
                self.model.merge_adapter()
            for module in self.model.modules():
                if hasattr(module, "merged_adapters"):
                    module.merged_adapters = []  # merged for good: the adapter runs again
            self.autocast = on
            self.reset()
        else:
            self._base_state = {
                k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()
            }
        self._base_id = f"{self._base_id}+{merged}"
        self.refresh_identity()

    def base_state(self) -> dict[str, torch.Tensor]:
        """Full fine-tuning's starting weights (a CPU copy): what `reset` returns to."""
        if self.finetune == "lora":
            raise ValueError("under LoRA the base weights are the model's own, frozen")
        return self._base_state

    def snapshot(self) -> dict[str, torch.Tensor]:
        """A copy of the trainable weights, to `restore` after trying an update."""
        return {
            k: p.detach().clone() for k, p in self.model.named_parameters() if p.requires_grad
        }

    def restore(self, snap: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for k, p in self.model.named_parameters():
                if k in snap:
                    p.copy_(snap[k])
        self.refresh_identity()

    def reset(self) -> None:
        """Back to the base weights, for restart-from-base (ReST-EM) and between runs."""
        if self.finetune == "lora":
            with torch.no_grad():
                for name, p in self.model.named_parameters():
                    if name in self._adapter_init:
                        p.copy_(self._adapter_init[name])
        else:
            self.model.load_state_dict(self._base_state)
        self.refresh_identity()
