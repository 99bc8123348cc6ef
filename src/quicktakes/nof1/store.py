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
from quicktakes.sqlite import open_db, run_script

__all__ = ["connect", "default_path", "transaction"]

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


def connect(path: Path | None = None, create: bool = True) -> sqlite3.Connection:
    """Open (and migrate) the store; a corrupt or unreadable file is a StoreError."""
    path = path or default_path()
    if not create and not path.exists():
        raise StoreError(f"no trial database at {path}")
    return open_db(path, MIGRATIONS, "trial database")


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
