"""Fixtures for the reliability tests: an open landing database, a per-test time limit."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from loader.config import build_config
from loader.destinations.duckdb import open_database


class TimeLimit(Exception):
    """A test ran past its time limit: the loader hung."""


@pytest.fixture
def time_limit() -> Iterator[object]:
    """`with time_limit(seconds):` raises TimeLimit in the main thread when the block hangs."""

    def _handler(signum: int, frame: object) -> None:
        raise TimeLimit("the loader hung")

    class _Limit:
        def __init__(self, seconds: int) -> None:
            self.seconds = seconds

        def __enter__(self) -> None:
            signal.signal(signal.SIGALRM, _handler)
            signal.alarm(self.seconds)

        def __exit__(self, *exc: object) -> None:
            signal.alarm(0)

    yield _Limit
    signal.alarm(0)


@pytest.fixture
def landing(tmp_path: Path) -> Iterator[tuple]:
    """(connection, config, folder): a fresh DuckDB file open for landing, and a folder for exports."""
    folder = tmp_path / "exports"
    folder.mkdir()
    config = build_config({"bucket_uri": f"file://{folder}", "database": str(tmp_path / "w.duckdb")}, env={})
    with open_database(config) as con:
        yield con, config, folder
