"""The Parquet lake destination: export files landed into s3://, gs:// or file:// as Parquet (pyarrow, zstd),
with the guarantees of the DuckDB destination, on storage that has no transactions and no atomic rename.

Layout under the lake URI:

    impression_rows/<version>.parquet   the landed records of one file version: one string column per
                                        header (named as the DuckDB destination names it, in lower case)
                                        + _file_uri, _file_row_number, _loaded_at, _integration_name
    rejected_lines/<version>.parquet    the records of that version the CSV reader rejected
    _manifest/<commit>.parquet          the append-only manifest log: one object per commit, one row
                                        per file version (loaded or failed) with the data files it names;
                                        `headers` as written in the file, `columns` as written in its
                                        data object
    marts/<mart>/                       the marts the dbt `spark` target writes (location_root)

Every object of a folder spells a column the same way (lower case), so engines union a folder's
objects by name (DuckDB `union_by_name`, Spark `mergeSchema`, which compares names case-sensitively).
Each of the three folders also holds one object without rows, EMPTY_OBJECT, written with the folder's
schema by the same writer as its other objects at the start of every load: a glob over a folder always
matches, and the empty object's types are those of the objects it is unioned with. No manifest row
names it.

The commit protocol: a batch of files is landed by the DuckDB destination's RawTables into a scratch
in-memory DuckDB, each file's data objects are written under new unique names that nothing references
yet, and then one manifest object naming them is written: that write is the commit point (a PUT on
S3/GCS is visible whole or not at all; on file:// the object is written under a hidden temp name and
renamed). Readers take, for each export file, the manifest row of the latest commit (commit ids sort
by time) and only the data files it names: a writer killed before its manifest object leaves data
files nobody reads; a changed file's newer row replaces the older one; a failed file's row names no
data and the file is retried by the next run (only `loaded` rows are skipped by etag).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from loader.config import BucketUri, LoadConfig
from loader.contract import RAW_SCHEMA
from loader.csv_reader import column_names, quote_ident
from loader.database import DatabaseError, duckdb_settings
from loader.destinations import FetchedFile, FileResult
from loader.destinations.duckdb import DDL, RawTables, existing_columns
from loader.storage import describe_error, make_filesystem

ROWS_DIR = "impression_rows"
REJECTS_DIR = "rejected_lines"
MANIFEST_DIR = "_manifest"
MARTS_DIR = "marts"
COMPRESSION = "zstd"
ROW_GROUP_ROWS = 1_000_000
_READ_BATCH = 250_000
# Each folder's object without rows: sorts before every commit id, and no manifest row names it.
EMPTY_OBJECT = "00000000T000000000000Z-empty.parquet"
ROWS_METADATA = "_file_uri, _file_row_number, _loaded_at, _integration_name"
REJECTS_SELECT = (
    f"select _file_uri, line_number, error, raw_text, _loaded_at, _integration_name from {RAW_SCHEMA}.rejected_lines"
)

MANIFEST_SCHEMA = pa.schema(
    [
        ("commit_id", pa.string()),
        ("file_uri", pa.string()),
        ("etag", pa.string()),
        ("size_bytes", pa.int64()),
        ("last_modified", pa.timestamp("us")),
        ("headers", pa.list_(pa.string())),
        ("columns", pa.list_(pa.string())),
        ("rows_loaded", pa.int64()),
        ("rows_rejected", pa.int64()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("loaded_at", pa.timestamp("us")),
        ("integration_name", pa.string()),
        ("rows_file", pa.string()),  # relative to the lake root; NULL when the version has no records
        ("rejects_file", pa.string()),  # relative to the lake root; NULL when nothing was rejected
    ]
)


class LakeError(DatabaseError):
    """The lake cannot be read or written; the message says why and what to do."""


@dataclass(frozen=True)
class Lake:
    """A lake root and the fsspec filesystem that reaches it."""

    uri: BucketUri
    fs: Any

    def path(self, relative: str) -> str:
        """The filesystem path of a name relative to the lake root."""
        return f"{self.uri.fs_path}{relative}"


def open_lake(config: LoadConfig, lake_uri: BucketUri, filesystem: Any | None = None) -> Lake:
    """The lake with a filesystem for its scheme, using the exports' credentials."""
    return Lake(lake_uri, filesystem or make_filesystem(replace(config, bucket=lake_uri)))


def start_load(config: LoadConfig) -> LakeDestination:
    """The lake destination of one load, once every folder holds its EMPTY_OBJECT."""
    assert config.lake is not None
    lake = open_lake(config, config.lake)
    ensure_empty_objects(lake, config)
    return LakeDestination(lake, config)


