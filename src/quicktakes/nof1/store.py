"""The trial store: one SQLite file, recorded migrations, WAL, one transaction per command.

Nothing is ever deleted or edited in place: a replaced value, a revised protocol or an exclusion
is a new row, so the history of every day stays readable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from quicktakes.errors import StoreError
from quicktakes.paths import user_file
from quicktakes.sqlite import damaged, open_db, run_script

__all__ = ["connect", "default_path", "opened", "require_sound", "transaction"]

ENV_DB = "QUICKTAKES_DB"


def default_path() -> Path:
    return user_file(ENV_DB, "data", "trials.db")


def _m001_initial(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE trials (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE TABLE protocol_versions (
            trial_id INTEGER NOT NULL REFERENCES trials(id),
            version INTEGER NOT NULL,
            protocol TEXT NOT NULL,
            schedule TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (trial_id, version)
        );
        CREATE TABLE observations (
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id),
            day TEXT NOT NULL,
            value REAL,
            onset TEXT,
            note TEXT,
            source TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            superseded_by INTEGER REFERENCES observations(id)
        );
        CREATE INDEX observations_current ON observations(trial_id, day)
            WHERE superseded_by IS NULL;
        CREATE TABLE exclusions (
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id),
            day TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    )


def _m002_history(db: sqlite3.Connection) -> None:
    """Every change as an append-only row (shown by `trial history`); exclusions can be
    revoked by a later row instead of being overwritten."""
    run_script(
        db,
        """
        CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id),
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            day TEXT,
            detail TEXT NOT NULL
        );
        ALTER TABLE exclusions ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;
        """,
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m001_initial, _m002_history]
"""Append-only: a shipped migration is never edited, only followed by a new one."""


RECOVERY = ("`quicktakes trial export NAME` saves what can still be read; or restore your "
            "backup")


def connect(path: Path | None = None, create: bool = True) -> sqlite3.Connection:
    """Open (and migrate) the store; a missing file (unless `create`), a damaged, locked or
    unreadable one is a StoreError naming it. A file this process may not write opens
    read-only."""
    return open_db(path or default_path(), MIGRATIONS, "trial database", create=create,
                   recovery=RECOVERY)


@contextmanager
def opened(path: Path | None = None, create: bool = False) -> Iterator[sqlite3.Connection]:
    """The store for one command: whatever SQLite refuses while it runs (a damaged page, a
    lock, a write to a read-only file) is one StoreError naming the file."""
    path = path or default_path()
    db = connect(path, create=create)
    try:
        yield db
    except sqlite3.DatabaseError as exc:
        raise StoreError(damaged("trial database", path, exc, RECOVERY)) from None
    finally:
        db.close()


def require_sound(db: sqlite3.Connection, path: Path | None = None) -> None:
    """SQLite's integrity check (a damaged page that the header hides): a StoreError naming
    the file and the recovery when it fails."""
    rows = [r[0] for r in db.execute("PRAGMA integrity_check(5)")]
    if rows != ["ok"]:
        raise StoreError(f"trial database {path or default_path()} is damaged "
                         f"({'; '.join(rows)}): {RECOVERY}")


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic unit: everything inside commits together or not at all."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
