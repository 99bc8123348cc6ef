"""Command-line options generated from a pydantic spec, and a `--spec FILE` under them.

A field's description is its option's help and the field's default is the option's default,
so the CLI cannot drift from the spec (inspect_ai's `--run-config`, typer underneath). Every
generated option defaults to None: only what the user typed overrides the spec file, and the
spec's own default applies to the rest.
"""

from __future__ import annotations

import inspect
import json
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from quicktakes.config import validated
from quicktakes.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SpecOption:
    """One generated option: where its value goes in the spec, and the flag that sets it."""

    path: tuple[str, ...]
    flag: str
    field: FieldInfo
    envvar: str | None = None

    @property
    def param(self) -> str:
        return "_".join(self.path)

    @property
    def choices(self) -> tuple[str, ...]:
        literal = _unwrap(self.field.annotation)
        return tuple(str(a) for a in get_args(literal)) if get_origin(literal) is Literal else ()

    def help(self) -> str:
        text = self.field.description or ""
        if self.choices and not all(c in text for c in self.choices):
            text += f" (one of: {' | '.join(self.choices)})"
        default = self.field.get_default(call_default_factory=True)
        return f"{text} [default: {default}]" if default is not None else text

    def cli_type(self) -> type:
        t = _unwrap(self.field.annotation)
        if get_origin(t) is Literal:
            return str
        return t if t in (int, float, bool) else str

    def parameter(self) -> inspect.Parameter:
        t = self.cli_type()
        decls = [f"{self.flag}/--no-{self.flag[2:]}"] if t is bool else [self.flag]
        opt = typer.Option(None, *decls, help=self.help(), envvar=self.envvar,
                           show_default=False)
        return inspect.Parameter(self.param, inspect.Parameter.KEYWORD_ONLY, default=opt,
                                 annotation=t | None)


def _unwrap(annotation: Any) -> Any:
    """The type under Optional[...] and Annotated[...]."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else str
        else:
            return annotation


def spec_options(
    model: type[BaseModel],
    flags: Mapping[str, str] = {},  # noqa: B006 - read only
    nested: Mapping[str, type[BaseModel]] = {},  # noqa: B006 - read only
    envvars: Mapping[str, str] = {},  # noqa: B006 - read only
) -> tuple[SpecOption, ...]:
    """An option per field of `model` and of each nested model named in `nested`; `flags`
    renames a dotted path's flag ("maze.wall_density": "--walls"); the default flag is the
    field's name with dashes."""
    out = []
    for name, f in model.model_fields.items():
        sub = nested.get(name)
        fields = sub.model_fields.items() if sub else [(None, f)]
        for inner, g in fields:
            path = (name, inner) if inner else (name,)
            dotted = ".".join(path)
            flag = flags.get(dotted, "--" + path[-1].replace("_", "-"))
            out.append(SpecOption(path, flag, g, envvars.get(dotted)))
    return tuple(out)


def with_options(options: tuple[SpecOption, ...]) -> Callable[[F], F]:
    """Give a command the generated options: it receives them as one dict `given` (dotted
    path -> value, only those set) besides its own parameters."""

    def decorate(fn: F) -> F:
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
               for name, p in inspect.signature(fn, eval_str=True).parameters.items()
               if name != "given"]

        def command(**kwargs: Any) -> Any:
            given = {".".join(o.path): v for o in options
                     if (v := kwargs.pop(o.param)) is not None}
            return fn(given, **kwargs)

        params = [o.parameter() for o in options] + own
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.__doc__ = fn.__doc__
        command.__name__ = fn.__name__
        return command  # type: ignore[return-value]

    return decorate


def load_json(path: Path, flag: str) -> Any:
    """The JSON value in the file `path` given to `flag`, or a one-line ConfigError."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{flag} {path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{flag} {path} is a folder; give a JSON file") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{flag} {path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{flag} {path}: cannot read it ({exc})") from None


def load_spec_file(path: Path | None) -> dict[str, Any]:
    """The JSON object in `path` (nothing when None), or a one-line ConfigError."""
    if path is None:
        return {}
    data = load_json(path, "--spec")
    if not isinstance(data, dict):
        raise ConfigError(f"--spec {path}: expected a JSON object of spec fields")
    return data


def build_spec(
    model: type[M], options: tuple[SpecOption, ...], given: Mapping[str, Any],
    spec_file: Path | None = None,
) -> M:
    """`model` from the spec file with the options typed on top; an invalid value is one line
    naming the option typed (or the file's field)."""
    data = load_spec_file(spec_file)
    for dotted, value in given.items():
        *parents, leaf = dotted.split(".")
        node = data
        for p in parents:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        node[leaf] = value
    flags = {".".join(o.path): o.flag for o in options if ".".join(o.path) in given}
    try:
        return validated(model, **data)
    except ConfigError as exc:
        field, sep, rest = str(exc).partition(": ")
        if sep and field in flags:
            raise ConfigError(f"{flags[field]}: {rest}") from None
        if sep and spec_file is not None and field in _paths(data):
            raise ConfigError(f"--spec {spec_file}: {field}: {rest}") from None
        raise


def _paths(data: Mapping[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for k, v in data.items():
        out.add(prefix + k)
        if isinstance(v, dict):
            out |= _paths(v, prefix + k + ".")
    return out
