"""Landing: the one pipeline of `load`, list -> fetch -> parse and write, into a destination.

1. list the prefix (storage.list_exports): the export files of the window;
2. skip each file the destination holds with the same etag (`Destination.landed`);
3. split the others into batches of up to BATCH_FILES files or BATCH_BYTES bytes;
4. fetch each file of a batch (`fetch`: a remote object is downloaded, a gzip decompressed and so
   verified to its end, the header read), so that all of the batch's columns are known first;
5. hand the batch to a writer of the destination, which parses each file in one pass and writes its
   rows, rejects and manifest row, each file whole or recorded as failed, and commits the batch;
6. report each file's result (`Progress`) and sum them up (`LoadSummary`).

The destinations (loader/destinations/): the sigma_raw tables of the DuckDB file, or the Parquet lake
when `config.lake` is set. A destination may take several batches at once (the DuckDB file: two on
two cores or more, each on its own connection from its own thread); a batch that adds columns then
lands alone and in batch order (`SchemaGate`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb

from loader.config import LoadConfig
from loader.contract import RAW_SCHEMA
from loader.csv_reader import FileRows, UnreadableFile, plain_csv, read_header
from loader.database import DatabaseError
from loader.destinations import Destination, FetchedFile, FileResult
from loader.destinations.duckdb import DDL, RawTables
from loader.destinations.duckdb import open_destination as open_duckdb
from loader.destinations.lake import start_load
from loader.secrets import scrub
from loader.storage import ExportObject, StorageError, describe_error, list_exports, local_copy, make_filesystem

__all__ = [  # the pipeline's names, and those of its types other code imports from here
    "BATCH_BYTES",
    "BATCH_FILES",
    "DDL",
    "RAW_SCHEMA",
    "DatabaseError",
    "FileResult",
    "LoadSummary",
    "Progress",
    "SchemaGate",
    "fetch",
    "land_file",
    "open_destination",
    "run_load",
    "split_batches",
]

BATCH_BYTES = 64 * 2**20  # files committed together: one commit per ~64 MiB of CSV, not per file
BATCH_FILES = 64


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


def open_destination(config: LoadConfig) -> AbstractContextManager[Destination]:
    """The sigma_raw tables of the DuckDB file, or the Parquet lake when `config.lake` is set."""
    if config.lake is not None:
        return contextlib.nullcontext(start_load(config))
    return open_duckdb(config)


def run_load(
    config: LoadConfig,
    progress: Progress | None = None,
    now: datetime | None = None,
    filesystem: Any | None = None,
) -> LoadSummary:
    """List the prefix and land every export in the window that is new or changed: into the DuckDB
    file, or into the Parquet lake when `config.lake` is set. Raises StorageError when the prefix
    cannot be listed, DatabaseError when the destination cannot be opened or written."""
    started = time.monotonic()
    fs = filesystem or make_filesystem(config)
    listing = list_exports(fs, config.bucket, config.days_back, now=now)
    summary = LoadSummary(
        files_seen=len(listing.in_window),
        older_files=listing.older,
        ignored_objects=listing.ignored,
        unsafe_entries=listing.unsafe,
    )
    progress = progress or _Silent()
    with open_destination(config) as destination:
        known = destination.landed()
        todo = [o for o in listing.in_window if known.get(o.uri) != o.etag]
        summary.results.extend(
            FileResult(o.uri, "skipped", size_bytes=o.size_bytes)
            for o in listing.in_window
            if known.get(o.uri) == o.etag
        )
        progress.start(todo)
        batches = list(split_batches(todo, first_alone=destination.batches_at_once > 1))
        with contextlib.closing(_land_batches(destination, fs, batches, config)) as landed:
            for batch, results in zip(batches, landed, strict=True):
                for obj, result in zip(batch, results, strict=True):
                    summary.results.append(result)
                    progress.file_done(obj, result)
    summary.seconds = time.monotonic() - started
    return summary


def split_batches(todo: list[ExportObject], first_alone: bool = False) -> Iterator[list[ExportObject]]:
    """Up to BATCH_FILES files or BATCH_BYTES bytes each. `first_alone`: the first file is a batch of
    its own (into an empty table it adds the columns, so it lands alone: `SchemaGate`; the files
    after it, mostly with the same header, then land several batches at once)."""
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


def fetch(stack: contextlib.ExitStack, fs: Any, obj: ExportObject, config: LoadConfig) -> FetchedFile:
    """Fetch one file (a remote object is downloaded; the copy lives as long as `stack`) and read its
    header. A file that cannot be read becomes a one-line error, recorded by the destination."""
    rows = FileRows(obj.uri, datetime.now(UTC).replace(tzinfo=None), config.name)
    try:
        path = stack.enter_context(local_copy(fs, obj, config.bucket.scheme))
        if obj.is_gzip and obj.size_bytes:
            # Decompressed (so verified to its end) before the batch is written: a truncated gzip fails
            # here, before its header could add a column.
            path = stack.enter_context(plain_csv(path, gzipped=True))
        return FetchedFile(obj, rows, path, read_header(path), None)
    except (UnreadableFile, StorageError) as exc:
        error = str(exc)
    except (OSError, ValueError, RuntimeError) as exc:
        error = describe_error(exc, config.bucket.scheme)
    return FetchedFile(obj, rows, None, [], scrub(error, config.secrets()))


class SchemaGate:
    """Lets batches land at once, each in its own transaction, but a batch that adds columns alone and
    in batch order.

    Concurrent transactions may append to and delete from sigma_raw.impression_rows (different files:
    no conflict), but DuckDB cannot ALTER a table that another open transaction has written to. So
    batches enter in batch order; at its turn (every earlier batch entered, none adding columns still
    inside) a batch asks whether it adds columns; if so it waits until every earlier batch has
    finished, and no later one enters until it is done. The table's columns are then the headers'
    union in the files' order, whichever thread is quicker. Every wait is for an earlier batch or for
    one inside: no cycle. Batches are numbered from 0 in order, and each calls `finished(index)`
    whether it landed, failed or never entered."""

    def __init__(self, batches: int) -> None:
        self._changed = threading.Condition()
        self._not_entered = set(range(batches))
        self._unfinished = set(range(batches))
        self._alone = False  # a batch adding columns is inside

    @contextlib.contextmanager
    def turn(self, index: int, adds_columns: Callable[[], bool]) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: min(self._not_entered) == index and not self._alone)
            alone = adds_columns()
            if alone:
                self._changed.wait_for(lambda: min(self._unfinished) == index)
            self._not_entered.discard(index)
            self._alone = alone
            self._changed.notify_all()
        try:
            yield
        finally:
            if alone:
                with self._changed:
                    self._alone = False
                    self._changed.notify_all()

    def finished(self, index: int) -> None:
        with self._changed:
            self._not_entered.discard(index)
            self._unfinished.discard(index)
            self._changed.notify_all()


def _land_batches(
    destination: Destination, fs: Any, batches: list[list[ExportObject]], config: LoadConfig
) -> Iterator[list[FileResult]]:
    """Each batch's results, in batch order. Up to `destination.batches_at_once` batches land at
    once, each from its own thread with its own writer; each batch is still committed whole. An
    error (a write failure) stops the batches not begun and waits for those landing (each commits or
    rolls back whole) before it is raised."""
    gate = SchemaGate(len(batches))

    def land(index: int, batch: list[ExportObject]) -> list[FileResult]:
        try:
            with contextlib.ExitStack() as stack:
                files = [fetch(stack, fs, obj, config) for obj in batch]
                writer = stack.enter_context(destination.writer())
                stack.enter_context(gate.turn(index, lambda: writer.adds_columns(files)))
                return writer.land(files)
        finally:
            gate.finished(index)

    workers = min(destination.batches_at_once, len(batches))
    if workers <= 1:
        for index, batch in enumerate(batches):
            yield land(index, batch)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sigma-load")
    try:
        futures = [pool.submit(land, index, batch) for index, batch in enumerate(batches)]
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def land_file(
    con: duckdb.DuckDBPyConnection, fs: Any, obj: ExportObject, config: LoadConfig, replaces: bool = True
) -> FileResult:
    """Fetch and land one file into the sigma_raw tables of `con`, in one transaction, or record it as
    failed. Never raises for bad data. `replaces=False`: the manifest has never seen this URI, so
    there are no earlier rows to delete."""
    with contextlib.ExitStack() as stack:
        fetched = fetch(stack, fs, obj, config)
        return RawTables(con, config, {obj.uri} if replaces else set()).land([fetched])[0]
