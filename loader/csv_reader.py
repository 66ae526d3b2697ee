"""Land one local export file's records in sigma_raw, in one pass: each row is written once.

The header is read with Python's csv module (so the names are exactly as written), then DuckDB's
CSV reader parses the body with that schema fixed (all VARCHAR, ',' and '"' only, no comment
lines, no sniffing) straight into `sigma_raw.impression_rows`:

    insert into sigma_raw.impression_rows (<columns>, _file_uri, _file_row_number, ...)
    select <columns>, $uri, row_number() over (), $at, $name from read_csv($path, ...)

DuckDB 1.5's read_csv has no file-row-number column. `row_number() over ()` (no PARTITION BY, no
ORDER BY) runs as a STREAMING_WINDOW operator, which is not a parallel operator: the pipeline from
the CSV scan to the insert runs on one thread, reading the file from its start, so the number is the
record's order among the file's landed records (tests/integration/test_one_pass.py checks the plan
and the order on a multi-MB file with all threads).

A record whose field count differs from the header's, or that is not valid UTF-8, is rejected
into `sigma_raw.rejected_lines` with the line number DuckDB reports (store_rejects). Meanwhile
another thread counts the file's records with Python's csv module (DuckDB releases the GIL); when
landed + rejected differs from that count, DuckDB split records differently from Python's csv (a
quote left open, text after a closing quote, ...): the file's rows are deleted again, inside the
same transaction, and Python's csv module parses the file, which the accounting is defined by.
Python also parses the files DuckDB would misread (one column, a blank line before the header) and
those DuckDB refuses (mixed line endings, ...: `ReaderRefused`, after which the caller rolls back).

Every write happens inside the caller's transaction: the caller makes the file whole or absent.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import gzip
import io
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, TextIO

import duckdb
import pyarrow as pa

from loader.contract import METADATA_COLUMNS, RAW_SCHEMA

BOM = "\ufeff"
_BATCH = 50_000
csv.field_size_limit(2**31 - 1)


class UnreadableFile(Exception):
    """The file cannot be read at all (not gzip, not text, ...). The file is marked failed."""


class ReaderRefused(Exception):
    """DuckDB's CSV reader raised an error on the file. The transaction is aborted: the caller rolls
    back and lands the file again with `python=True`."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class FileRows:
    """The loader's values on every landed row of one file (METADATA_COLUMNS besides the row number)."""

    uri: str
    loaded_at: datetime
    integration_name: str

    def params(self) -> dict[str, object]:
        return {"uri": self.uri, "at": self.loaded_at, "name": self.integration_name}


@dataclass(frozen=True)
class ParsedFile:
    headers: list[str]  # as written, BOM stripped
    columns: list[str]  # the landed column names (DuckDB's de-duplication of the headers)
    rows_loaded: int
    rows_rejected: int
    parser: str  # "duckdb", "python" or "empty"


EMPTY = ParsedFile([], [], 0, 0, "empty")


def quote_ident(name: str) -> str:
    """A DuckDB identifier for any text: header names reach SQL only through this."""
    return '"' + name.replace('"', '""') + '"'


def column_names(headers: list[str]) -> list[str]:
    """The landed column name of each header, as DuckDB names CSV columns.

    An empty header becomes column<i>; a name repeated (case-insensitively, as DuckDB compares
    identifiers) gets DuckDB's suffix: email, email_1, EMAIL_2. Names that clash with the loader's
    own columns (_file_uri, ...) are suffixed the same way.
    """
    width = len(str(max(len(headers) - 1, 0)))
    seen = {name.lower() for name in METADATA_COLUMNS}
    names = []
    for index, header in enumerate(headers):
        name = header if header.strip() else f"column{index:0{width}d}"
        if name.lower() in seen:
            suffix = 1
            while f"{name}_{suffix}".lower() in seen:
                suffix += 1
            name = f"{name}_{suffix}"
        seen.add(name.lower())
        names.append(name)
    return names


def _blank_line_first(path: str) -> bool:
    """True when a blank line comes before the header (DuckDB would take it as the header)."""
    with open(path, "rb") as handle:
        start = handle.read(8)
    start = start.removeprefix(BOM.encode())
    return start[:1] in (b"\r", b"\n")


