"""Where quicktakes reads and writes on the user's behalf, checked before any work starts.

A report or run folder that cannot be written must fail in the first second with one line,
not after an hour of experiments.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from quicktakes.errors import ConfigError


def user_file(env_var: str, kind: str, filename: str) -> Path:
    """`$env_var` if set, else the platform's user data or cache directory (platformdirs)."""
    import platformdirs

    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    folder = platformdirs.user_data_dir if kind == "data" else platformdirs.user_cache_dir
    return Path(folder("quicktakes")) / filename


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
