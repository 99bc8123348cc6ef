"""What every quicktakes SQLite file shares: WAL, a busy timeout, and recorded migrations."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from quicktakes.errors import StoreError

Migration = Callable[[sqlite3.Connection], None]

BUSY_MS = 5000
"""How long a write waits for another writer's lock before 'database is locked'."""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_script(db: sqlite3.Connection, sql: str) -> None:
    """Statements one by one (executescript would commit the migration's transaction)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    """Apply, in order, each migration not yet recorded; each in its own transaction."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    todo = set(pending(db, migrations))
    for m in migrations:
        if m.__name__ not in todo:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            m(db)
            db.execute("INSERT INTO _migrations VALUES (?, ?)", (m.__name__, now()))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def writable(path: Path) -> bool:
    """Whether this process may write the file and its folder (SQLite's journal lives there)."""
    import os

    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def open_db(
    path: Path, migrations: Sequence[Migration], what: str, create: bool = True,
    recovery: str = "restore your backup",
) -> sqlite3.Connection:
    """Open in autocommit mode (transactions are explicit), WAL, migrated; errors are
    StoreErrors naming the file. A file this process may not write opens read-only (reads
    work, a write is refused by SQLite, which the caller turns into one line); `create=False`
    never makes a file or folder."""
    if not path.exists():
        if not create:
            raise StoreError(f"no {what} at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {what} {path}: {exc.strerror}") from None
    elif path.is_dir():
        raise StoreError(f"{path} is a folder, not a {what}")
    read_only = path.exists() and not writable(path)
    try:
        if read_only:
            db = _open_read_only(path)
        else:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        if read_only:
            missing = pending(db, migrations)
            if missing:
                raise StoreError(f"{what} {path} is read-only and needs upgrading "
                                 f"({', '.join(missing)}): open it once where it is writable")
        else:
            db.execute("PRAGMA journal_mode = WAL")
            migrate(db, migrations)
    except sqlite3.DatabaseError as exc:
        raise StoreError(damaged(what, path, exc, recovery)) from None
    except OSError as exc:
        raise StoreError(f"cannot open {what} {path}: {exc}") from None
    return db


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Read-only; `immutable` where even SQLite's shared-memory file cannot be made beside it
    (a WAL database in a folder this process may not write)."""
    uri = path.resolve().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None,
                         check_same_thread=False)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db.close()
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None,
                           check_same_thread=False)


def pending(db: sqlite3.Connection, migrations: Sequence[Migration]) -> list[str]:
    """The migrations not yet applied (without applying any)."""
    has = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone()
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")} if has else set()
    return [m.__name__ for m in migrations if m.__name__ not in done]


def damaged(what: str, path: Path, exc: BaseException,
            recovery: str = "restore your backup") -> str:
    """One line for a database SQLite refused: damaged, locked, read-only, or not a database."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{what} {path} is locked by another program; try again when it is done"
    if "readonly" in text or "read-only" in text:
        return f"{what} {path} is read-only here: this command writes, so nothing was recorded"
    if "not a database" in text:
        return f"{path} is not a {what} ({text})"
    return f"{what} {path} is damaged ({text}): {recovery}"
