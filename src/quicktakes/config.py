"""Typed configs: pydantic validation, with failures turned into one-line ConfigErrors."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from quicktakes.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], /, **values: Any) -> M:
    """Build `model` from `values`, or raise ConfigError naming the first bad field."""
    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "not a field of this spec"
        if not err["loc"]:
            raise ConfigError(msg) from None
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{field}: {msg} (got {err.get('input')!r})") from None