def open_text(path: str) -> io.TextIOWrapper:
    """The file as text the way the record count reads it: UTF-8, undecodable bytes kept."""
    return open(path, encoding="utf-8", errors="surrogateescape", newline="")


def read_header(path: str) -> list[str]:
    """The header of a local plain CSV file (see read_header_from)."""
    try:
        with open(path, "rb") as raw:
            return read_header_from(raw)
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file: {type(exc).__name__}: {exc}") from exc


def read_header_from(raw: BinaryIO) -> list[str]:
    """The first non-blank record's fields, BOM stripped; [] when the stream holds no record.

    The one header rule: `load` lands a file by it and `check` reports by it, so both say the same
    (UnreadableFile: "the header line is not UTF-8", NUL bytes, not CSV). Reads only the first record.
    """
    with export_records(raw) as (headers, _):
        return headers


@contextlib.contextmanager
def export_records(raw: BinaryIO) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
    """The header of a CSV stream (read_header_from's rule) and the records `load` lands from it, as
    Python's parser reads them: those with the header's field count that are UTF-8 (the others are
    rejected). The records are read as the iterator is consumed; UnreadableFile when the stream
    cannot be read as CSV. The caller owns (and closes) the binary stream."""
    text = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")
    try:
        records = _records(text)
        first = next(records, None)
        headers = _header(first[1] if first else [])

        def landed() -> Iterator[list[str]]:
            for _line, record in records:
                if _reject_reason(record, len(headers)) is None:
                    yield record

        yield headers, landed()
    finally:
        text.detach()


def _records(text: TextIO) -> Iterator[tuple[int, list[str]]]:
    """The records of a CSV text as Python's csv module splits them, each with the line it starts on;
    a blank line is not a record. UnreadableFile when the text is not CSV."""
    reader = csv.reader(text, strict=False)
    line_before = 0
    try:
        for record in reader:
            start_line = line_before + 1
            line_before = reader.line_num
            if record:
                yield start_line, record
    except csv.Error as exc:
        raise UnreadableFile(f"not a CSV file: {exc}") from exc


def _header(record: list[str]) -> list[str]:
    """The header rule on the first record: BOM stripped; NUL bytes or bad UTF-8 make the file unreadable."""
    if record and record[0].startswith(BOM):
        record[0] = record[0][len(BOM) :]
    joined = "".join(record)
    if "\x00" in joined:
        raise UnreadableFile("not a CSV file: the header line contains NUL bytes (binary data?)")
    if _has_bad_utf8(joined):
        raise UnreadableFile("the header line is not UTF-8: re-export the file as UTF-8 CSV")
    return record


def _reject_reason(record: list[str], width: int) -> str | None:
    """Why `load` rejects a record (the same acceptance rules as DuckDB's reader), or None."""
    if len(record) != width:
        kind = "TOO MANY COLUMNS" if len(record) > width else "MISSING COLUMNS"
        return f"{kind}: Expected Number of Columns: {width} Found: {len(record)}"
    if _has_bad_utf8(",".join(record)):
        return "INVALID ENCODING: the record is not UTF-8"
    return None


@contextlib.contextmanager
def decompressed(raw: BinaryIO, gzipped: bool) -> Iterator[BinaryIO]:
    """The stream's bytes, gunzipped as they are read when `gzipped`: a gzip that is not whole raises
    UnreadableFile (the words `load` records) where the reader reaches the fault."""
    if not gzipped:
        yield raw
        return
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as plain:
            yield plain
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise _unreadable_gzip(exc) from exc


def _unreadable_gzip(exc: BaseException) -> UnreadableFile:
    return UnreadableFile(f"not a readable gzip file ({type(exc).__name__}: {exc}): re-upload the export")


