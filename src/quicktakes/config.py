"""Typed configs: pydantic validation, with failures turned into one-line ConfigErrors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from quicktakes.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

PLAIN = {
    "too_short": "give at least {min_length}",
    "too_long": "give at most {max_length}",
    "string_pattern_mismatch": "use letters, digits, '.', '_' or '-', starting with a letter "
                               "or a digit",
    "literal_error": "must be one of {expected}",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be above {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be below {lt}",
}
"""pydantic's error types in a person's words, for a CLI whose options `names` maps."""


def validated(model: type[M], names: Mapping[str, str] | None = None, /, **values: Any) -> M:
    """Build `model` from `values`, or raise ConfigError naming the first bad field: by the
    option a person typed, in plain words, where `names` maps fields to options."""
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
        if names is not None:
            field = names.get(str(err["loc"][0]), field)
            msg = PLAIN.get(err["type"], msg).format(**(err.get("ctx") or {}))
        raise ConfigError(f"{field}: {msg} (got {err.get('input')!r})") from None
