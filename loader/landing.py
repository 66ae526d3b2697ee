"""Landing: put export files into the DuckDB raw schema, once each, each file whole or not at all.

Tables (schema sigma_raw):
- impression_rows: one VARCHAR column per distinct header ever seen, plus the loader's metadata
  columns (loader.contract.METADATA_COLUMNS: _file_uri, _file_row_number, _loaded_at,
  _integration_name).
- rejected_lines: records the CSV reader could not take (wrong field count, not UTF-8, ...).
- loaded_files: the manifest, one row per file: etag, size, counts, status, error.

A file already loaded with the same etag is skipped; a changed file has its rows replaced; a
file that cannot be read is recorded as failed and lands nothing; the others still load.

One pass per batch of files (up to BATCH_FILES files or BATCH_BYTES bytes); with two cores or more,
two batches land at once, each on its own DuckDB connection in its own transaction (each file's
insert is a single-threaded pipeline, so one batch alone keeps one core busy), except that a batch
adding columns lands alone and after every earlier batch (`_SchemaGate`: the table's columns are
the headers' union in the files' order):
1. fetch each file (remote objects are downloaded, gzip files decompressed and so verified to
   their end; the copies live until the batch is done) and read its header with Python, so that
   all the batch's columns are known;
2. one transaction: ALTER TABLE ADD COLUMN for new headers first (DuckDB refuses an ALTER after a
   delete or insert in the same transaction), then per file: delete its earlier version, land its
   records straight from its CSV (csv_reader.land_records: DuckDB's read_csv, checked against
   Python's record count, or Python's parser), its manifest row; a file that could not be fetched
   or read (a truncated gzip, ...) instead gets a `failed` manifest row and none of its rows;
   then commit.
3. DuckDB's reader raising on a file aborts the transaction: roll back and land the batch again
   with that file parsed by Python; if that fails too, land the files one by one. A database that
   cannot be written (disk full) ends the load with DatabaseError (exit 3).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from loader.config import LoadConfig
from loader.contract import METADATA_COLUMNS, RAW_SCHEMA
from loader.csv_reader import (
    FileRows,
    ReaderRefused,
    UnreadableFile,
    column_names,
    land_records,
    plain_csv,
    quote_ident,
    read_export_header,
)
from loader.secrets import scrub
from loader.storage import (
    ExportObject,
    Listing,
    StorageError,
    describe_error,
    list_exports,
    local_copy,
    make_filesystem,
)

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


class DatabaseError(RuntimeError):
    """The DuckDB file cannot be opened or written; the message says why and what to do."""


@dataclass
class FileResult:
    uri: str
    status: str  # loaded | skipped | failed
    rows_loaded: int = 0
    rows_rejected: int = 0
    size_bytes: int = 0
    error: str | None = None


@dataclass
class LoadSummary:
    files_seen: int = 0
    older_files: int = 0
    ignored_objects: int = 0
    unsafe_entries: list[str] = field(default_factory=list)
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(r.rows_loaded for r in self.results if r.status == "loaded")

    @property
    def rows_rejected(self) -> int:
        return sum(r.rows_rejected for r in self.results if r.status == "loaded")

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0


class Progress(Protocol):
    """What run_load reports as it goes (the CLI draws a bar or prints lines)."""

    def start(self, todo: list[ExportObject]) -> None: ...

    def file_done(self, obj: ExportObject, result: FileResult) -> None: ...


class _Silent:
    def start(self, todo: list[ExportObject]) -> None:
        pass

    def file_done(self, obj: ExportObject, result: FileResult) -> None:
        pass


@contextlib.contextmanager
def open_database(config: LoadConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (and create) the DuckDB file, with clear errors for the usual failures."""
    path = Path(config.database)
    try:
        if path.parent and str(path.parent) not in ("", "."):
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the folder for --database {config.database}: {exc.strerror}") from exc
    settings: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if config.memory_limit:
        settings["memory_limit"] = config.memory_limit
    # One DuckDB thread unless asked otherwise: each file's one-pass insert is a single-threaded
    # pipeline (see csv_reader); with more threads it runs on a DuckDB worker while the calling
    # thread polls for the result (measured: 35-70% more CPU, and no faster). With one thread each
    # connection runs its statements on its calling thread, so the cores are used by landing
    # batches at once on several connections instead (_land_batches).
    settings["threads"] = config.threads or LOAD_THREADS
    # DuckDB hands memory freed in bulk (at the end of each per-file insert) back to the OS above this
    # threshold, and faults it in again for the next file: measured at 5M rows in 90 files, 0.4 s of
    # the load's 1.3 s system CPU. A load's memory is bounded by memory_limit either way.
    settings["allocator_bulk_deallocation_flush_threshold"] = "1GB"
    try:
        con = duckdb.connect(str(path), config=settings)
    except duckdb.IOException as exc:
        raise DatabaseError(_explain_open_error(config.database, exc)) from exc
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot open --database {config.database}: {exc}") from exc
    try:
        con.execute(DDL)
        yield con
    except duckdb.Error as exc:
        # The one place a database write failure is explained: the landing steps below re-raise
        # such an error unchanged (no per-file retry can help) and it ends the load here.
        if not _is_write_failure(exc):
            raise
        raise DatabaseError(_explain_write_error(config.database, exc)) from exc
    finally:
        con.close()


