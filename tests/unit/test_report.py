"""The report reads the marts (by their contract columns, nothing recomputed) and prints four formats
that parse."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest

from sigma_impressions.report import FIXES, SECTIONS, build_report, print_report, trend

MARTS_DDL = """
create schema marts;
create table marts.sigma_workbook_impressions (
    workbook_url_id varchar, workbook_name varchar, path varchar, owner_email varchar,
    total_impressions_7d bigint, total_impressions_14d bigint, total_impressions_30d bigint,
    total_impressions_60d bigint, total_impressions_90d bigint,
    unique_users_14d bigint, unique_users_30d bigint,
    last_impression_at timestamp, days_since_last_impression integer, is_stale boolean,
    impressions_previous_14d bigint,
    used struct(user_email varchar, impressions bigint, last_impression_at timestamp)[],
    as_of_date date, is_archived boolean, is_deleted boolean
);
insert into marts.sigma_workbook_impressions values
    ('wbA', 'Revenue | Overview', 'Finance', 'ann@x.example', 5, 12, 20, 30, 40, 3, 4,
     '2026-11-25 10:00:00', 1, false, 6, [], '2026-11-26', false, false),
    ('wbB', 'Pipeline', 'Sales', 'bob@x.example', 1, 4, 9, 9, 9, 1, 2, '2026-11-20 10:00:00', 6, false, 8, [],
     '2026-11-26', false, false),
    ('wbC', 'Legacy, "old"', 'Archive', 'cy@x.example', 0, 0, 0, 0, 0, 0, 0, null, null, true, 0, [],
     '2026-11-26', false, false),
    ('wbD', 'Support', 'CS', 'dee@x.example', 0, 0, 0, 7, 7, 0, 0, '2026-10-01 09:00:00', 56, true, 0, [],
     '2026-11-26', false, false);
create table marts.sigma_element_impressions (
    workbook_url_id varchar, element_id varchar, element_name varchar, page_name varchar,
    element_type varchar, total_impressions_7d bigint, total_impressions_14d bigint,
    total_impressions_30d bigint, total_impressions_60d bigint, total_impressions_90d bigint,
    unique_users_14d bigint, unique_users_30d bigint, last_impression_at timestamp,
    days_since_last_impression integer, is_stale boolean, as_of_date date, is_deleted boolean
);
insert into marts.sigma_element_impressions values
    ('wbA', 'e1', 'Total', 'Summary', 'kpi', 2, 5, 8, 8, 8, 2, 2, '2026-11-25 10:00:00', 1, false, '2026-11-26', false),
    ('wbA', 'e2', 'Raw table', 'Data', 'table', 0, 0, 0, 0, 0, 0, 0, null, null, true, '2026-11-26', false);
create table marts.sigma_user_activity (
    user_email varchar, impressions_7d bigint, impressions_14d bigint, impressions_30d bigint,
    impressions_60d bigint, workbooks_viewed_30d bigint, first_impression_at timestamp,
    last_impression_at timestamp, is_active_14d boolean, as_of_date date
);
insert into marts.sigma_user_activity values
    ('ann@x.example', 3, 10, 15, 20, 2, '2026-10-01 08:00:00', '2026-11-25 10:00:00', true, '2026-11-26'),
    ('old@x.example', 0, 0, 0, 4, 0, '2026-09-01 08:00:00', '2026-10-01 08:00:00', false, '2026-11-26');
create table marts.sigma_rejected_impressions (
    _file_uri varchar, _file_row_number bigint, reason varchar, request_time varchar
);
insert into marts.sigma_rejected_impressions values
    ('file:///e/a.csv', 3, 'invalid_count', '2026-11-20 10:00:00'),
    ('file:///e/b.csv', 9, 'invalid_count', '2026-11-20 10:00:00'),
    ('file:///e/b.csv', 12, 'malformed_line', null);
create table marts.sigma_unmatched_impressions (
    workbook_url_id varchar, element_id varchar, reason varchar, impressions bigint,
    unique_users bigint, first_seen_at timestamp, last_seen_at timestamp
);
insert into marts.sigma_unmatched_impressions values
    ('wbZ', null, 'unknown_workbook', 7, 2, '2026-11-10 10:00:00', '2026-11-24 10:00:00'),
    ('wbA', 'gone', 'unknown_element', 2, 1, '2026-11-11 10:00:00', '2026-11-12 10:00:00');
create table marts.fct_sigma_impressions (
    impression_id varchar, request_time timestamp, user_email varchar, workbook_url_id varchar,
    element_id varchar, impression_count bigint, resource_type varchar, _file_uri varchar
);
create schema sigma_raw;
create table sigma_raw.loaded_files (
    file_uri varchar, etag varchar, size_bytes bigint, last_modified timestamp, headers varchar[],
    rows_loaded bigint, rows_rejected bigint, status varchar, error varchar, loaded_at timestamp,
    integration_name varchar
);
insert into sigma_raw.loaded_files values
    ('file:///e/ok.csv', 'a', 1, '2026-11-25 06:00:00',
     ['Request Time', 'USER_EMAIL', 'workbookUrlId', 'node_id'], 5, 0, 'loaded', null, now(), 'x'),
    ('file:///e/no_wb.csv', 'b', 1, '2026-11-25 05:00:00',
     ['request_time', 'email', 'workbook'], 5, 0, 'loaded', null, now(), 'x'),
    ('file:///e/no_el.csv', 'c', 1, '2026-11-25 04:00:00',
     ['timestamp', 'user', 'workbook_url_id', 'views'], 5, 0, 'loaded', null, now(), 'x'),
    ('file:///e/empty.csv', 'd', 0, '2026-11-25 03:00:00', [], 0, 0, 'loaded', null, now(), 'x'),
    ('file:///e/bad.csv.gz', 'e', 9, '2026-11-25 02:00:00', null, 0, 0, 'failed',
     'not a readable gzip file', now(), 'x');
