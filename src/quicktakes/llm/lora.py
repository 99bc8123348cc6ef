"""Which linear layers a LoRA adapter wraps: names and sets of names, checked before any
model loads where the model is the embedded one."""

from __future__ import annotations

from collections.abc import Sequence

from quicktakes.errors import ConfigError

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
"""The adapter's default targets: attention's four projections."""
LORA_SETS = {
    "attention": LORA_TARGETS,
    "mlp": ("gate_proj", "up_proj", "down_proj"),
    "all": (*LORA_TARGETS, "gate_proj", "up_proj", "down_proj"),
}
"""Names for sets of targets: `all` is every linear layer of a Llama block (the LoRA-without-
regret setting, and the Hugging Face course's GRPO on SmolLM)."""


def lora_targets(spec: str) -> tuple[str, ...]:
    """Module names from a comma-separated list, each a name of `LORA_SETS` or a module name."""
    names: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        for name in LORA_SETS.get(part, (part,)):
            if name and name not in names:
                names.append(name)
    if not names:
        raise ConfigError("--lora-targets names no module")
    return tuple(names)


EMBEDDED_LINEAR = ("down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj")
"""The linear layers of the embedded SmolLM2's blocks (a test checks them against the model)."""


def check_target_names(targets: Sequence[str], linear: Sequence[str]) -> None:
    """Every target must name one of the `linear` layers (a ConfigError names them)."""
    if bad := [t for t in targets if t not in linear]:
        raise ConfigError(
            f"LoRA target {', '.join(map(repr, bad))} names no linear layer of the model; "
            f"valid: {', '.join(linear)}, or {', '.join(LORA_SETS)}"
        )
