"""The DuckDB file that `load` and the inventory sync write: open it, and say in one line why it cannot be
opened or written (DatabaseError; the CLI prints it and exits 3)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import duckdb


class DatabaseError(RuntimeError):
    """The DuckDB file cannot be opened or written; the message says why and what to do."""


def duckdb_settings(memory_limit: str | None = None, threads: int | None = None, **extra: Any) -> dict[str, Any]:
    """The settings of a loader's DuckDB connection: no extension is ever installed or loaded on the
    fly; memory_limit and threads when given (else DuckDB's defaults); then `extra`."""
    settings: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if memory_limit:
        settings["memory_limit"] = memory_limit
    if threads:
        settings["threads"] = threads
    return {**settings, **extra}


def connect(database: str, settings: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, creating it and its folder; DatabaseError with one line when it cannot."""
    path = Path(database)
    try:
        if str(path.parent) not in ("", "."):
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the folder for --database {database}: {exc.strerror}") from exc
    try:
        return duckdb.connect(str(path), config=settings)
    except duckdb.Error as exc:
        raise DatabaseError(explain_open_error(database, exc)) from exc


def explain_open_error(database: str, exc: Exception) -> str:
    """One line for a DuckDB file that cannot be opened: read-only, in use (locked), or DuckDB's words."""
    text = str(exc)
    # Judge DuckDB's words, not the path's: a folder named "locked" or "blocks" is no lock conflict.
    words = re.sub(r'"[^"]*"', '""', text).replace(os.path.abspath(database), "").replace(database, "").lower()
    if "permission denied" in words or "read-only" in words:
        return f"cannot write the database {database}: the path is read-only; choose a writable --database"
    if "lock" in words:
        return (
            f"the database {database} is in use by another process (another load or dbt run?): "
            "wait for it to finish, then run again"
        )
    return f"cannot open --database {database}: {' '.join(text.split())[:300]}"


def explain_write_error(database: str, exc: Exception) -> str:
    """One line for a DuckDB file that cannot be written: a full disk (or quota), or DuckDB's words."""
    text = str(exc).lower()
    if any(word in text for word in ("no space", "disk", "file too large", "quota")):
        return (
            f"cannot write the database {database}: the disk is full (or a file-size limit or quota was "
            "reached); free space and run again"
        )
    return f"cannot write the database {database}: {' '.join(str(exc).split())[:300]}"


def is_write_failure(exc: duckdb.Error) -> bool:
    """The database file (or its temp space) could not be written: no file-level retry can help.
    DuckDB reports it as an IO error, or as a commit or a statement refused afterwards."""
    text = str(exc)
    return isinstance(exc, duckdb.IOException | duckdb.FatalException) or any(
        words in text for words in ("IO Error", "database has been invalidated", "Failed to commit")
    )


def is_fatal(exc: Exception) -> bool:
    """The database cannot be used any more (DuckDB invalidated it): no retry in it can help."""
    return isinstance(exc, duckdb.FatalException) or "database has been invalidated" in str(exc)
