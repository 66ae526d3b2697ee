"""Publish the marts as a read-only snapshot file that readers use while a run writes.

DuckDB lets one process write a database file and, while it does, no other process read it. The
marts are therefore copied, after a successful build, into a separate file that only this step
writes: the copy is written to a temporary file beside the snapshot, checkpointed, flushed to disk
and then renamed over the old snapshot. A reader opens either the old file or the new one, never a
mix, and never waits for a lock; a reader that has the old file open keeps reading it until it
reconnects. A publish that fails or is killed leaves the previous snapshot untouched; the
temporary file it left is removed by the next publish.

The snapshot holds every table and view of the working file's `marts` schema as a table of the
same name (`marts.*`), the file ledger `sigma_raw.loaded_files` (which export files landed or
failed, for readers who query it; the report reads marts.sigma_export_files), and a one-row table
`main.snapshot_info` that says what it holds (built_at, as_of_date, source_database, marts,
total_rows, load_summary, dbt_result).
"""

from __future__ import annotations

import contextlib
import glob
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from loader.csv_reader import quote_ident

MARTS_SCHEMA = "marts"
INFO_TABLE = "snapshot_info"
# Copied beside the marts: small, and what the report's `files` section reads.
LEDGER = ("sigma_raw", "loaded_files")
DEFAULT_PUBLISHED = "warehouse/sigma_impressions_marts.duckdb"
PUBLISHED_ENV = "SIGMA_IMPRESSIONS_PUBLISHED_PATH"
_TEMP_MARK = ".tmp-"


class PublishError(RuntimeError):
    """The snapshot could not be written; the message is one line that says what to do. The
    previous snapshot is untouched. `in_use`: the working file is held by another process."""

    def __init__(self, message: str, in_use: bool = False) -> None:
        super().__init__(message)
        self.in_use = in_use

    def line(self) -> str:
        """The one line `run` and `publish` print."""
        return f"publish failed, the previous snapshot is unchanged: {self}"


@dataclass(frozen=True)
class PublishResult:
    path: str
    tables: tuple[str, ...]
    rows: int
    built_at: datetime
    as_of_date: date | None

    def line(self) -> str:
        as_of = f", as of {self.as_of_date}" if self.as_of_date else ""
        return f"publish: {len(self.tables)} marts, {self.rows:,} rows{as_of} -> {self.path}"


def published_path(option: str | None, env: Mapping[str, str] | None = None) -> str:
    """The snapshot path: the option, else SIGMA_IMPRESSIONS_PUBLISHED_PATH, else the default."""
    env = os.environ if env is None else env
    return (option or "").strip() or (env.get(PUBLISHED_ENV) or "").strip() or DEFAULT_PUBLISHED


def check_paths(database: str, published: str) -> None:
    """Raise PublishError (one line) when `published` cannot be a snapshot of `database`; no I/O."""
    if not published.strip():
        raise PublishError("the published database path is empty: give a file path")
    if os.path.abspath(database) == os.path.abspath(published):
        raise PublishError(f"the published database must not be the working database ({database}): choose another path")
    if os.path.basename(os.path.abspath(published)).split(".", 1)[0].lower() == MARTS_SCHEMA:
        raise PublishError(
            f"name the published database something other than {os.path.basename(published)}: DuckDB names a "
            "file's catalog after it, and a catalog named marts makes marts.<table> ambiguous for readers"
        )


