"""The DuckDB destination: the sigma_raw tables of the DuckDB file, each file whole or not at all.

Tables (schema sigma_raw):
- impression_rows: one VARCHAR column per distinct header ever seen, plus the loader's metadata
  columns (loader.contract.METADATA_COLUMNS: _file_uri, _file_row_number, _loaded_at,
  _integration_name).
- rejected_lines: records the CSV reader could not take (wrong field count, not UTF-8, ...).
- loaded_files: the manifest, one row per file: etag, size, counts, status, error.
The inventory tables (loader.sigma_api.tables) are created empty beside them, so the dbt sources
exist before the first inventory sync.

A batch is one transaction (`RawTables.land`): ALTER TABLE ADD COLUMN for new headers first (DuckDB
refuses an ALTER after a delete or insert in the same transaction), then per file: delete its earlier
version, land its records straight from its CSV (csv_reader.land_records: DuckDB's read_csv, checked
against Python's record count, or Python's parser), its manifest row; a file that could not be fetched
or read gets a `failed` manifest row and none of its rows; then commit. DuckDB's reader raising on a
file aborts the transaction: it is rolled back and the batch landed again with that file parsed by
Python; if that fails too, the files land one by one. A database that cannot be written (disk full)
ends the load with DatabaseError (exit 3).

Each batch lands on its own connection (a cursor of the file's connection), so two batches can land
at once from two threads (`batches_at_once`); the lake lands each batch through `RawTables` too, into
a scratch database.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import duckdb

from loader.config import LoadConfig
from loader.contract import METADATA_COLUMNS, RAW_SCHEMA
from loader.csv_reader import ReaderRefused, UnreadableFile, land_records, quote_ident
from loader.database import (
    DatabaseError,
    connect,
    duckdb_settings,
    explain_write_error,
    is_fatal,
    is_write_failure,
)
from loader.destinations import FetchedFile, FileResult
from loader.secrets import scrub
from loader.sigma_api.tables import create_inventory_tables
from loader.storage import ExportObject, describe_error

DDL = f"""
create schema if not exists {RAW_SCHEMA};
create table if not exists {RAW_SCHEMA}.impression_rows (
    {", ".join(f"{name} {kind}" for name, kind in METADATA_COLUMNS.items())}
);
create table if not exists {RAW_SCHEMA}.rejected_lines (
    _file_uri varchar,
    line_number bigint,
    error varchar,
    raw_text varchar,
    _loaded_at timestamp,
    _integration_name varchar
);
create table if not exists {RAW_SCHEMA}.loaded_files (
    file_uri varchar,
    etag varchar,
    size_bytes bigint,
    last_modified timestamp,
    headers varchar[],
    rows_loaded bigint,
    rows_rejected bigint,
    status varchar,
    error varchar,
    loaded_at timestamp,
    integration_name varchar
);
"""

LOAD_THREADS = 1  # DuckDB threads of `load` when --threads is not given
CONCURRENT_BATCHES = 2  # batches landing at once (no more than the machine's cores)


@contextlib.contextmanager
def open_database(config: LoadConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (and create) the DuckDB file with the raw tables, with clear errors for the usual failures."""
    # One DuckDB thread unless asked otherwise: each file's one-pass insert is a single-threaded
    # pipeline (see csv_reader); with more threads it runs on a DuckDB worker while the calling
    # thread polls for the result (measured: 35-70% more CPU, and no faster). With one thread each
    # connection runs its statements on its calling thread, so the cores are used by landing
    # batches at once on several connections instead (batches_at_once).
    # DuckDB hands memory freed in bulk (at the end of each per-file insert) back to the OS above the
    # flush threshold, and faults it in again for the next file: measured at 5M rows in 90 files, 0.4 s
    # of the load's 1.3 s system CPU. A load's memory is bounded by memory_limit either way.
    settings = duckdb_settings(
        config.memory_limit,
        config.threads or LOAD_THREADS,
        allocator_bulk_deallocation_flush_threshold="1GB",
    )
    con = connect(config.database, settings)
    try:
        con.execute(DDL)
        create_inventory_tables(con)
        yield con
    except duckdb.Error as exc:
        # The one place a database write failure is explained: the landing steps re-raise such an
        # error unchanged (no per-file retry can help) and it ends the load here.
        if not is_write_failure(exc):
            raise
        raise DatabaseError(explain_write_error(config.database, exc)) from exc
    finally:
        con.close()


