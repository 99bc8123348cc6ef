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
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    for m in migrations:
        if m.__name__ in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            m(db)
            db.execute("INSERT INTO _migrations VALUES (?, ?)", (m.__name__, now()))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def open_db(path: Path, migrations: Sequence[Migration], what: str) -> sqlite3.Connection:
    """Open in autocommit mode (transactions are explicit), WAL, migrated; errors are
    StoreErrors naming the file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        migrate(db, migrations)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise StoreError(f"cannot open {what} {path}: {exc}") from None
    return db
