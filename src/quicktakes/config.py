"""Typed configs: pydantic validation, with failures turned into one-line ConfigErrors."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from quicktakes.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], **values: Any) -> M:
    """Build `model` from `values`, or raise ConfigError naming the first bad field."""
    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or model.__name__
        raise ConfigError(f"{field}: {err['msg']} (got {err.get('input')!r})") from None
