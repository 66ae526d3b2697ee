"""Hostile export files, generated (hypothesis) and hand-made (a corpus): nothing lost, nothing crashes.

Every file lands through `land_file`, the code path of `sigma-impressions load`, into one shared
database, so each hostile header also meets every column the files before it created. After each
hostile file a known-good file is landed and read back column by column.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loader.csv_reader import column_names
from loader.sigma_api.tables import TABLES as INVENTORY_TABLES
from tests.helpers.invariants import assert_accounted, land_bytes

GOOD_HEADER = ["request_time", "user_email", "workbook_url_id"]
GOOD_ROWS = [["2026-11-25 10:00:00", "good@x.com", "wb-good"], ["2026-11-25 11:00:00", "good2@x.com", "wb-good"]]
GOOD = ("\n".join(",".join(r) for r in [GOOD_HEADER, *GOOD_ROWS]) + "\n").encode()

NASTY_NAMES = [
    "",
    " ",
    "request_time",
    "REQUEST_TIME",
    "user_email",
    'x"; drop table t; --',
    "'); drop schema sigma_raw cascade; --",
    '"',
    '""',
    "a,b",
    "line\nbreak",
    "\ufeffbom",
    "_file_uri",
    "_FILE_ROW_NUMBER",
    "_loaded_at",
    "column0",
    "column1",
    "émoji 🎉",
    "Ω" * 3,
    "x" * 300,
    "select",
    "from",
    "$path",
    "?",
    "%s",
    "\t",
]
FIELD_CHARS = st.sampled_from(
    [",", '"', "\n", "\r", "\r\n", " ", "a", "Z", "é", "😀", "\x00", "\ufeff", "\\", "'", ";"]
)
field_text = st.one_of(
    st.text(max_size=8),
    st.lists(FIELD_CHARS, max_size=6).map("".join),
)
header_names = st.one_of(st.sampled_from(NASTY_NAMES), st.text(max_size=12))
INSERTS = [b"\x00", b"\xff", b"\xe9", b'"', b"\r", b"\n", b",", b"\xc3", b"\xef\xbb\xbf"]

counter = itertools.count()
fuzzed = {"files": 0, "records": 0}


@st.composite
def export_files(draw: st.DrawFn) -> tuple[str, bytes, bool, bool]:
    """(name, bytes, gzipped, clean): a CSV export, possibly damaged; clean = written by csv.writer, undamaged."""
    headers = draw(st.lists(header_names, min_size=1, max_size=6))
    width = len(headers)
    n_rows = draw(st.integers(0, 8))
    rows = []
    for _ in range(n_rows):
        delta = draw(st.sampled_from([0, 0, 0, 0, -1, 1, -width, 2]))
        rows.append(draw(st.lists(field_text, min_size=max(width + delta, 0), max_size=max(width + delta, 0))))
    terminator = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    style = draw(st.sampled_from(["minimal", "all", "raw"]))
    buffer = io.StringIO(newline="")
    if style == "raw":
        buffer.write(terminator.join(",".join(r) for r in [headers, *rows]) + terminator)
    else:
        quoting = csv.QUOTE_ALL if style == "all" else csv.QUOTE_MINIMAL
        csv.writer(buffer, quoting=quoting, lineterminator=terminator).writerows([headers, *rows])
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = "\ufeff" + text
    data = text.encode("utf-8")
    damaged = False
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(INSERTS)) + data[at:]
        damaged = True
    if draw(st.booleans()):
        data = data.rstrip(b"\r\n")
        damaged = True
    if draw(st.integers(0, 9)) == 0:
        data = text.encode("latin-1", errors="replace")
        damaged = True
    gzipped = draw(st.integers(0, 4)) == 0
    if gzipped:
        data = gzip.compress(data)
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, max(len(data) - 1, 0)))]
            damaged = True
    # A NUL byte in the header makes the file "not a CSV file" by the loader's header rule (binary
    # data), however csv.writer wrote it.
    header_has_nul = any("\x00" in h for h in headers)
    clean = style != "raw" and not damaged and not header_has_nul and all(len(r) == width for r in rows)
    name = f"f{next(counter)}.csv" + (".gz" if gzipped else "")
    return name, data, gzipped, clean


def assert_good_file_lands(con: duckdb.DuckDBPyConnection, config: object, folder: Path) -> None:
    result = land_bytes(con, config, folder, f"good{next(counter)}.csv", GOOD)
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 2, 0), result
    got = con.execute(
        "select request_time, user_email, workbook_url_id from sigma_raw.impression_rows "
        "where _file_uri = ? order by _file_row_number",
        [result.uri],
    ).fetchall()
    assert [list(r) for r in got] == GOOD_ROWS
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'sigma_raw' order by 1"
    ).fetchall()
    # The raw tables and the inventory's (created empty), and no table a hostile name made.
    assert {name for (name,) in tables} == {"impression_rows", "loaded_files", "rejected_lines", *INVENTORY_TABLES}


def landed_values(con: duckdb.DuckDBPyConnection, uri: str, columns: list[str]) -> list[list[str]]:
    select = ", ".join('coalesce("' + c.replace('"', '""') + "\", '')" for c in columns)
    rows = con.execute(
        f"select {select} from sigma_raw.impression_rows where _file_uri = ? order by _file_row_number", [uri]
    ).fetchall()
    return [list(r) for r in rows]


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(export=export_files())
def test_generated_exports_are_accounted_for(landing: tuple, time_limit: type, export: tuple) -> None:
    con, config, folder = landing
    name, data, gzipped, clean = export
    with time_limit(60):
        result = land_bytes(con, config, folder, name, data)
    fuzzed["files"] += 1
    fuzzed["records"] += assert_accounted(con, result, data, gzipped)
    if clean:
        # Written by csv.writer and undamaged: every record lands, with exactly its values.
        assert result.status == "loaded" and result.rows_rejected == 0, result
        headers = con.execute("select headers from sigma_raw.loaded_files where file_uri = ?", [result.uri]).fetchone()[
            0
        ]
        text = (gzip.decompress(data) if gzipped else data).decode()
        expected = [r for r in csv.reader(io.StringIO(text, newline=""), strict=False) if r][1:]
        assert landed_values(con, result.uri, column_names(headers)) == expected
    assert_good_file_lands(con, config, folder)
