"""Test helpers: a local export folder with controlled mtimes, and a read-only DuckDB query."""

from __future__ import annotations

import gzip
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb


class ExportDir:
    """A local export folder (file://) whose files' mtimes the test sets."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @property
    def uri(self) -> str:
        return f"file://{self.root}"

    def write(self, name: str, body: bytes | str, age: timedelta = timedelta(hours=1)) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = body.encode() if isinstance(body, str) else body
        if name.lower().endswith(".gz") and not data.startswith(b"\x1f\x8b") and data:
            data = gzip.compress(data)
        path.write_bytes(data)
        stamp = (datetime.now(UTC) - age).timestamp()
        os.utime(path, (stamp, stamp))
        return path

    def remove(self) -> None:
        shutil.rmtree(self.root)


def query(database: Path | str, sql: str, params: list | None = None) -> list[tuple]:
    """Read the DuckDB file with a short-lived read-only connection."""
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
