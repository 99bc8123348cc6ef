"""One seed, one stream per purpose: the same seed gives the same results everywhere."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def derive_seed(seed: int, *names: str) -> int:
    """A stable 63-bit seed for a named sub-stream (independent of Python's hash salt)."""
    h = hashlib.sha256(repr((int(seed), names)).encode()).digest()
    return int.from_bytes(h[:8], "little") >> 1


def make_rng(seed: int, *names: str) -> np.random.Generator:
    """A numpy Generator for the sub-stream `names` of `seed`."""
    import numpy as np

    return np.random.default_rng(derive_seed(seed, *names))


def seed_torch(seed: int) -> None:
    """Seed torch's global generator, importing torch only if it is already in use."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
