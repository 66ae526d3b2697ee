"""The loader against file:// export folders: window, formats, accounting, idempotency, failures."""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path

import pytest

from loader.config import build_config
from loader.landing import run_load
from tests.helpers.accounting import count_records
from tests.helpers.exports import ExportDir, query

HEADER = "request_time,user_email,workbook_url_id,element_id,count\n"
ROW = "2026-11-25 10:00:00,a@x.com,wb1,el1,1\n"


def load(export_dir: ExportDir, db: Path, **options: object):
    return run_load(build_config({"bucket_uri": export_dir.uri, "database": str(db), **options}, env={}))


def manifest(db: Path) -> dict[str, tuple]:
    rows = query(db, "select file_uri, status, rows_loaded, rows_rejected, headers, error from sigma_raw.loaded_files")
    return {r[0].rsplit("/", 1)[-1]: r[1:] for r in rows}


def test_window_takes_only_recent_exports_and_ignores_other_objects(export_dir: ExportDir, tmp_path: Path) -> None:
    export_dir.write("new.csv", HEADER + ROW, age=timedelta(hours=2))
    export_dir.write("nested/deeper/new2.CSV.GZ", HEADER + ROW, age=timedelta(hours=30))
    export_dir.write("old.csv", HEADER + ROW, age=timedelta(days=3, hours=1))
    export_dir.write("_SUCCESS", "", age=timedelta(hours=1))
    export_dir.write("meta.json", "{}", age=timedelta(hours=1))
    export_dir.write("notes.csv.bak", HEADER, age=timedelta(hours=1))
    summary = load(export_dir, tmp_path / "w.duckdb", days_back=3)
    assert sorted(r.uri.rsplit("/", 1)[-1] for r in summary.results) == ["new.csv", "new2.CSV.GZ"]
    assert summary.older_files == 1
    assert summary.ignored_objects == 3
    summary = load(export_dir, tmp_path / "w2.duckdb", days_back=4)
    assert summary.files_seen == 3


def test_sibling_prefix_is_not_listed(tmp_path: Path) -> None:
    wanted = ExportDir(tmp_path / "exports")
    sibling = ExportDir(tmp_path / "exports-old")
    wanted.write("a.csv", HEADER + ROW)
    sibling.write("b.csv", HEADER + ROW)
    summary = load(wanted, tmp_path / "w.duckdb")
    assert [r.uri for r in summary.results] == [f"file://{tmp_path}/exports/a.csv"]


def test_formats_gzip_bom_crlf_quotes_and_empty_files(export_dir: ExportDir, tmp_path: Path) -> None:
    files = {
        "bom_crlf.csv": (
            "\ufeffRequest Time,User Email,Workbook URL ID\r\n"
            "2026-11-25 10:00,a@x.com,wb1\r\n2026-11-25 11:00,b@x.com,wb2\r\n"
        ).encode(),
        "quoted.csv": (
            HEADER + '"2026-11-25 10:00","a@x.com","wb, with comma","multi\nline ""el""",2\n'
            "\n2026-11-25 12:00,c@x.com,wb3,,\n"
        ).encode(),
        "zipped.csv.gz": gzip.compress((HEADER + ROW + ROW).encode()),
        "header_only.csv": HEADER.encode(),
        "header_no_newline.csv": HEADER.strip().encode(),
        "zero.csv": b"",
        "zero.csv.gz": b"",
        "header_only.csv.gz": gzip.compress(HEADER.encode()),
    }
    for name, data in files.items():
        export_dir.write(name, data)
    db = tmp_path / "w.duckdb"
    summary = load(export_dir, db)
    assert summary.ok
    got = manifest(db)
    for name, data in files.items():
        status, loaded, rejected, _headers, error = got[name]
        assert status == "loaded", (name, error)
        assert loaded + rejected == count_records(data, name.endswith(".gz")), name
    assert got["bom_crlf.csv"][3] == ["Request Time", "User Email", "Workbook URL ID"]
    assert got["quoted.csv"][:3] == ("loaded", 2, 0)
    assert got["zero.csv"][:3] == ("loaded", 0, 0)
    assert got["zero.csv.gz"][:3] == ("loaded", 0, 0)
    rows = query(
        db,
        'select "Request Time", "User Email", _file_row_number from sigma_raw.impression_rows '
        "where _file_uri like '%bom_crlf.csv' order by _file_row_number",
    )
    assert rows == [("2026-11-25 10:00", "a@x.com", 1), ("2026-11-25 11:00", "b@x.com", 2)]
    quoted = query(
        db,
        "select workbook_url_id, element_id from sigma_raw.impression_rows "
        "where _file_uri like '%quoted.csv' order by _file_row_number",
    )
    assert quoted == [("wb, with comma", 'multi\nline "el"'), ("wb3", None)]


