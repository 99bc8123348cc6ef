"""Where quicktakes reads and writes on the user's behalf, checked before any work starts,
and how it writes: every file a user keeps is written whole or not at all.

A report or run folder that cannot be written must fail in the first second with one line,
not after an hour of experiments.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from quicktakes.errors import ConfigError

HOME = "QUICKTAKES_HOME"
"""One folder for everything quicktakes keeps (`data/` and `cache/` below it); the per-file
variables (`QUICKTAKES_DB`, `QUICKTAKES_RUNS`, `QUICKTAKES_LLM_CACHE`) still win over it."""

Kind = Literal["data", "cache"]


def home(kind: Kind) -> Path:
    """`$QUICKTAKES_HOME/<kind>` if set, else the platform's user data or cache directory."""
    if os.environ.get(HOME):
        return Path(os.environ[HOME]) / kind
    import platformdirs

    folder = platformdirs.user_data_dir if kind == "data" else platformdirs.user_cache_dir
    return Path(folder("quicktakes"))


def user_file(env_var: str, kind: Kind, filename: str) -> Path:
    """`$env_var` if set, else `filename` under `home(kind)`."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    return home(kind) / filename


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary sibling of `path` to write (a file or a folder), renamed onto `path` when
    the block ends without error and removed when it fails: readers see the old version or
    the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def atomic_write(path: Path, data: str | bytes) -> Path:
    """Write `data` to `path` whole or not at all (UTF-8 for text)."""
    with replacing(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
    return path


def _probe(folder: Path, flag: str) -> None:
    """Create and remove a file in `folder`: the one test of writability that tells the truth
    (permissions, read-only mounts, a full disk's refusal to create)."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".quicktakes-probe-")
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise ConfigError(f"{flag} {folder}: cannot write there ({exc.strerror})") from None


def output_dir(path: Path, flag: str = "--out") -> Path:
    """`path` as a folder to write into: created if missing, refused if it is a file or is not
    writable."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path} is a file; give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot create the folder ({exc.strerror})") from None
    _probe(path, flag)
    return path


def output_file(path: Path, flag: str) -> Path:
    """`path` as a file to (over)write: its folder must exist and be writable, and the path
    must not be a folder."""
    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"{flag} {path}: folder {parent} does not exist")
    _probe(parent, flag)
    return path
