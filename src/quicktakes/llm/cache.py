"""The sample cache: SQLite, keyed by everything that determines a sample.

Key = backend, model identity, the full prompt, sampling parameters, seed, sample index.
Every sample is committed as soon as it exists, so an interrupted run resumes where it
stopped, and a re-run re-uses everything. API keys are never part of any key or row.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from quicktakes.llm.base import Backend, Message, Sampling
from quicktakes.paths import user_file
from quicktakes.sqlite import now, open_db, run_script

ENV_CACHE = "QUICKTAKES_LLM_CACHE"


def default_path() -> Path:
    return user_file(ENV_CACHE, "cache", "samples.db")


def _m001_samples(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE samples (
            key TEXT PRIMARY KEY,
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            kind TEXT NOT NULL,
            result TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m001_samples]


class SampleCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.db = open_db(self.path, MIGRATIONS, "sample cache")
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(backend: Backend, kind: str, payload: dict[str, Any]) -> str:
        text = json.dumps(
            {"backend": backend.name, "model": backend.model_id, "kind": kind, **payload},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def _get(self, key: str) -> Any | None:
        row = self.db.execute("SELECT result FROM samples WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def _put(self, key: str, backend: Backend, kind: str, result: Any) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO samples VALUES (?, ?, ?, ?, ?, ?)",
            (key, backend.name, backend.model_id, kind, json.dumps(result), now()),
        )

    def generate(
        self,
        backend: Backend,
        messages: Sequence[Message],
        sampling: Sampling,
        seeds: Sequence[int],
    ) -> list[str]:
        """Cached generation: one row per (prompt, params, seed, index); only misses run."""
        payload = {"messages": list(messages), "sampling": sampling.key()}
        keys = [
            self.key(backend, "generate", {**payload, "seed": s, "index": i})
            for i, s in enumerate(seeds)
        ]
        out: list[str | None] = [self._get(k) for k in keys]
        todo = [i for i, v in enumerate(out) if v is None]
        self.hits += len(seeds) - len(todo)
        self.misses += len(todo)
        if todo:
            fresh = backend.generate(messages, sampling, [seeds[i] for i in todo])
            for i, text in zip(todo, fresh, strict=True):
                self._put(keys[i], backend, "generate", text)
                out[i] = text
        return [str(v) for v in out]

    def score(
        self, backend: Backend, messages: Sequence[Message], candidates: Sequence[str]
    ) -> list[float]:
        return self.score_batch(backend, [messages], candidates)[0]

    def score_batch(
        self,
        backend: Backend,
        conversations: Sequence[Sequence[Message]],
        candidates: Sequence[str],
    ) -> list[list[float]]:
        """Cached scores for many conversations; the misses go to the backend in one batch."""
        keys = [
            self.key(backend, "score", {"messages": list(c), "candidates": list(candidates)})
            for c in conversations
        ]
        out: list[list[float] | None] = [self._get(k) for k in keys]
        todo = [i for i, v in enumerate(out) if v is None]
        self.hits += len(keys) - len(todo)
        self.misses += len(todo)
        if todo:
            fresh = backend.score_batch([conversations[i] for i in todo], candidates)
            for i, row in zip(todo, fresh, strict=True):
                self._put(keys[i], backend, "score", row)
                out[i] = row
        return [[float(x) for x in row or []] for row in out]

    def stats(self) -> dict[str, Any]:
        rows = self.db.execute(
            "SELECT backend, model, kind, COUNT(*) FROM samples GROUP BY backend, model, kind"
        ).fetchall()
        return {
            "path": str(self.path),
            "size_bytes": sum(
                p.stat().st_size
                for p in (self.path, self.path.with_name(self.path.name + "-wal"))
                if p.exists()
            ),
            "entries": [{"backend": b, "model": m, "kind": k, "count": c} for b, m, k, c in rows],
        }

    def clear(self) -> int:
        n = self.db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        self.db.execute("DELETE FROM samples")
        return int(n)