def manifest_uris(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every file_uri in the manifest, whatever its status: only those can have rows to replace."""
    return {uri for (uri,) in con.execute(f"select distinct file_uri from {RAW_SCHEMA}.loaded_files").fetchall()}


def already_loaded(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """file_uri -> etag of every file loaded successfully so far."""
    rows = con.execute(f"select file_uri, etag from {RAW_SCHEMA}.loaded_files where status = 'loaded'").fetchall()
    return dict(rows)


class DuckDBDestination:
    """The sigma_raw tables of an open DuckDB file (a loader.destinations.Destination)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: LoadConfig) -> None:
        self.con, self.config = con, config
        self.in_manifest = manifest_uris(con)
        self.batches_at_once = min(CONCURRENT_BATCHES, os.cpu_count() or 1)

    def landed(self) -> dict[str, str]:
        return already_loaded(self.con)

    @contextlib.contextmanager
    def writer(self) -> Iterator[RawTables]:
        """A connection of its own (a cursor: its own transaction); DuckDB runs each statement on the
        thread that calls it, so the single-threaded per-file inserts of two batches use two cores."""
        with self.con.cursor() as cursor:
            yield RawTables(cursor, self.config, self.in_manifest)


@contextlib.contextmanager
def open_destination(config: LoadConfig) -> Iterator[DuckDBDestination]:
    with open_database(config) as con:
        yield DuckDBDestination(con, config)


class _Refused(Exception):
    """DuckDB's CSV reader raised on this file; the transaction was rolled back."""

    def __init__(self, uri: str, error: Exception) -> None:
        super().__init__(str(error))
        self.uri = uri
        self.error = error


class RawTables:
    """Lands batches into the sigma_raw tables of one connection (a loader.destinations.BatchWriter).
    `in_manifest`: the URIs the manifest holds, whose earlier rows a new version replaces."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: LoadConfig, in_manifest: set[str]) -> None:
        self.con, self.config, self.in_manifest = con, config, in_manifest

    def adds_columns(self, files: list[FetchedFile]) -> bool:
        existing = existing_columns(self.con)
        return any(c.lower() not in existing for f in files for c in f.columns)

    def land(self, files: list[FetchedFile]) -> list[FileResult]:
        """All files in one transaction: each file whole or not at all, as with one transaction per
        file, but one commit (WAL write + checkpoint) instead of one per file. When DuckDB's reader
        raises on a file (which aborts the transaction), the transaction is rolled back and the batch
        landed again with that file parsed by Python; should that fail too, or the transaction fail
        otherwise, the files land one by one."""
        python: set[str] = set()
        for _attempt in range(2):
            try:
                return _transaction(self.con, files, self.config, self.in_manifest, python)
            except _Refused as exc:
                python.add(exc.uri)
            except duckdb.Error as exc:
                if is_write_failure(exc):
                    raise  # explained once, by open_database
                break
        return [self._land_alone(f, python) for f in files]

    def _land_alone(self, fetched: FetchedFile, python: set[str]) -> FileResult:
        """One file in a transaction of its own: parsed by DuckDB, by Python if DuckDB's reader raised,
        or recorded as failed if the transaction fails otherwise."""
        in_manifest = {fetched.obj.uri} & self.in_manifest
        try:
            try:
                return _transaction(self.con, [fetched], self.config, in_manifest, python)[0]
            except _Refused:
                return _transaction(self.con, [fetched], self.config, in_manifest, python | {fetched.obj.uri})[0]
        except duckdb.Error as exc:
            if is_write_failure(exc):
                raise  # explained once, by open_database
            error = scrub(describe_error(exc, self.config.bucket.scheme), self.config.secrets())
            failed = replace(fetched, path=None, headers=[], error=error)
            return _transaction(self.con, [failed], self.config, in_manifest, python)[0]


def _transaction(
    con: duckdb.DuckDBPyConnection,
    files: list[FetchedFile],
    config: LoadConfig,
    in_manifest: set[str],
    python: set[str],
) -> list[FileResult]:
    """Land files in one transaction, each in one pass straight from its CSV: each file whole (rows,
    rejects, manifest row), or for a file that cannot be read a `failed` manifest row and none of its
    rows. Files in `python` are parsed by Python's csv module. Raises _Refused (after a rollback)
    when DuckDB's reader raised on a file, any other duckdb.Error after a rollback."""
    con.execute("begin transaction")
    try:
        _add_columns(con, [c for f in files for c in f.columns])
        results = [_land_in_transaction(con, f, config, f.obj.uri in in_manifest, python) for f in files]
        con.execute("commit")
        return results
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # a failed write may have ended the transaction already:
            con.execute("rollback")  # the original error is the one to report
        raise


