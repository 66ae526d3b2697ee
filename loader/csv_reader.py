"""Read one local export file into DuckDB temp tables: its records, and the records it rejects.

The header is read with Python's csv module (so the names are exactly as written), then DuckDB's
CSV reader parses the body with that schema fixed: all VARCHAR, ',' and '"' only, no comment
lines, no sniffing. A record whose field count differs from the header's, or that is not valid
UTF-8, is rejected with the line number DuckDB reports. If DuckDB cannot parse the body at all
(mixed line endings, for example), Python's csv module parses it instead, with the same rules.

Results: temp table `_landing` (columns in header order; rowid + 1 is the 1-based order of the
landed record in the file) and `_landing_rejects` (line_number, error, raw_text).
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
from typing import BinaryIO

import duckdb
import pyarrow as pa

from loader.contract import METADATA_COLUMNS

BOM = "\ufeff"
_BATCH = 50_000
csv.field_size_limit(2**31 - 1)


class UnreadableFile(Exception):
    """The file cannot be read at all (not gzip, not text, ...). The file is marked failed."""


@dataclass(frozen=True)
class ParsedFile:
    headers: list[str]  # as written, BOM stripped
    columns: list[str]  # the landed column names (DuckDB's de-duplication of the headers)
    rows_loaded: int
    rows_rejected: int
    parser: str  # "duckdb", "python" or "empty"


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


class _UsePython(Exception):
    """The file is one DuckDB's reader would count differently: parse it with Python's csv."""


def _blank_line_first(path: str) -> bool:
    """True when a blank line comes before the header (DuckDB would take it as the header)."""
    with open(path, "rb") as handle:
        start = handle.read(8)
    start = start.removeprefix(BOM.encode())
    return start[:1] in (b"\r", b"\n")


def _open_text(path: str) -> io.TextIOWrapper:
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
    text = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")
    try:
        record = next((r for r in csv.reader(text, strict=False) if r), [])
    except csv.Error as exc:
        raise UnreadableFile(f"not a CSV file: {exc}") from exc
    finally:
        text.detach()  # the caller owns (and closes) the binary stream
    if record and record[0].startswith(BOM):
        record[0] = record[0][len(BOM) :]
    joined = "".join(record)
    if "\x00" in joined:
        raise UnreadableFile("not a CSV file: the header line contains NUL bytes (binary data?)")
    if _has_bad_utf8(joined):
        raise UnreadableFile("the header line is not UTF-8: re-export the file as UTF-8 CSV")
    return record


def parse_into_temp(con: duckdb.DuckDBPyConnection, path: str, gzipped: bool, size_bytes: int) -> ParsedFile:
    """Parse one local file into the temp tables `_landing` and `_landing_rejects`."""
    con.execute("drop table if exists _landing")
    con.execute("drop table if exists _landing_rejects")
    con.execute("create temp table _landing_rejects (line_number bigint, error varchar, raw_text varchar)")
    if size_bytes == 0:
        con.execute("create temp table _landing (_no_header boolean)")
        return ParsedFile([], [], 0, 0, "empty")
    with _plain_csv(path, gzipped) as plain:
        headers = read_header(plain)
        if not headers:
            con.execute("create temp table _landing (_no_header boolean)")
            return ParsedFile([], [], 0, 0, "empty")
        columns = column_names(headers)
        parser = "duckdb" if len(columns) > 1 and not _blank_line_first(plain) else "python"
        # DuckDB takes a blank line as a record of one NULL field in a one-column file, and a blank
        # first line as the header; Python's csv module skips blank lines: Python parses those.
        if parser == "duckdb":
            parser = _parse_with_duckdb_verified(con, plain, columns)
        if parser == "python":
            con.execute("drop table if exists _landing")
            con.execute("delete from _landing_rejects")
            _parse_with_python(con, plain, columns)
    loaded = con.execute("select count(*) from _landing").fetchone()[0]
    rejected = con.execute("select count(*) from _landing_rejects").fetchone()[0]
    return ParsedFile(headers, columns, loaded, rejected, parser)


def _parse_with_duckdb_verified(con: duckdb.DuckDBPyConnection, path: str, columns: list[str]) -> str:
    """Parse with DuckDB and check its record count against Python's csv module, counted on another
    thread meanwhile (DuckDB releases the GIL). Where the two split records differently (a quote
    left open, text after a closing quote, ...), DuckDB can drop records without a reject: then
    the file is parsed again by Python, which the accounting is defined by. Returns the parser to use."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        records = pool.submit(_record_count, path)
        try:
            _parse_with_duckdb(con, path, columns)
        except duckdb.Error:
            return "python"  # DuckDB refuses some files Python's csv reads (mixed line endings, ...)
        return "duckdb" if _counts(con) == records.result() else "python"


