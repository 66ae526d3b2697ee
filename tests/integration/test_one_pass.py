"""The one-pass landing: each record goes from read_csv straight into sigma_raw.impression_rows.

The record's number comes from `row_number() over ()` at insert time, which is only right if
DuckDB runs it as a streaming window over the file in order: these tests check the plan of the
statement the loader really runs, and the numbers against a column that holds each record's
order on a multi-MB file parsed with several DuckDB threads.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loader import csv_reader, landing
from loader.config import build_config
from loader.destinations import duckdb as duckdb_destination
from loader.destinations.duckdb import open_database
from loader.landing import run_load
from tests.helpers.exports import ExportDir, query

HEADER = "request_time,user_email,workbook_url_id,element_id,count,seq\n"


def ordered_export(records: int, bad_every: int, first_column: str | None = None) -> str:
    """A CSV whose `seq` column holds each landed record's 1-based order; before every `bad_every`-th
    record comes a record with a field too many (rejected, no number, `seq` in its 2nd field).
    Some fields are quoted and hold a newline, so records and lines differ. `first_column`: one more
    column, first, holding "x" (a header the table has not seen)."""
    prefix = "x," if first_column else ""
    lines = [f"{first_column},{HEADER}" if first_column else HEADER]
    for seq in range(1, records + 1):
        if seq % bad_every == 0:
            lines.append(f"{prefix}bad,{seq},wb,el,1,x,extra\n")
        element = "" if seq % 3 == 0 else f"el{seq % 97}"
        if seq % 7 == 0:
            element = f'"el{seq}\nsecond line, with a comma"'
        lines.append(
            f"{prefix}2026-11-25T10:{seq % 60:02d}:00Z,user{seq % 3000}@x.com,wb{seq % 400},{element},1,{seq}\n"
        )
    return "".join(lines)


def test_file_row_number_is_the_record_order_on_a_large_file_with_many_threads(
    export_dir: ExportDir, tmp_path: Path
) -> None:
    records = 300_000
    text = ordered_export(records, bad_every=40_000)
    path = export_dir.write("big.csv", text)
    assert path.stat().st_size > 15 * 2**20  # several of DuckDB's CSV buffers, so several scan tasks
    db = tmp_path / "w.duckdb"
    summary = run_load(build_config({"bucket_uri": export_dir.uri, "database": str(db), "threads": 4}, env={}))
    assert summary.ok and summary.rows_loaded == records and summary.rows_rejected == records // 40_000
    [(count, wrong, first, last)] = query(
        db,
        "select count(*), count(*) filter (where _file_row_number <> cast(seq as bigint)), "
        "min(_file_row_number), max(_file_row_number) from sigma_raw.impression_rows",
    )
    assert (count, wrong, first, last) == (records, 0, 1, records)
    rejected = query(db, "select raw_text from sigma_raw.rejected_lines order by line_number")
    assert [text.split(",")[1] for (text,) in rejected] == [str(n) for n in range(40_000, records + 1, 40_000)]
    # Quoted newlines landed inside their field, not as records of their own.
    [(multiline,)] = query(db, "select count(*) from sigma_raw.impression_rows where element_id like '%\nsecond%'")
    assert multiline == records // 7


def test_batches_landing_at_once_number_each_file_in_order_and_add_columns_alone(
    export_dir: ExportDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches land at once, each on its own connection and in its own transaction: every file
    is still numbered in its own order, and a batch whose header adds a column lands alone (DuckDB
    cannot alter a table another open transaction has written to)."""
    monkeypatch.setattr(landing, "BATCH_FILES", 1)
    monkeypatch.setattr(duckdb_destination.os, "cpu_count", lambda: 2)
    records = 60_000
    for n in range(6):
        text = ordered_export(records, bad_every=20_000, first_column="note" if n == 2 else None)
        export_dir.write(f"f{n}.csv", text, age=timedelta(minutes=60 - n))
    spans: list[tuple[float, float, str]] = []
    real = duckdb_destination._transaction

    def timed(con: Any, files: list, *args: Any) -> Any:
        start = time.monotonic()
        try:
            return real(con, files, *args)
        finally:
            spans.append((start, time.monotonic(), files[0].obj.uri.rsplit("/", 1)[-1]))

    monkeypatch.setattr(duckdb_destination, "_transaction", timed)
    db = tmp_path / "w.duckdb"
    summary = run_load(build_config({"bucket_uri": export_dir.uri, "database": str(db)}, env={}))
    assert summary.ok and summary.count("loaded") == 6
    assert summary.rows_loaded == 6 * records and summary.rows_rejected == 6 * (records // 20_000)
    assert [r.uri.rsplit("/", 1)[-1] for r in summary.results] == [f"f{n}.csv" for n in range(6)]
    rows = query(
        db,
        "select _file_uri, count(*), count(*) filter (where _file_row_number <> cast(seq as bigint)), "
        "min(_file_row_number), max(_file_row_number), count(note) from sigma_raw.impression_rows "
        "group by 1 order by 1",
    )
    assert [(uri.rsplit("/", 1)[-1], *rest) for uri, *rest in rows] == [
        (f"f{n}.csv", records, 0, 1, records, records if n == 2 else 0) for n in range(6)
    ]

    def overlap(a: tuple[float, float, str], b: tuple[float, float, str]) -> bool:
        return a[0] < b[1] and b[0] < a[1]

    assert len(spans) == 6
    pairs = [(a[2], b[2]) for i, a in enumerate(spans) for b in spans[i + 1 :] if overlap(a, b)]
    # f0 creates the columns of a fresh table and f2 adds `note`: each alone. The others overlap.
    assert pairs and not [pair for pair in pairs if {"f0.csv", "f2.csv"} & set(pair)]


class RecordingConnection:
    """A DuckDB connection that records the SQL and parameters of every execute()."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.statements: list[tuple[str, Any]] = []

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        self.statements.append((sql, params))
        return self._con.execute(sql, params) if params is not None else self._con.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_the_insert_from_read_csv_is_a_streaming_window_in_one_statement(export_dir: ExportDir, tmp_path: Path) -> None:
    text = ordered_export(2_000, bad_every=500)
    export_dir.write("a.csv", text, age=timedelta(minutes=5))
    config = build_config({"bucket_uri": export_dir.uri, "database": str(tmp_path / "w.duckdb"), "threads": 4}, env={})
    from loader.storage import list_exports, make_filesystem

    [obj] = list_exports(make_filesystem(config), config.bucket, config.days_back).in_window
    with open_database(config) as con:
        recording = RecordingConnection(con)
        result = landing.land_file(recording, None, obj, config)  # type: ignore[arg-type]
        assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 2_000, 4)
        inserts = [(sql, p) for sql, p in recording.statements if "read_csv" in sql]
        # One statement reads the file, and it writes the landed table itself: no temp table.
        assert len(inserts) == 1
        sql, params = inserts[0]
        assert sql.lstrip().lower().startswith("insert into sigma_raw.impression_rows")
        assert not [s for s, _ in recording.statements if "temp table" in s.lower()]
        plan = "\n".join(row[1] for row in con.execute("explain " + sql, params).fetchall())
    assert "STREAMING_WINDOW" in plan
    # No blocking WINDOW (it would number rows in whatever order its partitions come) and no sort.
    assert not re.search(r"(?<!STREAMING_)\bWINDOW\b", plan)
    assert "ORDER_BY" not in plan


def test_a_reader_error_retries_the_batch_with_python_then_file_by_file(
    export_dir: ExportDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mixed line endings make DuckDB's reader raise, which aborts the batch's transaction: the
    batch is rolled back and landed again, and every file still lands whole, numbered in order."""
    good = HEADER + "".join(f"2026-11-25 10:00:00,a@x.com,wb1,el1,1,{n}\n" for n in range(1, 4))
    mixed = (HEADER.replace("\n", "\r\n") + "t,a,wb,el,1,1\n" + "t,b,wb,el,1,2\r\n" + "t,c,wb,el,1,3\n").encode()
    export_dir.write("a_good.csv", good, age=timedelta(minutes=50))
    export_dir.write("b_mixed.csv", mixed, age=timedelta(minutes=40))
    export_dir.write("c_good.csv", good, age=timedelta(minutes=30))
    export_dir.write("d_mixed.csv", mixed, age=timedelta(minutes=20))
    transactions: list[int] = []
    real = duckdb_destination._transaction

    def counting(con: Any, files: list, *args: Any) -> Any:
        transactions.append(len(files))
        return real(con, files, *args)

    monkeypatch.setattr(duckdb_destination, "_transaction", counting)
    monkeypatch.setattr(duckdb_destination, "CONCURRENT_BATCHES", 1)  # one batch of four (not the first file alone)
    db = tmp_path / "w.duckdb"
    summary = run_load(build_config({"bucket_uri": export_dir.uri, "database": str(db)}, env={}))
    assert summary.ok and summary.count("loaded") == 4 and summary.rows_loaded == 12
    # The batch of 4; again with the first mixed file parsed by Python; then, the second mixed file
    # having raised too, one by one with both parsed by Python.
    assert transactions == [4, 4, 1, 1, 1, 1]
    rows = query(
        db,
        "select _file_uri, list(_file_row_number order by _file_row_number), "
        "list(seq order by _file_row_number) from sigma_raw.impression_rows group by 1 order by 1",
    )
    assert [(numbers, seqs) for _uri, numbers, seqs in rows] == [([1, 2, 3], ["1", "2", "3"])] * 4
    assert query(db, "select count(*), count(distinct file_uri) from sigma_raw.loaded_files") == [(4, 4)]


def test_a_count_mismatch_lands_the_python_parse_alone(
    export_dir: ExportDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When Python's count disagrees, the rows DuckDB inserted are deleted inside the transaction
    and Python's parse is what lands: no row twice, numbers 1..n."""
    monkeypatch.setattr(csv_reader, "record_count", lambda path: -1)  # disagrees with any parse
    body = HEADER + "".join(f"2026-11-25 10:00:00,a@x.com,wb1,el1,1,{n}\n" for n in range(1, 6)) + "short,row\n"
    export_dir.write("a.csv", body, age=timedelta(minutes=30))
    export_dir.write("b.csv", body, age=timedelta(minutes=20))
    db = tmp_path / "w.duckdb"
    summary = run_load(build_config({"bucket_uri": export_dir.uri, "database": str(db)}, env={}))
    assert summary.ok and summary.rows_loaded == 10 and summary.rows_rejected == 2
    assert query(
        db,
        "select count(*), count(distinct (_file_uri, _file_row_number)), max(_file_row_number) "
        "from sigma_raw.impression_rows",
    ) == [(10, 10, 5)]
    assert query(db, "select count(*), min(line_number) from sigma_raw.rejected_lines") == [(2, 7)]