def ensure_empty_objects(lake: Lake, config: LoadConfig) -> None:
    """Write each folder's EMPTY_OBJECT where it is missing: the data folders' through the scratch
    database, as their records are written, the manifest's through pyarrow, as commits are."""
    missing = []
    for folder in (ROWS_DIR, REJECTS_DIR, MANIFEST_DIR):
        name = f"{folder}/{EMPTY_OBJECT}"
        try:
            if not lake.fs.exists(lake.path(name)):
                missing.append(name)
        except Exception as exc:
            raise LakeError(f"cannot read the lake {lake.uri}: {describe_error(exc, lake.uri.scheme)}") from exc
    if not missing:
        return
    with scratch_database(config) as con:
        writer = LakeWriter(lake, con, config)
        for name in missing:
            if name.startswith(ROWS_DIR):
                writer._write_query(name, f"select {ROWS_METADATA} from {RAW_SCHEMA}.impression_rows where false")
            elif name.startswith(REJECTS_DIR):
                writer._write_query(name, f"{REJECTS_SELECT} where false")
            else:
                _write_object(lake, name, [MANIFEST_SCHEMA.empty_table()])


def read_manifest(lake: Lake) -> pa.Table:
    """Every manifest row ever committed, in commit order (the whole log)."""
    try:
        names = sorted(p for p in lake.fs.ls(lake.path(MANIFEST_DIR), detail=False) if _is_manifest_object(p))
    except FileNotFoundError:
        names = []
    except Exception as exc:
        raise LakeError(
            f"cannot list the lake manifest {lake.uri}{MANIFEST_DIR}/: {describe_error(exc, lake.uri.scheme)}"
        ) from exc
    tables = []
    for name in names:
        try:
            with lake.fs.open(name, "rb") as handle:
                tables.append(pq.read_table(handle, schema=MANIFEST_SCHEMA))
        except Exception as exc:
            raise LakeError(
                f"cannot read the lake manifest object {name}: {describe_error(exc, lake.uri.scheme)}"
            ) from exc
    if not tables:
        return MANIFEST_SCHEMA.empty_table()
    return pa.concat_tables(tables).sort_by([("commit_id", "ascending")])


def _is_manifest_object(path: str) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return name.endswith(".parquet") and not name.startswith((".", "_"))


def current_entries(manifest: pa.Table) -> dict[str, dict]:
    """file_uri -> its manifest row of the latest commit: what readers see."""
    latest: dict[str, dict] = {}
    for row in manifest.to_pylist():  # commit order: later rows replace earlier ones
        latest[row["file_uri"]] = row
    return latest


def read_committed(lake: Lake, table: str = ROWS_DIR) -> pa.Table:
    """What a reader sees of `impression_rows` or `rejected_lines`: the data objects the current
    manifest rows name, and no other, with their schemas merged (a column missing from a file is
    NULL). An empty table when nothing is committed."""
    column = "rows_file" if table == ROWS_DIR else "rejects_file"
    parts = []
    for row in current_entries(read_manifest(lake)).values():
        if row["status"] == "loaded" and row[column]:
            with lake.fs.open(lake.path(row[column]), "rb") as handle:
                parts.append(pq.read_table(handle))
    if not parts:
        return pa.table({"_file_uri": pa.array([], pa.string())})
    return pa.concat_tables(parts, promote_options="default")


class LakeDestination:
    """The Parquet lake (a loader.destinations.Destination). One batch at a time: each lands in a
    scratch database of its own, and its manifest object is its commit."""

    batches_at_once = 1

    def __init__(self, lake: Lake, config: LoadConfig) -> None:
        self.lake, self.config = lake, config

    def landed(self) -> dict[str, str]:
        entries = current_entries(read_manifest(self.lake))
        return {uri: row["etag"] for uri, row in entries.items() if row["status"] == "loaded"}

    @contextlib.contextmanager
    def writer(self) -> Iterator[LakeWriter]:
        with scratch_database(self.config) as con:
            yield LakeWriter(self.lake, con, self.config)