def _explain_open_error(database: str, exc: Exception) -> str:
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


def _is_write_failure(exc: duckdb.Error) -> bool:
    """The database file (or its temp space) could not be written: no file-level retry can help.
    DuckDB reports it as an IO error, or as a commit or a statement refused afterwards."""
    text = str(exc)
    return isinstance(exc, duckdb.IOException | duckdb.FatalException) or any(
        words in text for words in ("IO Error", "database has been invalidated", "Failed to commit")
    )


def _is_fatal(exc: Exception) -> bool:
    """The database cannot be used any more (DuckDB invalidated it): no retry in it can help."""
    return isinstance(exc, duckdb.FatalException) or "database has been invalidated" in str(exc)


def _explain_write_error(database: str, exc: Exception) -> str:
    text = str(exc).lower()
    if any(word in text for word in ("no space", "disk", "file too large", "quota")):
        return (
            f"cannot write the database {database}: the disk is full (or a file-size limit or quota was "
            "reached); free space and run again"
        )
    return f"cannot write the database {database}: {' '.join(str(exc).split())[:300]}"


def manifest_uris(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every file_uri in the manifest, whatever its status: only those can have rows to replace."""
    return {uri for (uri,) in con.execute(f"select distinct file_uri from {RAW_SCHEMA}.loaded_files").fetchall()}


def already_loaded(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """file_uri -> etag of every file loaded successfully so far."""
    rows = con.execute(f"select file_uri, etag from {RAW_SCHEMA}.loaded_files where status = 'loaded'").fetchall()
    return dict(rows)


def run_load(
    config: LoadConfig,
    progress: Progress | None = None,
    now: datetime | None = None,
    filesystem: Any | None = None,
) -> LoadSummary:
    """List the prefix and land every export in the window that is new or changed: into the DuckDB
    file, or into the Parquet lake when `config.lake` is set (loader/lake.py)."""
    if config.lake is not None:
        from loader.lake import run_lake_load  # the lake lands through this module

        return run_lake_load(config, config.lake, progress=progress, now=now, filesystem=filesystem)
    started = time.monotonic()
    fs = filesystem or make_filesystem(config)
    listing: Listing = list_exports(fs, config.bucket, config.days_back, now=now)
    summary = LoadSummary(
        files_seen=len(listing.in_window),
        older_files=listing.older,
        ignored_objects=listing.ignored,
        unsafe_entries=listing.unsafe,
    )
    progress = progress or _Silent()
    with open_database(config) as con:
        known = already_loaded(con)
        todo = [o for o in listing.in_window if known.get(o.uri) != o.etag]
        summary.results.extend(
            FileResult(o.uri, "skipped", size_bytes=o.size_bytes)
            for o in listing.in_window
            if known.get(o.uri) == o.etag
        )
        in_manifest = manifest_uris(con)
        progress.start(todo)
        batches = list(_batches(todo, first_alone=_concurrent_batches() > 1))
        with contextlib.closing(_land_batches(con, fs, batches, config, in_manifest)) as landed:
            for batch, results in zip(batches, landed, strict=True):
                for obj, result in zip(batch, results, strict=True):
                    summary.results.append(result)
                    progress.file_done(obj, result)
    summary.seconds = time.monotonic() - started
    return summary


@dataclass(frozen=True)
class _Fetched:
    """One file of a batch, fetched and its header read before the batch's transaction (so that all
    of the batch's columns can be added first), or the reason it could not be read."""

    obj: ExportObject
    rows: FileRows  # its metadata values (uri, loaded_at, integration name)
    path: str | None  # local plain CSV (a gzip decompressed); None: the file could not be read
    headers: list[str]
    error: str | None

    @property
    def columns(self) -> list[str]:
        return column_names(self.headers)


def _fetch(stack: contextlib.ExitStack, fs: Any, obj: ExportObject, config: LoadConfig) -> _Fetched:
    """Fetch one file (a remote object is downloaded; the copy lives as long as `stack`) and read its
    header. A file that cannot be read becomes a one-line error, recorded in the transaction."""
    rows = FileRows(obj.uri, datetime.now(UTC).replace(tzinfo=None), config.name)
    try:
        path = stack.enter_context(local_copy(fs, obj, config.bucket.scheme))
        if obj.is_gzip and obj.size_bytes:
            # Decompressed (so verified to its end) before the transaction: a truncated gzip fails
            # here, before its header could add a column.
            path = stack.enter_context(plain_csv(path, gzipped=True))
        return _Fetched(obj, rows, path, read_export_header(path, gzipped=False, size_bytes=obj.size_bytes), None)
    except (UnreadableFile, StorageError) as exc:
        error = str(exc)
    except (OSError, ValueError, RuntimeError) as exc:
        error = describe_error(exc, config.bucket.scheme)
    return _Fetched(obj, rows, None, [], scrub(error, config.secrets()))


class _Refused(Exception):
    """DuckDB's CSV reader raised on this file; the transaction was rolled back."""

    def __init__(self, uri: str, error: Exception) -> None:
        super().__init__(str(error))
        self.uri = uri
        self.error = error


def _transaction(
    con: duckdb.DuckDBPyConnection,
    files: list[_Fetched],
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
    con: duckdb.DuckDBPyConnection, fetched: _Fetched, config: LoadConfig, replaces: bool, python: set[str]
) -> FileResult:
    obj = fetched.obj
    if replaces:
        _delete_file(con, obj.uri)
    error = fetched.error
    if fetched.path is not None:
        try:
            parsed = land_records(con, fetched.path, fetched.headers, fetched.rows, python=obj.uri in python)
        except ReaderRefused as exc:
            if _is_fatal(exc.error):
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


def _existing_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The columns of sigma_raw.impression_rows, lower-cased (DuckDB compares names so)."""
    return {
        name.lower()
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = 'impression_rows'",
            [RAW_SCHEMA],
        ).fetchall()
    }


def _add_columns(con: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
    """Add the raw columns the table lacks (case-insensitively). Call it first in a transaction:
    DuckDB refuses to commit an ALTER that follows a delete or insert on the same table."""
    existing = _existing_columns(con)
    for name in columns:
        if name.lower() not in existing:
            con.execute(f"alter table {RAW_SCHEMA}.impression_rows add column {quote_ident(name)} varchar")
            existing.add(name.lower())


BATCH_BYTES = 64 * 2**20  # parsed files committed together: one commit per ~64 MiB of CSV, not per file
BATCH_FILES = 64


def _batches(todo: list[ExportObject], first_alone: bool = False) -> Iterator[list[ExportObject]]:
    """Up to BATCH_FILES files or BATCH_BYTES bytes each. `first_alone`: the first file is a batch of
    its own (into an empty table it adds the columns, so it lands alone: `_SchemaGate`; the files
    after it, mostly with the same header, then land two batches at once)."""
    batch: list[ExportObject] = []
    size = 0
    for index, obj in enumerate(todo):
        batch.append(obj)
        size += obj.size_bytes
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES or (first_alone and index == 0):
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class _SchemaGate:
    """Lets batches land at once on their own connections, but a batch that adds columns alone,
    and in batch order.

    Concurrent transactions may append to and delete from sigma_raw.impression_rows (different
    files: no conflict), but DuckDB cannot ALTER a table that another open transaction has written
    to. A batch whose headers need new columns waits until every earlier batch has finished and no
    other batch is open, so columns are added in the files' order (the table's columns are the
    headers' union in that order, whichever thread is quicker); a batch adding no column waits
    while one adding columns is landing or while an earlier one waits to (so it is not starved).
    Every wait is for an earlier batch or for one already landing: no cycle. Batches are numbered
    from 0 in order, and each calls `finished(index)` whether it landed, failed or never entered."""

    def __init__(self, batches: int) -> None:
        self._changed = threading.Condition()
        self._unfinished = set(range(batches))
        self._open = 0  # batches landing that add no column
        self._alone = False  # a batch adding columns is landing
        self._waiting: set[int] = set()  # batches adding columns, waiting for their turn

    @contextlib.contextmanager
    def shared(self, index: int) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._alone and not any(w < index for w in self._waiting))
            self._open += 1
        try:
            yield
        finally:
            with self._changed:
                self._open -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def alone(self, index: int) -> Iterator[None]:
        with self._changed:
            self._waiting.add(index)
            self._changed.wait_for(
                lambda: not self._alone and not self._open and min(self._unfinished, default=index) >= index
            )
            self._waiting.discard(index)
            self._alone = True
        try:
            yield
        finally:
            with self._changed:
                self._alone = False
                self._changed.notify_all()

    def finished(self, index: int) -> None:
        with self._changed:
            self._unfinished.discard(index)
            self._changed.notify_all()


def _concurrent_batches() -> int:
    return min(CONCURRENT_BATCHES, os.cpu_count() or 1)


def _land_batches(
    con: duckdb.DuckDBPyConnection,
    fs: Any,
    batches: list[list[ExportObject]],
    config: LoadConfig,
    in_manifest: set[str],
) -> Iterator[list[FileResult]]:
    """Each batch's results, in batch order. With two cores or more, CONCURRENT_BATCHES batches land
    at once, each on its own connection (a cursor of `con`: its own transaction) from its own
    thread; DuckDB runs each statement on the thread that calls it, so the single-threaded
    per-file inserts of two batches use two cores. Each batch is still one transaction, each file
    whole or nothing. An error (a write failure) stops the batches not begun and waits for those
    landing (each commits or rolls back whole) before it is raised."""
    workers = min(_concurrent_batches(), len(batches))
    if workers <= 1:
        for batch in batches:
            yield land_batch(con, fs, batch, config, in_manifest)
        return
    gate = _SchemaGate(len(batches))

    def land(index: int, batch: list[ExportObject]) -> list[FileResult]:
        try:
            with con.cursor() as cursor:
                return land_batch(cursor, fs, batch, config, in_manifest, (gate, index))
        finally:
            gate.finished(index)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sigma-load")
    try:
        futures = [pool.submit(land, index, batch) for index, batch in enumerate(batches)]
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def land_batch(
    con: duckdb.DuckDBPyConnection,
    fs: Any,
    batch: list[ExportObject],
    config: LoadConfig,
    in_manifest: set[str],
    gate: tuple[_SchemaGate, int] | None = None,
) -> list[FileResult]:
    """Fetch the batch's files and read their headers, then land them all in one transaction: each
    file whole or not at all, as with one transaction per file, but one commit (WAL write +
    checkpoint) instead of one per file. When DuckDB's reader raises on a file (which aborts the
    transaction), the transaction is rolled back and the batch landed again with that file parsed by
    Python; should that fail too, or the transaction fail otherwise, the files land one by one.
    `gate`: (the gate, this batch's number): other batches land at once on other connections; this
    one lands alone, in batch order, if it adds columns."""
    with contextlib.ExitStack() as stack:
        fetched = [_fetch(stack, fs, obj, config) for obj in batch]
        if gate is not None:
            schema_gate, index = gate
            existing = _existing_columns(con)
            adds = any(c.lower() not in existing for f in fetched for c in f.columns)
            stack.enter_context(schema_gate.alone(index) if adds else schema_gate.shared(index))
        python: set[str] = set()
        for _attempt in range(2):
            try:
                return _transaction(con, fetched, config, in_manifest, python)
            except _Refused as exc:
                python.add(exc.uri)
            except duckdb.Error as exc:
                if _is_write_failure(exc):
                    raise  # explained once, by open_database
                break
        return [_land_alone(con, f, config, f.obj.uri in in_manifest, python) for f in fetched]


def land_file(
    con: duckdb.DuckDBPyConnection, fs: Any, obj: ExportObject, config: LoadConfig, replaces: bool = True
) -> FileResult:
    """Land one file in one transaction, or record it as failed. Never raises for bad data.
    `replaces=False`: the manifest has never seen this URI, so there are no earlier rows to delete."""
    with contextlib.ExitStack() as stack:
        return _land_alone(con, _fetch(stack, fs, obj, config), config, replaces, set())


def _land_alone(
    con: duckdb.DuckDBPyConnection, fetched: _Fetched, config: LoadConfig, replaces: bool, python: set[str]
) -> FileResult:
    """One file in a transaction of its own: parsed by DuckDB, by Python if DuckDB's reader raised,
    or recorded as failed if the transaction fails otherwise."""
    in_manifest = {fetched.obj.uri} if replaces else set()
    try:
        try:
            return _transaction(con, [fetched], config, in_manifest, python)[0]
        except _Refused:
            return _transaction(con, [fetched], config, in_manifest, python | {fetched.obj.uri})[0]
    except duckdb.Error as exc:
        if _is_write_failure(exc):
            raise  # explained once, by open_database
        error = scrub(describe_error(exc, config.bucket.scheme), config.secrets())
        failed = replace(fetched, path=None, headers=[], error=error)
        return _transaction(con, [failed], config, in_manifest, python)[0]


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