def land_records(
    con: duckdb.DuckDBPyConnection,
    path: str,
    headers: list[str],
    rows: FileRows,
    python: bool = False,
) -> ParsedFile:
    """Land the records of the local plain CSV `path` (its header already read: `headers`) into
    sigma_raw.impression_rows and its rejects into sigma_raw.rejected_lines, inside the caller's
    transaction, after the caller has added the columns and deleted the file's earlier rows.

    Raises UnreadableFile when the file cannot be read (the caller deletes what landed of it and
    records it failed) and ReaderRefused when DuckDB's reader raised (the transaction is aborted).
    `python=True`: Python's csv module parses the file (after a ReaderRefused)."""
    if not headers:
        return EMPTY
    columns = column_names(headers)
    # DuckDB takes a blank line as a record of one NULL field in a one-column file, and a blank
    # first line as the header; Python's csv module skips blank lines: Python parses those.
    if not python and len(columns) > 1 and not _blank_line_first(path):
        with ThreadPoolExecutor(max_workers=1) as pool:
            records = pool.submit(record_count, path)
            loaded, rejected = _land_with_duckdb(con, path, columns, rows)
            if loaded + rejected == records.result():
                return ParsedFile(headers, columns, loaded, rejected, "duckdb")
        _delete_rows(con, rows)  # DuckDB split records differently: Python's count decides
    loaded, rejected = _land_with_python(con, path, columns, rows)
    return ParsedFile(headers, columns, loaded, rejected, "python")


def _land_with_duckdb(con: duckdb.DuckDBPyConnection, path: str, columns: list[str], rows: FileRows) -> tuple[int, int]:
    """DuckDB's reader: (records landed, records rejected)."""
    con.execute("drop table if exists _duck_rejects")
    con.execute("drop table if exists _duck_reject_scans")
    targets = ", ".join([*(quote_ident(c) for c in columns), *METADATA_COLUMNS])
    # In METADATA_COLUMNS order. row_number() over (): a streaming window, one thread, file order.
    sources = ", ".join([*(quote_ident(c) for c in columns), "$uri", "row_number() over ()", "$at", "$name"])
    try:
        inserted = con.execute(
            f"insert into {RAW_SCHEMA}.impression_rows ({targets}) select {sources} "
            """
            from read_csv(
                $path,
                columns = $schema,
                header = true,
                auto_detect = false,
                delim = ',',
                quote = '"',
                escape = '"',
                comment = '',
                compression = 'none',
                store_rejects = true,
                rejects_table = '_duck_rejects',
                rejects_scan = '_duck_reject_scans',
                max_line_size = 33554432
            )
            """,
            {"path": path, "schema": {name: "VARCHAR" for name in columns}, **rows.params()},
        ).fetchone()
    except duckdb.Error as exc:
        raise ReaderRefused(exc) from exc
    # DuckDB reports one reject row per bad column; a record is rejected once.
    rejected = con.execute(
        f"insert into {RAW_SCHEMA}.rejected_lines "
        """
        select
            $uri,
            line,
            arg_min(error_type || ': ' || error_message, column_idx),
            ltrim(arg_min(csv_line, column_idx), chr(13) || chr(10)),
            $at,
            $name
        from _duck_rejects
        group by line
        order by line
        """,
        rows.params(),
    ).fetchone()
    con.execute("drop table if exists _duck_rejects")
    con.execute("drop table if exists _duck_reject_scans")
    return (inserted[0] if inserted else 0), (rejected[0] if rejected else 0)


def _delete_rows(con: duckdb.DuckDBPyConnection, rows: FileRows) -> None:
    """Remove what this file landed so far in the current transaction (rows and rejects)."""
    for table in ("impression_rows", "rejected_lines"):
        con.execute(f"delete from {RAW_SCHEMA}.{table} where _file_uri = $uri", {"uri": rows.uri})


_LINE_ENDS = frozenset(("\n", "\r", "\r\n"))