@contextlib.contextmanager
def scratch_database(config: LoadConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh in-memory DuckDB with the raw tables, spilling to a private temp folder: a batch lands
    there exactly as into the DuckDB file, and the lake takes it from there."""
    spill = tempfile.mkdtemp(prefix="sigma-lake-spill-")
    con = duckdb.connect(":memory:", config=duckdb_settings(config.memory_limit, config.threads, temp_directory=spill))
    try:
        con.execute(DDL)
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


class LakeWriter:
    """Lands one batch into the lake (a loader.destinations.BatchWriter): the raw tables of a scratch
    database first, then one data object per landed file's records and rejects, then the manifest
    object that commits them."""

    def __init__(self, lake: Lake, con: duckdb.DuckDBPyConnection, config: LoadConfig) -> None:
        self.lake, self.con, self.config = lake, con, config

    def adds_columns(self, files: list[FetchedFile]) -> bool:
        return False  # each data object has its own columns: nothing shared changes

    def land(self, files: list[FetchedFile]) -> list[FileResult]:
        """A file that cannot be read gets a `failed` manifest row and no data."""
        commit_id = new_commit_id()
        try:
            results = RawTables(self.con, self.config, set()).land(files)
        except duckdb.Error as exc:  # the scratch database itself failed (memory, temp space)
            reason = describe_error(exc, "file")
            raise LakeError(f"cannot land into the temporary DuckDB (memory, temp space?): {reason}") from exc
        table_columns = existing_columns(self.con)
        rows = []
        for position, (fetched, result) in enumerate(zip(files, results, strict=True)):
            obj = fetched.obj
            entry = self.con.execute(
                f"select headers, rows_loaded, rows_rejected, status, error, loaded_at "
                f"from {RAW_SCHEMA}.loaded_files where file_uri = ?",
                [obj.uri],
            ).fetchone()
            headers, rows_loaded, rows_rejected, status, error, loaded_at = entry
            if status != result.status:
                raise LakeError(f"the landing reported {result.status} for {obj.uri} but recorded {status}")
            # Lower case: the objects of a folder spell each column alike (column_names makes the names
            # unique case-insensitively).
            columns = [name.lower() for name in column_names(list(headers or []))] if status == "loaded" else None
            rows_file = rejects_file = None
            if status == "loaded":
                version = f"{commit_id}-{position:05d}"  # the batch's order: a folder's objects sort as landed
                rows_file, rejects_file = self._write_data(
                    obj.uri, columns or [], table_columns, rows_loaded, rows_rejected, version
                )
            rows.append(
                {
                    "commit_id": commit_id,
                    "file_uri": obj.uri,
                    "etag": obj.etag,
                    "size_bytes": obj.size_bytes,
                    "last_modified": obj.last_modified.astimezone(UTC).replace(tzinfo=None),
                    "headers": list(headers) if headers is not None else None,
                    "columns": columns,
                    "rows_loaded": rows_loaded,
                    "rows_rejected": rows_rejected,
                    "status": status,
                    "error": error if status != "loaded" else None,
                    "loaded_at": loaded_at,
                    "integration_name": self.config.name,
                    "rows_file": rows_file,
                    "rejects_file": rejects_file,
                }
            )
        manifest = pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)
        _write_object(self.lake, f"{MANIFEST_DIR}/{commit_id}.parquet", [manifest])
        return results

    def _write_data(
        self,
        uri: str,
        columns: list[str],
        table_columns: dict[str, str],
        rows_loaded: int,
        rows_rejected: int,
        version: str,
    ) -> tuple[str | None, str | None]:
        """Write one landed file's records (its own columns, `columns`, in lower case) and rejects as
        new Parquet objects named after `version`; return their lake names."""
        rows_file = rejects_file = None
        if rows_loaded:
            # The table names a column by its first spelling (case-insensitively).
            selected = "".join(f"{quote_ident(table_columns[c])} as {quote_ident(c)}, " for c in columns)
            rows_file = f"{ROWS_DIR}/{version}.parquet"
            self._write_query(
                rows_file,
                f"select {selected}{ROWS_METADATA} from {RAW_SCHEMA}.impression_rows "
                f"where _file_uri = ? order by _file_row_number",
                uri,
            )
        if rows_rejected:
            rejects_file = f"{REJECTS_DIR}/{version}.parquet"
            self._write_query(rejects_file, f"{REJECTS_SELECT} where _file_uri = ? order by line_number", uri)
        return rows_file, rejects_file

    def _write_query(self, name: str, sql: str, *params: str) -> None:
        """Stream `sql` (with its `params`) into the lake object `name`."""
        _write_object(self.lake, name, self.con.execute(sql, list(params)).to_arrow_reader(_READ_BATCH))


def new_commit_id() -> str:
    """A name that sorts by commit time and is unique across writers."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:12]}"


def _write_object(lake: Lake, relative: str, batches: Any) -> None:
    """Write record batches (or tables) as one Parquet object, visible whole or not at all: a single
    PUT/upload on object stores, a hidden temp file renamed into place on file://."""
    target = lake.path(relative)
    try:
        if lake.uri.scheme == "file":
            folder, name = os.path.split(target)
            os.makedirs(folder, exist_ok=True)
            temp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                with open(temp, "wb") as handle:
                    _write_parquet(handle, batches)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            finally:
                with contextlib.suppress(OSError):
                    os.remove(temp)
        else:
            with lake.fs.open(target, "wb") as handle:
                _write_parquet(handle, batches)
    except (duckdb.Error, LakeError):
        raise
    except Exception as exc:
        raise LakeError(
            f"cannot write the lake object {lake.uri}{relative}: {describe_error(exc, lake.uri.scheme)}"
        ) from exc


def _write_parquet(handle: Any, batches: Any) -> None:
    if isinstance(batches, pa.RecordBatchReader):
        schema, parts = batches.schema, batches
    else:
        schema, parts = batches[0].schema, batches
    with pq.ParquetWriter(handle, schema, compression=COMPRESSION) as writer:
        for part in parts:
            if isinstance(part, pa.Table):
                writer.write_table(part, row_group_size=ROW_GROUP_ROWS)
            else:
                writer.write_batch(part, row_group_size=ROW_GROUP_ROWS)
