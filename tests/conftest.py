from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from quicktakes.cli import app


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, the longest (the ladder's second rung) leading: pytest-xdist
    hands the first tests out to its workers in turn, so they start at once on different
    workers instead of meeting at the end of one."""
    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("slow") is None:
            return 3
        if "second_rung" in item.name:
            return 0
        return 1 if item.module is not None and item.module.__name__.endswith("ladder") else 2

    items.sort(key=rank)


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory):
    """One cache directory per test session: the dequantized model is written there once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _user_dirs(tmp_path_factory, monkeypatch, _session_cache):
    """Every test gets its own user data directory, database and sample cache."""
    root = tmp_path_factory.mktemp("user")
    monkeypatch.delenv("QUICKTAKES_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(_session_cache))
    monkeypatch.setenv("QUICKTAKES_DB", str(root / "data" / "trials.db"))
    monkeypatch.setenv("QUICKTAKES_LLM_CACHE", str(root / "cache" / "samples.db"))


@pytest.fixture
def cli() -> Callable[..., object]:
    """Invoke the real CLI in-process; returns typer's Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # noqa: A002
        return runner.invoke(app, list(args), input=input)

    return invoke


def assert_one_line_error(result, *fragments: str) -> None:
    """Exit code 2, one line on stderr, no traceback, and the fragments in the message."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    # progress lines (a log's "[  12.3 s] ..." when stderr is no terminal) may come first
    assert all(ln.startswith("[") for ln in lines[:-1]), lines
    err = lines[-1] if lines else ""
    assert err.startswith("error: "), lines
    assert "Traceback" not in result.output
    for f in fragments:
        assert f in err, (f, err)


@pytest.fixture
def one_line_error() -> Callable[..., None]:
    return assert_one_line_error