def record_count(path: str) -> int | None:
    """Records after the header, as Python's csv module splits them (blank lines are not records).

    The csv module reads the lines the text file yields (split at \n, \r and \r\n); starting a line
    outside a quoted field, it makes of a line without a quote character exactly one record, or
    none when the line is only its line end. So only the lines holding a quote go through
    csv.reader (which takes from the same lines what a quoted field spans): the same count as
    csv.reader over the whole file, without building the fields of the other lines."""
    try:
        with open_text(path) as text:
            lines = iter(text)
            pending: list[str] = []

            def quoted_lines() -> Iterator[str]:
                while True:
                    if pending:
                        yield pending.pop()
                    else:
                        line = next(lines, None)
                        if line is None:
                            return
                        yield line

            reader = csv.reader(quoted_lines(), strict=False)
            records = 0
            for line in lines:
                if '"' in line:
                    pending.append(line)
                    records += 1 if next(reader, None) else 0
                elif line not in _LINE_ENDS:
                    records += 1
            return max(records - 1, 0)
    except (OSError, csv.Error):
        return None


@contextlib.contextmanager
def plain_csv(path: str, gzipped: bool) -> Iterator[str]:
    """The file as plain CSV. A gzip file is decompressed (and so verified to its end and CRC)
    into a temp file first: DuckDB reads a truncated gzip as far as it goes without an error."""
    if not gzipped:
        yield path
        return
    handle, plain = tempfile.mkstemp(prefix="sigma-export-", suffix=".csv")
    os.close(handle)
    try:
        try:
            with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst, length=4 * 1024 * 1024)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise UnreadableFile(
                    f"no space for a temporary copy of the file ({exc.strerror}): free space and run again"
                ) from exc
            raise _unreadable_gzip(exc) from exc
        except (EOFError, zlib.error) as exc:
            raise _unreadable_gzip(exc) from exc
        yield plain
    finally:
        with contextlib.suppress(OSError):
            os.remove(plain)


def _land_with_python(con: duckdb.DuckDBPyConnection, path: str, columns: list[str], rows: FileRows) -> tuple[int, int]:
    """The fallback parser: Python's csv module, the same acceptance rules as DuckDB's. Returns
    (records landed, records rejected); rows are numbered 1..n in file order as they land."""
    width = len(columns)
    batch: list[list[str]] = []
    rejects: list[tuple[int, str, str]] = []
    landed = 0
    try:
        with open_text(path) as text:
            records = _records(text)
            next(records, None)  # the header
            for start_line, record in records:
                reason = _reject_reason(record, width)
                if reason is not None:
                    rejects.append((start_line, reason, _printable(",".join(record))))
                    continue
                batch.append([value if value else None for value in record])  # '' -> NULL, as DuckDB
                if len(batch) >= _BATCH:
                    _flush(con, columns, batch, landed, rows)
                    landed += len(batch)
                    batch = []
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file: {type(exc).__name__}: {exc}") from exc
    _flush(con, columns, batch, landed, rows)
    landed += len(batch)
    if rejects:
        params = rows.params()
        con.executemany(
            f"insert into {RAW_SCHEMA}.rejected_lines values (?, ?, ?, ?, ?, ?)",
            [(params["uri"], line, error, raw, params["at"], params["name"]) for line, error, raw in rejects],
        )
    return landed, len(rejects)


def _flush(
    con: duckdb.DuckDBPyConnection, columns: list[str], batch: list[list], landed_before: int, rows: FileRows
) -> None:
    """Insert a batch of records, numbered from landed_before + 1, into sigma_raw.impression_rows."""
    if not batch:
        return
    arrays = [pa.array([row[i] for row in batch], pa.string()) for i in range(len(columns))]
    names = [f"c{i}" for i in range(len(columns))]
    numbers = pa.array(range(landed_before + 1, landed_before + len(batch) + 1), pa.int64())
    con.register("_arrow_batch", pa.Table.from_arrays([*arrays, numbers], names=[*names, "n"]))
    targets = ", ".join([*(quote_ident(c) for c in columns), *METADATA_COLUMNS])
    sources = ", ".join([*(quote_ident(n) for n in names), "$uri", "n", "$at", "$name"])  # METADATA_COLUMNS order
    try:
        con.execute(
            f"insert into {RAW_SCHEMA}.impression_rows ({targets}) select {sources} from _arrow_batch", rows.params()
        )
    finally:
        con.unregister("_arrow_batch")


def _has_bad_utf8(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _printable(text: str) -> str:
    return codecs.decode(codecs.encode(text, "utf-8", "surrogateescape"), "utf-8", "replace")