def test_malformed_records_are_rejected_and_accounted(export_dir: ExportDir, tmp_path: Path) -> None:
    data = (
        HEADER + ROW + "too,many,fields,in,this,row,here\n" + "too,few\n" + ROW + '2026-11-25,"unterminated,x,y,1\n'
    ).encode()
    export_dir.write("bad.csv", data)
    db = tmp_path / "w.duckdb"
    summary = load(export_dir, db)
    assert summary.ok
    status, loaded, rejected, _h, _e = manifest(db)["bad.csv"]
    assert (status, loaded) == ("loaded", 2)
    assert loaded + rejected == count_records(data)
    rejects = query(db, "select line_number, error, raw_text from sigma_raw.rejected_lines order by line_number")
    assert [r[0] for r in rejects[:2]] == [3, 4]
    assert "TOO MANY COLUMNS" in rejects[0][1] and rejects[0][2] == "too,many,fields,in,this,row,here"
    assert "MISSING COLUMNS" in rejects[1][1]


def test_mixed_line_endings_fall_back_to_the_python_parser(export_dir: ExportDir, tmp_path: Path) -> None:
    data = (HEADER.replace("\n", "\r\n") + ROW + ROW.replace("\n", "\r\n") + "x,y\n" + ROW).encode()
    export_dir.write("mixed.csv", data)
    db = tmp_path / "w.duckdb"
    load(export_dir, db)
    status, loaded, rejected, _h, error = manifest(db)["mixed.csv"]
    assert (status, loaded, rejected, error) == ("loaded", 3, 1, None)


def test_invalid_utf8_record_is_rejected_not_lost(export_dir: ExportDir, tmp_path: Path) -> None:
    data = HEADER.encode() + b"2026-11-25 10:00,caf\xe9@x.com,wb1,,1\n" + ROW.encode()
    export_dir.write("latin1.csv", data)
    db = tmp_path / "w.duckdb"
    load(export_dir, db)
    assert manifest(db)["latin1.csv"][:3] == ("loaded", 1, 1)
    (error,) = query(db, "select error from sigma_raw.rejected_lines")[0]
    assert "ENCODING" in error.upper()


def test_unreadable_file_fails_alone_and_lands_nothing(export_dir: ExportDir, tmp_path: Path) -> None:
    export_dir.write("good.csv", HEADER + ROW)
    export_dir.write("truncated.csv.gz", gzip.compress((HEADER + ROW * 1000).encode())[:200])
    export_dir.write("binary.csv", bytes(range(256)) * 4)
    db = tmp_path / "w.duckdb"
    summary = load(export_dir, db)
    assert not summary.ok
    got = manifest(db)
    assert got["good.csv"][:2] == ("loaded", 1)
    for name in ("truncated.csv.gz", "binary.csv"):
        status, loaded, rejected, _h, error = got[name]
        assert (status, loaded, rejected) == ("failed", 0, 0)
        assert error and "\n" not in error
    counts = query(db, "select _file_uri, count(*) from sigma_raw.impression_rows group by all")
    assert [(uri.rsplit("/", 1)[-1], n) for uri, n in counts] == [("good.csv", 1)]