def _land_in_transaction(
    con: duckdb.DuckDBPyConnection, fetched: FetchedFile, config: LoadConfig, replaces: bool, python: set[str]
) -> FileResult:
    obj = fetched.obj
    if replaces:
        _delete_file(con, obj.uri)
    error = fetched.error
    if fetched.path is not None:
        try:
            parsed = land_records(con, fetched.path, fetched.headers, fetched.rows, python=obj.uri in python)
        except ReaderRefused as exc:
            if is_fatal(exc.error):
                raise exc.error from exc  # the database is gone: explained once, by open_database
            raise _Refused(obj.uri, exc.error) from exc
        except (UnreadableFile, OSError) as exc:
            text = str(exc) if isinstance(exc, UnreadableFile) else describe_error(exc, config.bucket.scheme)
            error = scrub(text, config.secrets())
            _delete_file(con, obj.uri)  # what landed of it before the error
        else:
            loaded_at = fetched.rows.loaded_at
            _insert_manifest(
                con, obj, config, parsed.headers, parsed.rows_loaded, parsed.rows_rejected, "loaded", None, loaded_at
            )
            return FileResult(obj.uri, "loaded", parsed.rows_loaded, parsed.rows_rejected, obj.size_bytes)
    _insert_manifest(con, obj, config, None, 0, 0, "failed", error, fetched.rows.loaded_at)
    return FileResult(obj.uri, "failed", size_bytes=obj.size_bytes, error=error)


def existing_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The columns of sigma_raw.impression_rows: lower-cased name (DuckDB compares names so) -> name."""
    return {
        name.lower(): name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = 'impression_rows'",
            [RAW_SCHEMA],
        ).fetchall()
    }


def _add_columns(con: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
    """Add the raw columns the table lacks (case-insensitively). Call it first in a transaction:
    DuckDB refuses to commit an ALTER that follows a delete or insert on the same table."""
    existing = set(existing_columns(con))
    for name in columns:
        if name.lower() not in existing:
            con.execute(f"alter table {RAW_SCHEMA}.impression_rows add column {quote_ident(name)} varchar")
            existing.add(name.lower())


def _delete_file(con: duckdb.DuckDBPyConnection, uri: str) -> None:
    for table, column in (
        ("impression_rows", "_file_uri"),
        ("rejected_lines", "_file_uri"),
        ("loaded_files", "file_uri"),
    ):
        con.execute(f"delete from {RAW_SCHEMA}.{table} where {column} = ?", [uri])


def _insert_manifest(
    con: duckdb.DuckDBPyConnection,
    obj: ExportObject,
    config: LoadConfig,
    headers: list[str] | None,
    rows_loaded: int,
    rows_rejected: int,
    status: str,
    error: str | None,
    loaded_at: datetime,
) -> None:
    con.execute(
        f"insert into {RAW_SCHEMA}.loaded_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            obj.uri,
            obj.etag,
            obj.size_bytes,
            obj.last_modified.astimezone(UTC).replace(tzinfo=None),
            headers,
            rows_loaded,
            rows_rejected,
            status,
            error,
            loaded_at,
            config.name,
        ],
    )
