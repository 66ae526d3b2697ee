"""A corpus of hand-made nasty exports, landed by the real `sigma-impressions load` process, then dbt.

One folder holds every nasty file and a few good ones; `load` runs once as a subprocess with a
timeout (no hang, no traceback, exit 1 with one line per failed file); every file is checked
against the independent record count; then `dbt build` runs once on that database and must pass
(data problems only warn), with the marts consistent with the good files.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.helpers.dbt_build import dbt_build
from tests.helpers.exports import ExportDir
from tests.helpers.invariants import assert_accounted
from tests.helpers.marts_compare import mart_differences
from tests.helpers.marts_reference import build_reference

pytestmark = pytest.mark.dbt

BIN = Path(sys.executable).parent
HEADER = "request_time,user_email,workbook_url_id,element_id,count\n"
KNOWN = "Revenue-Overview-4kTq8ZpL2mWx9RbN"
KNOWN_ELEMENT = "rvKpiT0tal"
KNOWN_2 = "Sales-Pipeline-7HcV3nJd5QsY1uEa"
UNKNOWN = "Not-In-Inventory-000000000000"


def _at(hours: int) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


def good_files() -> dict[str, tuple[bytes, dict[str, int]]]:
    """name -> (bytes, impressions per workbook) of well-formed exports."""
    one = HEADER + "".join(f"{_at(2 + i)},u{i}@x.com,{KNOWN},{KNOWN_ELEMENT},1\n" for i in range(5))
    one += f"{_at(3)},v@x.com,{KNOWN_2},,2\n{_at(4)},w@x.com,{UNKNOWN},,3\n"
    two = "\ufeffRequest Time,User Email,Workbook URL ID\r\n" + "".join(
        f"{_at(10 + i)},z{i}@x.com,{KNOWN_2}\r\n" for i in range(4)
    )
    return {
        "good/one.csv": (one.encode(), {KNOWN: 5, KNOWN_2: 2, UNKNOWN: 3}),
        "good/two.csv.gz": (gzip.compress(two.encode()), {KNOWN_2: 4}),
    }


def nasty_files() -> dict[str, bytes]:
    row = f"{_at(1)},n@x.com,{UNKNOWN},,1\n"
    sql = 'x"; drop table t; --'
    return {
        "empty.csv": b"",
        "empty.csv.gz": b"",
        "header_only.csv": HEADER.encode(),
        "header_only_no_newline.csv": HEADER.strip().encode(),
        "one_line_no_newline.csv": f"{_at(1)},a@x.com,{UNKNOWN}".encode(),
        "bom_only.csv": b"\xef\xbb\xbf",
        "whitespace_only.csv": b"   \n\t\n",
        "blank_lines_only.csv": b"\n\r\n\n",
        "not_csv_png.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        "not_csv_json.csv": b'{"events": [{"a": 1}, {"b": [1, 2, 3]}]}\n',
        "not_csv_html.csv": b"<html><body><h1>Access Denied</h1></body></html>\n",
        "nul_header.csv": b"request\x00time,user\n1,2\n",
        "nul_bytes_body.csv": (HEADER + row).encode() + b"\x00\x00\x00\n" + row.replace("n@", "n\x00@").encode(),
        "invalid_utf8_body.csv": (HEADER + row).encode() + b"\xff\xfe,\xc3\x28,wb,,1\n" + row.encode(),
        "invalid_utf8_header.csv": b"request_time,\xff\xfeuser\n1,2\n",
        "latin1_body.csv": (HEADER + f"{_at(1)},jos\xe9@x.com,{UNKNOWN},,1\n").encode("latin-1") + row.encode(),
        "latin1_header.csv": "r\xe9quest_time,user_email\n1,2\n".encode("latin-1"),
        "truncated.csv.gz": gzip.compress((HEADER + row * 200).encode())[:-40],
        "truncated_early.csv.gz": gzip.compress((HEADER + row).encode())[:12],
        "plain_text_named.csv.gz": (HEADER + row).encode(),
        "gzip_of_gzip.csv.gz": gzip.compress(gzip.compress((HEADER + row).encode())),
        "sql_header.csv": f'"{sql.replace(chr(34), chr(34) * 2)}",\'); drop schema sigma_raw cascade; --,$path,?\n'
        "1,2,3,4\n".encode(),
        "duplicate_headers.csv": b"request_time,request_time,REQUEST_TIME,Request_Time_1,,\n1,2,3,4,5,6\n",
        "reserved_headers.csv": b"_file_uri,_file_row_number,_loaded_at,_integration_name,_FILE_URI\n1,2,3,4,5\n",
        "empty_header_names.csv": b",,,\n1,2,3,4\n",
        "unicode_headers.csv": "émoji 🎉,Ω名前,\u200bzero_width,\ufeffinner_bom\n1,2,3,4\n".encode(),
        "long_header.csv": ("h" * 20_000 + ",b\n1,2\n").encode(),
        "many_columns.csv": (",".join(f"c{i}" for i in range(1500)) + "\n" + ",".join("1" * 1500) + "\n").encode(),
        "header_quoted_newline.csv": b'"request\ntime","user\r\nemail",w\n1,2,3\n4,5,6\n',
        "embedded_newlines.csv": (HEADER + f'"{_at(1)}","multi\nline@x.com","{UNKNOWN}","a\r\nb",1\n' + row).encode(),
        "quotes_text_after_closing.csv": (HEADER + f'"x"y,a@x.com,{UNKNOWN},,1\n' + row).encode(),
        "quote_unterminated_eof.csv": (HEADER + row + f'{_at(1)},"open@x.com,{UNKNOWN},,1\n' + row).encode(),
        "quote_in_unquoted_field.csv": (HEADER + f'{_at(1)},o"neil@x.com,{UNKNOWN},,1\n').encode(),
        "dangling_quotes_header.csv": b'"",""","",""," "\n"","","","",""\n"","","","",""\n',
        "cr_only_newlines.csv": (HEADER + row * 3).replace("\n", "\r").encode(),
        "mixed_newlines.csv": (HEADER.replace("\n", "\r\n") + row + row.replace("\n", "\r") + row).encode(),
        "blank_lines_before_header.csv": ("\n\n" + HEADER + row).encode(),
        "one_column_blank_lines.csv": b"request_time\n1\n\n2\n\n\n",
        "field_counts.csv": (HEADER + "1,2\n" + "1,2,3,4,5,6,7\n" + row + ",,,,\n" + ",\n").encode(),
        "bad_values.csv": (
            HEADER + f"not a date,a@x.com,{UNKNOWN},,1\n{_at(1)},,{UNKNOWN},,1\n{_at(1)},b@x.com,,,1\n"
            f"{_at(1)},c@x.com,{UNKNOWN},,-1\n{_at(1)},d@x.com,{UNKNOWN},,1e999\n{_at(1)},e@x.com,{UNKNOWN},,NaN\n"
            f"9999-99-99 99:99:99,f@x.com,{UNKNOWN},,1\n{_at(1)},g@x.com,{UNKNOWN},,abc\n"
        ).encode(),
        "huge_field.csv": (HEADER + f'{_at(1)},"{"x" * 5_000_000}",{UNKNOWN},,1\n' + row).encode(),
        "huge_line_over_limit.csv": (HEADER + f"{_at(1)},{'y' * 34_000_000},{UNKNOWN},,1\n" + row).encode(),
    }


