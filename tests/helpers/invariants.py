"""The loader's contract, checked per file: every record landed or rejected, or the file failed whole.

`land_bytes` writes one export into a local folder and lands it through `land_file` on an open
connection (the same code path as `sigma-impressions load`); `assert_accounted` checks the result
against the independent Python-csv count of `tests.helpers.accounting.count_records`.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from loader.config import LoadConfig
from loader.landing import FileResult, land_file
from loader.storage import ExportObject
from tests.helpers.accounting import count_records


def export_object(path: Path) -> ExportObject:
    stat = path.stat()
    return ExportObject(
        uri=f"file://{path}",
        path=str(path),
        etag=f"{stat.st_size}-{stat.st_mtime_ns}",
        size_bytes=stat.st_size,
        last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
    )


def land_bytes(con: duckdb.DuckDBPyConnection, config: LoadConfig, folder: Path, name: str, data: bytes) -> FileResult:
    """Write `data` as `folder/name` and land it in one transaction, as `load` does."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return land_file(con, None, export_object(path), config)


def expected_records(data: bytes, gzipped: bool) -> int | None:
    """The independent record count, or None when the bytes are not a readable gzip."""
    if gzipped and data:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return None
    return count_records(data)


def assert_accounted(con: duckdb.DuckDBPyConnection, result: FileResult, data: bytes, gzipped: bool) -> int:
    """The per-file contract (every record of the file landed or rejected with a reason, numbered
    1..n in file order); returns the number of records compared."""
    uri = result.uri
    manifest = con.execute(
        "select status, rows_loaded, rows_rejected, error from sigma_raw.loaded_files where file_uri = ?", [uri]
    ).fetchall()
    assert len(manifest) == 1, f"{uri}: one manifest row, got {manifest}"
    status, loaded, rejected, error = manifest[0]
    landed = con.execute("select count(*) from sigma_raw.impression_rows where _file_uri = ?", [uri]).fetchone()[0]
    rejects = con.execute("select count(*) from sigma_raw.rejected_lines where _file_uri = ?", [uri]).fetchone()[0]
    assert status == result.status, (status, result)
    if status == "failed":
        assert error and "\n" not in error and "Traceback" not in error, repr(error)
        assert (landed, rejects, loaded, rejected) == (0, 0, 0, 0), f"{uri}: a failed file lands nothing"
        return 0
    assert status == "loaded", status
    expected = expected_records(data, gzipped)
    assert expected is not None, f"{uri}: an unreadable gzip was not marked failed"
    assert (landed, rejects) == (loaded, rejected), f"{uri}: the manifest disagrees with the rows"
    assert loaded + rejected == expected, f"{uri}: loaded {loaded} + rejected {rejected} != {expected} records"
    numbers = con.execute(
        "select min(_file_row_number), max(_file_row_number), count(distinct _file_row_number) "
        "from sigma_raw.impression_rows where _file_uri = ?",
        [uri],
    ).fetchone()
    if loaded:
        assert numbers == (1, loaded, loaded), f"{uri}: _file_row_number is not 1..{loaded}: {numbers}"
    return expected
