"""Which precision the torch forward passes use: bf16 autocast only where the hardware does it.

On a CPU with native bf16 (AVX512-BF16 or AMX) autocast makes a step 1.3-1.9x faster; on one
without (most laptops: AVX2 only) oneDNN emulates it and the same forward pass is about 5.7x
*slower* than fp32 (`benchmarks/precision.py` measures both on the machine at hand). So
`auto`, the default everywhere, asks the hardware; `QUICKTAKES_PRECISION` sets it for a whole
`reproduce`. The resolved name is what the backends key the sample cache and the model
identity on, and what results.json records.
"""

from __future__ import annotations

import os
from typing import Literal, get_args

from quicktakes.errors import ConfigError

Precision = Literal["auto", "bf16", "fp32"]
Resolved = Literal["bf16", "fp32"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
ENV = "QUICKTAKES_PRECISION"


def check_name(name: str) -> Precision:
    """`name` if it is a precision, else a ConfigError naming the valid ones."""
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}; valid: {', '.join(PRECISIONS)}")
    return name  # type: ignore[return-value]


def requested(name: str | None = None) -> Precision:
    """The precision asked for: `name`, else `$QUICKTAKES_PRECISION`, else auto."""
    if name is None or name == "auto":
        env = os.environ.get(ENV, "").strip()
        if env:
            try:
                return check_name(env)
            except ConfigError as exc:
                raise ConfigError(f"${ENV}: {exc}") from None
        return "auto"
    return check_name(name)


def cpu_capability() -> str:
    """torch's name for the widest vector unit it dispatches to (AVX2, AVX512, ...)."""
    import torch

    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except (AttributeError, RuntimeError):
        return "unknown"


def native_bf16(device: str = "cpu") -> bool:
    """Whether `device` computes bf16 matmuls in hardware (not by emulation)."""
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def runs_bf16(device: str = "cpu") -> bool:
    """Whether bf16 autocast runs at all on `device` (a CPU always can, if slowly)."""
    return native_bf16(device) if device.startswith("cuda") else True


def default_device() -> str:
    """Where the torch backend runs: the GPU when torch sees one."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve(name: str | None = None, device: str | None = None) -> Resolved:
    """The precision to run on `device` (default: where the backend runs): auto picks bf16
    only where the hardware does it natively."""
    device = device or default_device()
    asked = requested(name)
    if asked == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if asked == "bf16" and not runs_bf16(device):
        raise ConfigError(f"bf16 was asked for, but {device} cannot run it; use --precision fp32")
    return asked


def provenance(device: str | None = None) -> dict[str, str]:
    """What decides the LLM claims' numbers on this machine, for results.json."""
    device = device or default_device()
    return {
        "precision": resolve(None, device),
        "precision_asked": requested(None),
        "cpu_capability": cpu_capability(),
        "native_bf16": str(native_bf16(device)).lower(),
        "device": device,
    }
