"""The maze lab's torch path on a GPU, with no model weights at hand: a model built from
SmolLM2-135M's config with random weights (and a character tokenizer with its chat markup),
saved to a folder the lab's own `HFBackend` loads. It scores the lab's coins prompts, takes
one LoRA and one full fine-tuning step through `train_steps`, in fp32 and in bf16 autocast,
checks that every parameter, buffer and output stayed on the device, and prints the times and
the bf16/fp32 ratio (the baseline is fp32: above 1, bf16 is faster there).

It needs torch, transformers and peft only (what a lent GPU machine has), and under 5 minutes.
On a machine without CUDA it runs on the CPU, which is how the tests keep it from rotting.

Usage: python benchmarks/gpu_check.py [--layers N] [--repeats R] [--device cuda|cpu]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

SMOLLM2_135M = {
    "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
    "num_attention_heads": 9, "num_key_value_heads": 3, "vocab_size": 49152,
    "max_position_embeddings": 8192, "rope_theta": 100000.0, "rms_norm_eps": 1e-5,
    "tie_word_embeddings": True, "hidden_act": "silu",
}
"""SmolLM2-135M-Instruct's architecture (its config.json), so no download is needed."""
CHAT = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_folder(folder: Path, layers: int) -> Path:
    """A random-weight Llama with SmolLM2-135M's shape and a character tokenizer."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    chars = [chr(c) for c in range(32, 127)] + ["\n"]
    vocab = {t: i for i, t in enumerate(SPECIAL + chars)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<|endoftext|>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL[1:],
    )
    fast.chat_template = CHAT
    fast.save_pretrained(folder)
    cfg = LlamaConfig(**(SMOLLM2_135M | {"num_hidden_layers": layers}))
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(folder)
    return folder


def off_device(backend: Any, device: str) -> list[str]:
    """Parameters and buffers not on `device`."""
    named = [*backend.model.named_parameters(), *backend.model.named_buffers()]
    return [n for n, t in named if t.device.type != device]


def timed(repeats: int, fn: Any) -> float:
    """The fastest of `repeats` calls after a warm-up, synchronised on CUDA."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def check(layers: int = 30, repeats: int = 3, device: str | None = None) -> dict[str, Any]:
    from quicktakes.llm import SampleCache
    from quicktakes.llm.hf import HFBackend
    from quicktakes.llm.precision import default_device, runs_bf16
    from quicktakes.maze.env import OBSERVATIONS, start_state
    from quicktakes.maze.grid import maze_for_seed
    from quicktakes.maze.policy import LLMPolicy
    from quicktakes.maze.spec import DEFAULT_MAZE, LabSpec
    from quicktakes.maze.train import Update, move_log_probs, train_steps

    device = device or default_device()
    precisions = ["fp32"] + (["bf16"] if runs_bf16(device) else [])
    out: dict[str, Any] = {"device": device, "layers": layers, "torch": torch.__version__}
    if device == "cuda":
        out["gpu"] = torch.cuda.get_device_name(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_folder(Path(tmp) / "smollm2-135m-random", layers)
        obs = OBSERVATIONS["coins"]
        mazes = [maze_for_seed(DEFAULT_MAZE, s) for s in range(64)]
        for finetune in ("lora", "full"):
            for precision in precisions:
                backend = HFBackend(folder, seed=0, finetune=finetune, precision=precision)
                if backend.device != device:  # the check asked for the CPU on a GPU host
                    backend.device = device
                    backend.model.to(device)
                policy = LLMPolicy(backend, SampleCache(), obs=obs)
                convs = [policy.messages(obs.render(m, start_state(m), "step")) for m in mazes]
                spec = LabSpec(method="sft-iter", epochs=1, batch=8, finetune=finetune,
                               precision=precision)
                data = Update(convs[:8], np.eye(4)[np.arange(8) % 4])
                rng = np.random.default_rng(0)
                with torch.no_grad():
                    logp = move_log_probs(backend, convs, 1.0)
                    score = timed(repeats, lambda b=backend, c=convs: move_log_probs(b, c, 1.0))
                step = timed(
                    repeats, lambda b=backend, s=spec, d=data, g=rng: train_steps(b, d, s, g)
                )
                key = f"{finetune}-{precision}"
                out[key] = {
                    "score_64_states_s": round(score, 4),
                    "train_step_8_s": round(step, 4),
                    "finite": bool(torch.isfinite(logp).all()),
                    "outputs_on": logp.device.type,
                    "off_device": off_device(backend, device),
                }
                del backend
    for finetune in ("lora", "full"):
        if f"{finetune}-bf16" in out:
            a, b = out[f"{finetune}-fp32"], out[f"{finetune}-bf16"]
            out[f"{finetune} bf16/fp32 speed-up (score, step)"] = (
                round(a["score_64_states_s"] / b["score_64_states_s"], 2),
                round(a["train_step_8_s"] / b["train_step_8_s"], 2),
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", choices=("cuda", "cpu"), default=None)
    args = ap.parse_args()
    result = check(args.layers, args.repeats, args.device)
    print(json.dumps(result, indent=2))
    bad = [k for k, v in result.items() if isinstance(v, dict) and (
        v["off_device"] or not v["finite"] or v["outputs_on"] != result["device"])]
    if bad:
        sys.exit(f"left the device or went non-finite: {', '.join(bad)}")


if __name__ == "__main__":
    main()