def _counts(con: duckdb.DuckDBPyConnection) -> int:
    """Records landed plus records rejected by the parse just done."""
    return con.execute("select (select count(*) from _landing) + (select count(*) from _landing_rejects)").fetchone()[0]


def _record_count(path: str) -> int | None:
    """Records after the header, as Python's csv module splits them (blank lines are not records)."""
    try:
        with _open_text(path) as text:
            return max(sum(1 for record in csv.reader(text, strict=False) if record) - 1, 0)
    except (OSError, csv.Error):
        return None


@contextlib.contextmanager
def _plain_csv(path: str, gzipped: bool) -> Iterator[str]:
    """The file as plain CSV. A gzip file is decompressed (and so verified to its end and CRC)
    into a temp file first: DuckDB reads a truncated gzip as far as it goes without an error,
    and parses a plain file on all threads."""
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
            raise UnreadableFile(
                f"not a readable gzip file ({type(exc).__name__}: {exc}): re-upload the export"
            ) from exc
        except (EOFError, zlib.error) as exc:
            raise UnreadableFile(
                f"not a readable gzip file ({type(exc).__name__}: {exc}): re-upload the export"
            ) from exc
        yield plain
    finally:
        with contextlib.suppress(OSError):
            os.remove(plain)


def _parse_with_duckdb(con: duckdb.DuckDBPyConnection, path: str, columns: list[str]) -> None:
    schema = {name: "VARCHAR" for name in columns}
    con.execute("drop table if exists _duck_rejects")  # left over when an earlier parse failed
    con.execute("drop table if exists _duck_reject_scans")
    con.execute(
        """
        create temp table _landing as
        select *
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
        {"path": path, "schema": schema},
    )
    # The temp table's rowid is the record's order in the file (DuckDB keeps insertion order): the
    # commit numbers records with rowid + 1.
    # DuckDB reports one reject row per bad column; a record is rejected once.
    con.execute(
        """
        insert into _landing_rejects
        select
            line,
            arg_min(error_type || ': ' || error_message, column_idx),
            ltrim(arg_min(csv_line, column_idx), chr(13) || chr(10))
        from _duck_rejects
        group by line
        order by line
        """
    )
    con.execute("drop table if exists _duck_rejects")
    con.execute("drop table if exists _duck_reject_scans")


def _parse_with_python(con: duckdb.DuckDBPyConnection, path: str, columns: list[str]) -> None:
    """The fallback parser: Python's csv module, the same acceptance rules as DuckDB's."""
    width = len(columns)
    batch: list[list[str]] = []
    rejects: list[tuple[int, str, str]] = []
    con.execute("create temp table _landing (" + ", ".join(f"{quote_ident(c)} varchar" for c in columns) + ")")
    try:
        with _open_text(path) as text:
            reader = csv.reader(text, strict=False)
            line_before = 0
            header_seen = False
            for record in reader:
                start_line = line_before + 1
                line_before = reader.line_num
                if not record:
                    continue  # a blank line is not a record
                if not header_seen:
                    header_seen = True
                    continue
                raw = ",".join(record)
                if len(record) != width:
                    kind = "TOO MANY COLUMNS" if len(record) > width else "MISSING COLUMNS"
                    rejects.append(
                        (
                            start_line,
                            f"{kind}: Expected Number of Columns: {width} Found: {len(record)}",
                            _printable(raw),
                        )
                    )
                    continue
                if _has_bad_utf8(raw):
                    rejects.append((start_line, "INVALID ENCODING: the record is not UTF-8", _printable(raw)))
                    continue
                batch.append([value if value else None for value in record])  # '' -> NULL, as DuckDB
                if len(batch) >= _BATCH:
                    _flush(con, columns, batch)
                    batch = []
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file: {type(exc).__name__}: {exc}") from exc
    except csv.Error as exc:
        raise UnreadableFile(f"not a CSV file: {exc}") from exc
    _flush(con, columns, batch)
    if rejects:
        con.executemany("insert into _landing_rejects values (?, ?, ?)", rejects)


def _flush(con: duckdb.DuckDBPyConnection, columns: list[str], batch: list[list]) -> None:
    if not batch:
        return
    arrays = [pa.array([row[i] for row in batch], pa.string()) for i in range(len(columns))]
    names = [f"c{i}" for i in range(len(columns))]
    con.register("_arrow_batch", pa.Table.from_arrays(arrays, names=names))
    try:
        con.execute("insert into _landing select * from _arrow_batch")
    finally:
        con.unregister("_arrow_batch")


def _has_bad_utf8(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _printable(text: str) -> str:
    return codecs.decode(codecs.encode(text, "utf-8", "surrogateescape"), "utf-8", "replace")
