"""Package names that load on first use (PEP 562), so importing a family costs nothing."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def exports(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], list[str]]:
    """A module `__getattr__` serving `names` (name -> submodule) from `package`, and
    `__all__`."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's own name
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{names[name]}"), name)

    return __getattr__, sorted(names)