def test_rerun_is_idempotent_and_changed_files_replace_their_rows(export_dir: ExportDir, tmp_path: Path) -> None:
    export_dir.write("a.csv", HEADER + ROW + ROW)
    export_dir.write("b.csv", HEADER + ROW)
    db = tmp_path / "w.duckdb"
    first = load(export_dir, db)
    assert (first.count("loaded"), first.rows_loaded) == (2, 3)
    second = load(export_dir, db)
    assert (second.count("loaded"), second.count("skipped")) == (0, 2)
    assert query(db, "select count(*) from sigma_raw.impression_rows") == [(3,)]
    export_dir.write(
        "a.csv",
        "USER_EMAIL,Request Time,workbook_url_id\nz@x.com,2026-11-25 09:00,wb9\n",
        age=timedelta(minutes=5),
    )
    third = load(export_dir, db)
    assert (third.count("loaded"), third.count("skipped")) == (1, 1)
    rows = query(db, "select user_email, workbook_url_id from sigma_raw.impression_rows where _file_uri like '%/a.csv'")
    assert rows == [("z@x.com", "wb9")]
    assert query(db, "select count(*) from sigma_raw.loaded_files") == [(2,)]


def test_headers_union_case_insensitive_duplicates_and_reserved_names(export_dir: ExportDir, tmp_path: Path) -> None:
    export_dir.write("one.csv", "request_time,Email,email,,_file_uri\n1,2,3,4,5\n")
    export_dir.write("two.csv", 'REQUEST_TIME,views,x"; drop table t; --\n6,7,8\n')
    db = tmp_path / "w.duckdb"
    assert load(export_dir, db).ok
    columns = [
        r[0]
        for r in query(
            db,
            "select column_name from information_schema.columns "
            "where table_name = 'impression_rows' order by ordinal_position",
        )
    ]
    assert columns[:4] == ["_file_uri", "_file_row_number", "_loaded_at", "_integration_name"]
    assert columns[4:] == [
        "request_time",
        "Email",
        "email_1",
        "column3",
        "_file_uri_1",
        "views",
        'x"; drop table t; --',
    ]
    rows = query(
        db,
        'select request_time, "Email", email_1, column3, _file_uri_1, views, "x""; drop table t; --" '
        "from sigma_raw.impression_rows order by _file_uri",
    )
    assert rows == [("1", "2", "3", "4", "5", None, None), ("6", None, None, None, None, "7", "8")]
    assert manifest(db)["one.csv"][3] == ["request_time", "Email", "email", "", "_file_uri"]


def test_integration_name_and_timestamps_are_stored(export_dir: ExportDir, tmp_path: Path) -> None:
    path = export_dir.write("a.csv", HEADER + ROW, age=timedelta(hours=5))
    db = tmp_path / "w.duckdb"
    load(export_dir, db, name="acme_prod")
    (row,) = query(db, "select distinct _integration_name from sigma_raw.impression_rows")
    assert row == ("acme_prod",)
    (etag, size, modified, integration) = query(
        db, "select etag, size_bytes, epoch(last_modified), integration_name from sigma_raw.loaded_files"
    )[0]
    stat = path.stat()
    assert (size, integration) == (stat.st_size, "acme_prod")
    assert etag == f"{stat.st_size}-{stat.st_mtime_ns}"
    assert modified == pytest.approx(stat.st_mtime, abs=1e-3)