def run_load(folder: ExportDir, database: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGMA_IMPRESSIONS_")}
    return subprocess.run(
        [str(BIN / "sigma-impressions"), "load", "--bucket-uri", folder.uri, "--database", str(database)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_nasty_corpus_then_dbt_build(tmp_path: Path) -> None:
    folder = ExportDir(tmp_path / "exports")
    good = good_files()
    nasty = nasty_files()
    files = {**nasty, **{name: data for name, (data, _) in good.items()}}
    for name, data in files.items():
        folder.write(name, data)
        (folder.root / name).write_bytes(data)  # as is: ExportDir.write would gzip a plain .gz body
    db = tmp_path / "w.duckdb"
    done = run_load(folder, db)
    assert done.returncode == 1, done.stderr  # some files are unreadable: exit 1 with a summary
    assert "Traceback" not in done.stdout + done.stderr
    failed_lines = [line for line in done.stdout.splitlines() if line.startswith("failed ")]
    summary = [line for line in done.stdout.splitlines() if line.startswith("summary ")]
    assert len(summary) == 1 and summary[0].startswith(f"summary files_seen={len(files)} "), done.stdout

    records = 0
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = {}
        for name, data in files.items():
            uri = f"file://{folder.root / name}"
            status = con.execute("select status from sigma_raw.loaded_files where file_uri = ?", [uri]).fetchone()[0]
            result = type("R", (), {"uri": uri, "status": status})
            records += assert_accounted(con, result, data, name.endswith(".gz"))
            statuses[name] = status
        failed = sorted(n for n, s in statuses.items() if s == "failed")
        assert {line.split()[1].rstrip(":") for line in failed_lines} == {f"file://{folder.root / n}" for n in failed}
        assert failed == [
            "gzip_of_gzip.csv.gz",
            "invalid_utf8_header.csv",
            "latin1_header.csv",
            "not_csv_png.csv",
            "nul_header.csv",
            "plain_text_named.csv.gz",
            "truncated.csv.gz",
            "truncated_early.csv.gz",
        ]
        # No header broke another file's columns: the good files read back by name.
        got = con.execute(
            "select count(*) from sigma_raw.impression_rows where _file_uri like '%/good/one.csv' "
            f"and workbook_url_id in ('{KNOWN}', '{KNOWN_2}', '{UNKNOWN}') and user_email like '%@x.com'"
        ).fetchone()[0]
        assert got == 7
        assert con.execute(
            'select "x""; drop table t; --", "?", "$path" from sigma_raw.impression_rows '
            "where _file_uri like '%/sql_header.csv'"
        ).fetchall() == [("1", "4", "3")]
        huge = con.execute(
            "select length(user_email) from sigma_raw.impression_rows where _file_uri like '%/huge_field.csv' "
            "order by _file_row_number"
        ).fetchall()
        assert huge == [(5_000_000,), (7,)]
    assert records > 0

    ok, message = dbt_build(db, tmp_path)
    assert ok, message
    warnings = re.search(r"(\d+) warnings, (\d+) errors", message)
    assert warnings and int(warnings.group(1)) >= 1 and warnings.group(2) == "0", message  # data only warns
    with duckdb.connect(str(db), read_only=True) as con:
        per_workbook = dict(
            con.execute(
                "select workbook_url_id, total_impressions_90d from marts.sigma_workbook_impressions "
                "where total_impressions_90d > 0"
            ).fetchall()
        )
        expected: dict[str, int] = {}
        for _, counts in good.values():
            for workbook, n in counts.items():
                expected[workbook] = expected.get(workbook, 0) + n
        assert per_workbook == {KNOWN: expected[KNOWN], KNOWN_2: expected[KNOWN_2]}
        (fct_total,) = con.execute("select sum(impression_count) from marts.fct_sigma_impressions").fetchone()
        (unknown,) = con.execute(
            "select sum(impressions) from marts.sigma_unmatched_impressions where reason = 'unknown_workbook'"
        ).fetchone()
        assert fct_total == sum(per_workbook.values()) + unknown
    # Every mart equals the hand-written reference (bench/marts_reference.sql) on this corpus.
    build_reference(db, datetime.now(UTC).date().isoformat())
    with duckdb.connect(str(db), read_only=True) as con:
        assert mart_differences(con, "marts", "reference") == {}