def publish(
    database: str,
    published: str,
    load_summary: str | None = None,
    dbt_result: str | None = None,
    now: datetime | None = None,
) -> PublishResult:
    """Copy every mart of `database` into a new snapshot and rename it over `published`.

    `load_summary` and `dbt_result` are recorded as given in `main.snapshot_info` (NULL when the
    caller ran no load or build, as `sigma-impressions publish` after a plain `dbt build`)."""
    check_paths(database, published)
    source, target = os.path.abspath(database), os.path.abspath(published)
    if not os.path.isfile(source):
        raise PublishError(f"no database at {database}: run `sigma-impressions run` (or load + dbt build) first")
    temp = f"{target}{_TEMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    built_at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_temp_files(target)
        tables, rows, as_of = _write_snapshot(source, temp, built_at, load_summary, dbt_result)
        _flush_to_disk(temp)
        with contextlib.suppress(FileNotFoundError):
            os.remove(target + ".wal")  # a stale log would be replayed onto the new snapshot
        os.replace(temp, target)
        _flush_directory(target)
    except duckdb.Error as exc:
        text = " ".join(str(exc).split())
        raise PublishError(_explain(database, text), in_use="lock" in text.lower()) from exc
    except OSError as exc:
        raise PublishError(f"cannot write the snapshot {published}: {exc.strerror or exc}: check the folder") from exc
    finally:
        for leftover in (temp, temp + ".wal"):
            with contextlib.suppress(OSError):  # absent, or its folder is not there to hold it
                os.remove(leftover)
    return PublishResult(published, tables, rows, built_at, as_of)


def _write_snapshot(
    source: str, temp: str, built_at: datetime, load_summary: str | None, dbt_result: str | None
) -> tuple[tuple[str, ...], int, date | None]:
    # The snapshot is attached under a fixed name (a file's default catalog name comes from its
    # file name, which may well be "marts" and clash with the schema); the working file under its
    # own default name, which dbt's views in it name their relations by.
    con = duckdb.connect(":memory:")
    here = "sigma_snapshot_" + uuid.uuid4().hex[:8]
    try:
        con.execute(f"attach {_literal(temp)} as {here}")
        con.execute(f"attach {_literal(source)} (read_only)")
        catalog = con.execute("select database_name from duckdb_databases() where path = ?", [source]).fetchone()[0]
        src = quote_ident(catalog)
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = ? and table_schema = ? order by table_name",
                [catalog, MARTS_SCHEMA],
            ).fetchall()
        ]
        if not names:
            raise PublishError(f"the database {source} has no marts: run dbt build first")
        con.execute(f"create schema {here}.{MARTS_SCHEMA}")
        rows = 0
        as_of: date | None = None
        for name in names:
            relation = f"{MARTS_SCHEMA}.{quote_ident(name)}"
            table = f"{here}.{relation}"
            con.execute(f"create table {table} as select * from {src}.{relation}")
            rows += con.execute(f"select count(*) from {table}").fetchone()[0]
            if "as_of_date" in [c[0] for c in con.execute(f"describe {table}").fetchall()]:
                found = con.execute(f"select max(as_of_date) from {table}").fetchone()[0]
                as_of = max(filter(None, (as_of, found)), default=None)
        ledger = con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = ? and table_schema = ? and table_name = ?",
            [catalog, *LEDGER],
        ).fetchone()[0]
        if ledger:
            schema, name = LEDGER
            con.execute(f"create schema {here}.{schema}")
            con.execute(f"create table {here}.{schema}.{name} as select * from {src}.{schema}.{name}")
        con.execute(
            f"create table {here}.main.{INFO_TABLE} ("
            "built_at timestamp, as_of_date date, source_database varchar, marts varchar[], "
            "total_rows bigint, load_summary varchar, dbt_result varchar)"
        )
        con.execute(
            f"insert into {here}.main.{INFO_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [built_at, as_of, source, names, rows, load_summary, dbt_result],
        )
        con.execute(f"detach {src}")
        con.execute(f"checkpoint {here}")
        con.execute(f"detach {here}")
    finally:
        con.close()
    return tuple(names), rows, as_of


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _explain(database: str, text: str) -> str:
    if "lock" in text.lower():
        return f"the database {database} is in use by another process (a load or dbt build?): publish after it finishes"
    return text[:300]


def _remove_abandoned_temp_files(target: str) -> None:
    """Temporary files of publishes that were killed (their process is gone)."""
    for path in glob.glob(glob.escape(target) + _TEMP_MARK + "*"):
        pid_text = path[len(target) + len(_TEMP_MARK) :].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and _alive(int(pid_text)):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _flush_to_disk(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush_directory(path: str) -> None:
    fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