"""


@pytest.fixture
def marts_db(tmp_path: Path) -> str:
    path = str(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(path)
    con.execute(MARTS_DDL)
    con.close()
    return path


def _run(database: str, fmt: str, limit: int = 10, **kwargs) -> str:
    out = io.StringIO()
    assert print_report(database, fmt, limit, out, **kwargs) == 0
    return out.getvalue()


def test_json_has_every_section_and_the_facts(marts_db: str) -> None:
    data = json.loads(_run(marts_db, "json"))
    assert set(SECTIONS) <= set(data)
    assert [r["workbook_url_id"] for r in data["popular"]] == ["wbA", "wbB"]
    # the previous 14 days are the mart's own column; the trend compares it with the last 14 days
    assert [r["impressions_previous_14d"] for r in data["popular"]] == [6, 8]
    assert [r["trend"] for r in data["popular"]] == ["+100%", "-50%"]
    assert [r["is_stale"] for r in data["unused_workbooks"]] == [True, True]
    assert [r["workbook_url_id"] for r in data["unused_workbooks"]] == ["wbC", "wbD"]
    assert data["unused_workbooks"][0]["status"] == "never opened"
    assert data["unused_workbooks"][0]["owner_email"] == "cy@x.example"
    assert [r["element_id"] for r in data["unused_elements"]] == ["e2"]
    assert data["unused_elements"][0]["owner_email"] == "ann@x.example"
    assert data["users"][0]["user_email"] == "ann@x.example"
    assert {r["reason"]: r["rows_rejected"] for r in data["rejected"]} == {
        "invalid_count": 2,
        "malformed_line": 1,
    }
    assert all(r["fix"] == FIXES[r["reason"]] for r in data["rejected"] + data["unmatched"])
    assert data["unmatched"][0]["workbook_url_id"] == "wbZ"


def test_csv_blocks_parse_and_a_single_section_is_one_table(marts_db: str) -> None:
    text = _run(marts_db, "csv")
    blocks = [b for b in text.split("\n\n") if b.strip()]
    assert len(blocks) == len(SECTIONS)
    for block, key in zip(blocks, SECTIONS, strict=True):
        rows = list(csv.DictReader(io.StringIO(block)))
        assert all(r["section"] == key for r in rows)
    names = [r["workbook_name"] for r in csv.DictReader(io.StringIO(blocks[1]))]
    assert names == ['Legacy, "old"', "Support"]  # commas and quotes survive

    single = list(csv.DictReader(io.StringIO(_run(marts_db, "csv", sections=("users",)))))
    assert [r["user_email"] for r in single] == ["ann@x.example", "old@x.example"]
    assert "section" not in single[0]


def test_markdown_tables_are_well_formed(marts_db: str) -> None:
    text = _run(marts_db, "markdown")
    assert text.startswith("# Sigma impressions report")
    assert text.count("\n## ") == len(SECTIONS)
    for block in text.split("\n## ")[1:]:
        table = [line for line in block.splitlines() if line.startswith("|")]
        widths = {len(line.replace("\\|", "").split("|")) for line in table}
        assert len(widths) == 1, block  # every row has the header's number of cells
    assert "Revenue \\| Overview" in text


def test_table_format_and_limit(marts_db: str) -> None:
    text = _run(marts_db, "table", limit=1)
    assert "Most viewed workbooks" in text
    assert "Revenue | Overview" in text
    assert "Pipeline" not in text.split("Workbooks with no impressions")[0]
    assert "and 1 more" in text


def test_missing_marts_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    empty = str(tmp_path / "empty.duckdb")
    duckdb.connect(empty).close()
    assert print_report(empty, "table", 10, io.StringIO()) == 1
    assert print_report(str(tmp_path / "absent.duckdb"), "json", 10, io.StringIO()) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert all("run `sigma-impressions run` or `dbt build` first" in line for line in err)
    assert not (tmp_path / "absent.duckdb").exists()


def test_files_with_a_problem_say_what_to_fix(marts_db: str) -> None:
    data = json.loads(_run(marts_db, "json", sections=("files",)))
    files = {r["file_uri"].rsplit("/", 1)[1]: r for r in data["files"]}
    assert set(files) == {"no_wb.csv", "no_el.csv", "bad.csv.gz"}
    assert "workbook_url_id" in files["no_wb.csv"]["problem"]
    assert "vars.sigma_column_aliases" in files["no_wb.csv"]["fix"]
    assert "element_id" in files["no_el.csv"]["problem"]
    assert files["bad.csv.gz"]["status"] == "failed"
    assert "read access" in files["bad.csv.gz"]["fix"]


def test_trend_labels() -> None:
    assert trend(0, 0) == ""
    assert trend(3, 0) == "new"
    assert trend(10, 10) == "flat"
    assert trend(15, 10) == "+50%"
    assert trend(0, 4) == "-100%"


def test_build_report_reads_only(marts_db: str) -> None:
    writer = duckdb.connect(marts_db, read_only=True)  # a reader does not block the report
    try:
        assert build_report(marts_db, 5)[0].key == "popular"
    finally:
        writer.close()


def test_windowed_sections_carry_the_marts_as_of_date(marts_db: str) -> None:
    from datetime import date

    report = {section.key: section for section in build_report(marts_db, 5)}
    assert {key: report[key].as_of_date for key in ("popular", "unused_workbooks", "users")} == dict.fromkeys(
        ("popular", "unused_workbooks", "users"), date(2026, 11, 26)
    )
    assert report["rejected"].as_of_date is None
