"""Landing: put export files into the DuckDB raw schema, once each, each file whole or not at all.

Tables (schema sigma_raw):
- impression_rows: one VARCHAR column per distinct header ever seen, plus the loader's metadata
  columns (loader.contract.METADATA_COLUMNS: _file_uri, _file_row_number, _loaded_at,
  _integration_name).
- rejected_lines: records the CSV reader could not take (wrong field count, not UTF-8, ...).
- loaded_files: the manifest, one row per file: etag, size, counts, status, error.

A file already loaded with the same etag is skipped; a changed file has its rows replaced; a
file that cannot be read is recorded as failed and lands nothing; the others still load.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from loader.config import LoadConfig
from loader.contract import METADATA_COLUMNS
from loader.csv_reader import ParsedFile, UnreadableFile, parse_into_temp, quote_ident
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

RAW_SCHEMA = "sigma_raw"

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
    if config.threads:
        settings["threads"] = config.threads
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
        from loader.lake import run_lake_load  # the lake imports this module's parse step

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
        for batch in _batches(todo):
            for obj, result in zip(batch, land_batch(con, fs, batch, config, in_manifest), strict=True):
                summary.results.append(result)
                progress.file_done(obj, result)
    summary.seconds = time.monotonic() - started
    return summary


@dataclass(frozen=True)
class _Parsed:
    """One file parsed into temp tables of its own, or the reason it could not be read."""

    obj: ExportObject
    loaded_at: datetime
    file: ParsedFile | None  # None: the file could not be read
    error: str | None
    landing: str  # temp table of its records
    rejects: str  # temp table of its rejected records


def _parse_file(con: duckdb.DuckDBPyConnection, fs: Any, obj: ExportObject, config: LoadConfig, slot: int) -> _Parsed:
    """Fetch and parse one file into temp tables `_landing_<slot>`, outside any transaction (so a parse
    error cannot abort one). A file that cannot be read becomes a one-line error; a database that
    cannot be written raises its duckdb error, which open_database turns into DatabaseError."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    landing, rejects = f"_landing_{slot}", f"_landing_rejects_{slot}"
    try:
        with local_copy(fs, obj, config.bucket.scheme) as path:
            parsed = parse_into_temp(con, path, obj.is_gzip, obj.size_bytes)
        con.execute(f"alter table _landing rename to {quote_ident(landing)}")
        con.execute(f"alter table _landing_rejects rename to {quote_ident(rejects)}")
        return _Parsed(obj, loaded_at, parsed, None, landing, rejects)
    except duckdb.Error as exc:
        if _is_write_failure(exc):
            raise  # explained once, by open_database
        error = describe_error(exc, config.bucket.scheme)
    except (UnreadableFile, StorageError) as exc:
        error = str(exc)
    except (OSError, ValueError, RuntimeError) as exc:
        error = describe_error(exc, config.bucket.scheme)
    return _Parsed(obj, loaded_at, None, scrub(error, config.secrets()), landing, rejects)


def _commit(
    con: duckdb.DuckDBPyConnection, parsed: list[_Parsed], config: LoadConfig, in_manifest: set[str]
) -> list[FileResult]:
    """Land parsed files in one transaction: each file whole (rows, rejects, manifest row), or for a
    file that could not be read a `failed` manifest row and none of its earlier rows."""
    con.execute("begin transaction")
    try:
        _add_columns(con, [c for p in parsed if p.file for c in p.file.columns])
        results = []
        for p in parsed:
            if p.obj.uri in in_manifest:
                _delete_file(con, p.obj.uri)
            if p.file is None:
                _insert_manifest(con, p.obj, config, None, 0, 0, "failed", p.error, p.loaded_at)
                results.append(FileResult(p.obj.uri, "failed", size_bytes=p.obj.size_bytes, error=p.error))
            else:
                _append_file(con, p, config)
                results.append(
                    FileResult(p.obj.uri, "loaded", p.file.rows_loaded, p.file.rows_rejected, p.obj.size_bytes)
                )
        con.execute("commit")
        return results
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # a failed write may have ended the transaction already:
            con.execute("rollback")  # the original error is the one to report
        raise