def test_symlinks_cannot_escape_the_prefix(export_dir: ExportDir, tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text(HEADER + ROW)
    export_dir.write("ok.csv", HEADER + ROW)
    (export_dir.root / "escape.csv").symlink_to(outside)
    (export_dir.root / "escape_dir").symlink_to(tmp_path)
    summary = load(export_dir, tmp_path / "w.duckdb")
    assert [r.uri.rsplit("/", 1)[-1] for r in summary.results] == ["ok.csv"]
    assert summary.unsafe_entries == [f"{export_dir.uri}/escape.csv"]


def test_missing_prefix_folder_lands_nothing(tmp_path: Path) -> None:
    summary = load(ExportDir(tmp_path / "nothing-here"), tmp_path / "w.duckdb")
    assert summary.files_seen == 0 and summary.ok


def test_files_commit_in_batches_each_whole(
    export_dir: ExportDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loader import landing

    monkeypatch.setattr(landing, "BATCH_FILES", 2)
    for n in range(5):
        export_dir.write(f"f{n}.csv", HEADER + ROW * (n + 1) + "bad,line\n", age=timedelta(minutes=60 - n))
    export_dir.write("f5.csv.gz", b"\x1f\x8b\x08\x00 truncated gzip")
    db = tmp_path / "w.duckdb"
    summary = load(export_dir, db)
    assert (summary.count("loaded"), summary.count("failed")) == (5, 1)
    got = manifest(db)
    for n in range(5):
        assert got[f"f{n}.csv"][:3] == ("loaded", n + 1, 1)
    numbers = query(
        db,
        "select _file_uri, list(_file_row_number order by _file_row_number) "
        "from sigma_raw.impression_rows group by all order by 1",
    )
    assert [n for _, n in numbers] == [list(range(1, k + 2)) for k in range(5)]


def test_batches_split_by_files_and_bytes() -> None:
    from datetime import UTC, datetime

    from loader.landing import BATCH_BYTES, BATCH_FILES, split_batches
    from loader.storage import ExportObject

    def obj(size: int) -> ExportObject:
        return ExportObject("file:///x.csv", "/x.csv", "e", size, datetime.now(UTC))

    assert [len(b) for b in split_batches([obj(1)] * (BATCH_FILES + 3))] == [BATCH_FILES, 3]
    assert [len(b) for b in split_batches([obj(BATCH_BYTES), obj(1), obj(1)])] == [1, 2]
    assert list(split_batches([])) == []
    assert [len(b) for b in split_batches([obj(1)] * (BATCH_FILES + 3), first_alone=True)] == [1, BATCH_FILES, 2]


def test_a_batch_replacing_a_file_and_adding_a_header(export_dir: ExportDir, tmp_path: Path) -> None:
    # DuckDB refuses an ALTER after a delete/insert in one transaction: columns are added first.
    export_dir.write("a.csv", HEADER + ROW, age=timedelta(minutes=30))
    db = tmp_path / "w.duckdb"
    assert load(export_dir, db).ok
    export_dir.write("a.csv", HEADER + ROW + ROW, age=timedelta(minutes=20))
    export_dir.write("b.csv", "Request Time,EMAIL,Workbook URL ID,brand_new\n1,2,3,4\n", age=timedelta(minutes=10))
    summary = load(export_dir, db)
    assert (summary.ok, summary.count("loaded")) == (True, 2)
    assert query(db, "select count(*), count(brand_new) from sigma_raw.impression_rows") == [(3, 1)]


@pytest.mark.parametrize("name", ["latin1.csv", "latin1.csv.gz"])
def test_check_says_what_load_does_with_a_header_that_is_not_utf8(
    export_dir: ExportDir, tmp_path: Path, name: str
) -> None:
    """One header rule: `check` reports the reason `load` records, not a guess about columns."""
    from loader.check import run_check

    export_dir.write(name, "request_time,user_émail,workbook_url_id\n".encode("latin-1") + ROW.encode())
    config = build_config({"bucket_uri": export_dir.uri, "database": str(tmp_path / "w.duckdb")}, env={})
    report = run_check(config)
    summary = run_load(config)
    assert not report.usable
    assert report.problem is not None and "the header line is not UTF-8" in report.problem
    assert "MISSING" not in "\n".join(report.lines())
    [result] = summary.results
    assert result.status == "failed"
    assert result.error is not None and "the header line is not UTF-8" in result.error