def _drop_temp_tables(con: duckdb.DuckDBPyConnection, slots: int) -> None:
    for n in range(slots):
        con.execute(f"drop table if exists {quote_ident(f'_landing_{n}')}")
        con.execute(f"drop table if exists {quote_ident(f'_landing_rejects_{n}')}")


def land_file(
    con: duckdb.DuckDBPyConnection, fs: Any, obj: ExportObject, config: LoadConfig, replaces: bool = True
) -> FileResult:
    """Land one file in one transaction, or record it as failed. Never raises for bad data.
    `replaces=False`: the manifest has never seen this URI, so there are no earlier rows to delete."""
    in_manifest = {obj.uri} if replaces else set()
    try:
        parsed = _parse_file(con, fs, obj, config, 0)
        try:
            return _commit(con, [parsed], config, in_manifest)[0]
        except duckdb.Error as exc:
            if _is_write_failure(exc):
                raise  # explained once, by open_database
            error = scrub(describe_error(exc, config.bucket.scheme), config.secrets())
            failed = replace(parsed, file=None, error=error)
            return _commit(con, [failed], config, in_manifest)[0]
    finally:
        _drop_temp_tables(con, 1)


def _append_file(con: duckdb.DuckDBPyConnection, parsed: _Parsed, config: LoadConfig) -> None:
    """Insert one parsed file (its temp tables) and its manifest row, inside the caller's transaction,
    after `_add_columns` has added its columns and any earlier version has been deleted."""
    assert parsed.file is not None
    columns = parsed.file.columns
    targets = ", ".join([*(quote_ident(c) for c in columns), *METADATA_COLUMNS])
    # In METADATA_COLUMNS order. The temp table's rowid is the record's order in the file (DuckDB
    # keeps insertion order).
    sources = ", ".join([*(quote_ident(c) for c in columns), "$uri", "rowid + 1", "$at", "$name"])
    params = {"uri": parsed.obj.uri, "at": parsed.loaded_at, "name": config.name}
    con.execute(
        f"insert into {RAW_SCHEMA}.impression_rows ({targets}) select {sources} from {quote_ident(parsed.landing)}",
        params,
    )
    con.execute(
        f"insert into {RAW_SCHEMA}.rejected_lines "
        f"select $uri, line_number, error, raw_text, $at, $name from {quote_ident(parsed.rejects)}",
        params,
    )
    _insert_manifest(
        con,
        parsed.obj,
        config,
        parsed.file.headers,
        parsed.file.rows_loaded,
        parsed.file.rows_rejected,
        "loaded",
        None,
        parsed.loaded_at,
    )


def _add_columns(con: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
    """Add the raw columns the table lacks (case-insensitively). Call it first in a transaction:
    DuckDB refuses to commit an ALTER that follows a delete or insert on the same table."""
    existing = {
        name.lower()
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = 'impression_rows'",
            [RAW_SCHEMA],
        ).fetchall()
    }
    for name in columns:
        if name.lower() not in existing:
            con.execute(f"alter table {RAW_SCHEMA}.impression_rows add column {quote_ident(name)} varchar")
            existing.add(name.lower())


BATCH_BYTES = 64 * 2**20  # parsed files committed together: one commit per ~64 MiB of CSV, not per file
BATCH_FILES = 64


def _batches(todo: list[ExportObject]) -> Iterator[list[ExportObject]]:
    batch: list[ExportObject] = []
    size = 0
    for obj in todo:
        batch.append(obj)
        size += obj.size_bytes
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def land_batch(
    con: duckdb.DuckDBPyConnection, fs: Any, batch: list[ExportObject], config: LoadConfig, in_manifest: set[str]
) -> list[FileResult]:
    """Parse each file of the batch, then land them all in one transaction: each file whole or not at
    all, as with one transaction per file, but one commit (WAL write + checkpoint) instead of one per
    file. Should that transaction fail, it is rolled back and the batch's files land one by one."""
    try:
        parsed = [_parse_file(con, fs, obj, config, n) for n, obj in enumerate(batch)]
        try:
            return _commit(con, parsed, config, in_manifest)
        except duckdb.Error as exc:
            if _is_write_failure(exc):
                raise  # explained once, by open_database
    finally:
        _drop_temp_tables(con, len(batch))
    return [land_file(con, fs, obj, config, replaces=obj.uri in in_manifest) for obj in batch]


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
