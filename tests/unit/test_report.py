"""The report against a small DuckDB file holding the marts' contract columns (read from
models/marts/*.yml, so a column the report reads and no contract declares fails here): each
section shows the marts' own rules (cleanup flag, usage status, popularity rank, trend label, a
file's problem, is_view_event, the exclusion reasons), every format parses, the HTML page lays
out the same rows. (tests/unit/test_imports.py checks the imports of every module.)"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pytest
import yaml

from sigma_impressions.cli import main
from sigma_impressions.report import FILE_FIXES, FIXES, SECTIONS, build_report, print_report
from sigma_impressions.report.html import html_report
from sigma_impressions.report.queries import MARTS

REPO = Path(__file__).resolve().parent.parent.parent
AS_OF = "2026-11-26"


def _contracts() -> dict[str, list[tuple[str, str]]]:
    """Each mart's columns and DuckDB types, as its yml declares them."""
    contracts = {}
    for path in sorted((REPO / "models" / "marts").glob("*.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            contracts[model["name"]] = [
                (c["name"], jinja2.Template(c["data_type"]).render(target={"type": "duckdb"})) for c in model["columns"]
            ]
    return contracts


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _inserts(table: str, rows: list[dict[str, Any]]) -> str:
    return "".join(
        f"insert into {table} ({', '.join(row)}) values ({', '.join(_literal(v) for v in row.values())});\n"
        for row in rows
    )


def _workbook(url_id: str, name: str, **values: Any) -> dict[str, Any]:
    zeros = {f"total_impressions_{n}d": 0 for n in (7, 14, 30, 60, 90)}
    return {
        "workbook_url_id": url_id,
        "workbook_name": name,
        **zeros,
        "unique_users_14d": 0,
        "unique_users_30d": 0,
        "impressions_previous_14d": 0,
        "impressions_trend_14d": 0,
        "has_enough_history": True,
        "is_stale": False,
        "is_archived": False,
        "is_deleted": False,
        "excluded_impressions_30d": 0,
        "as_of_date": AS_OF,
        **values,
    }


# The rank is the mart's (by 30 days, ties share it): the report must not re-rank by 14 days, and
# wbF (archived, unused) is no cleanup candidate because the mart says so.
# fmt: off
WORKBOOKS = [
    _workbook("wbA", "Revenue | Overview", path="Finance", owner_email="ann@x.example",
              total_impressions_7d=5, total_impressions_14d=12, total_impressions_30d=20, total_impressions_60d=30,
              total_impressions_90d=40, unique_users_14d=3, unique_users_30d=4,
              last_impression_at="2026-11-25 10:00:00", days_since_last_impression=1, impressions_previous_14d=6,
              impressions_trend_14d=6, impressions_trend_14d_pct=1.0, impressions_trend_14d_label="+100%",
              popularity_rank=1, usage_status="viewed in 30 days", is_cleanup_candidate=False,
              excluded_impressions_30d=4, workbook_url="https://app.sigmacomputing.com/x/workbook/wbA"),
    _workbook("wbB", "Pipeline", path="Sales", owner_email="bob@x.example",
              total_impressions_7d=1, total_impressions_14d=4, total_impressions_30d=9, total_impressions_60d=9,
              total_impressions_90d=9, unique_users_14d=1, unique_users_30d=2,
              last_impression_at="2026-11-20 10:00:00", days_since_last_impression=6, impressions_previous_14d=8,
              impressions_trend_14d=-4, impressions_trend_14d_pct=-0.5, impressions_trend_14d_label="-50%",
              popularity_rank=2, usage_status="viewed in 30 days", is_cleanup_candidate=False),
    _workbook("wbE", "Ops", path="Ops", owner_email="eve@x.example",
              total_impressions_14d=2, total_impressions_30d=9, total_impressions_60d=9, total_impressions_90d=9,
              unique_users_14d=1, unique_users_30d=2, last_impression_at="2026-11-18 10:00:00",
              days_since_last_impression=8, impressions_previous_14d=7, impressions_trend_14d=-5,
              impressions_trend_14d_pct=-0.714, impressions_trend_14d_label="-71%", popularity_rank=2,
              usage_status="viewed in 30 days", is_cleanup_candidate=False),
    _workbook("wbC", 'Legacy, "old"', path="Archive", owner_email="cy@x.example", is_stale=True,
              popularity_rank=4, usage_status="never viewed", is_cleanup_candidate=True),
    _workbook("wbD", "Support", path="CS", owner_email="dee@x.example", total_impressions_60d=7,
              total_impressions_90d=7, last_impression_at="2026-10-01 09:00:00", days_since_last_impression=56,
              is_stale=True, popularity_rank=4, usage_status="stale", is_cleanup_candidate=True),
    _workbook("wbF", "Archived deck", path="Old", owner_email="fay@x.example", is_archived=True,
              total_impressions_60d=2, total_impressions_90d=2, last_impression_at="2026-10-10 09:00:00",
              days_since_last_impression=47, popularity_rank=4, usage_status="no views in 30 days",
              is_cleanup_candidate=False),
]
ELEMENT = {"total_impressions_7d": 0, "total_impressions_14d": 0, "total_impressions_30d": 0,
           "total_impressions_60d": 0, "total_impressions_90d": 0, "unique_users_14d": 0, "unique_users_30d": 0,
           "is_stale": False, "is_deleted": False, "as_of_date": AS_OF}
ELEMENTS = [
    {**ELEMENT, "workbook_url_id": "wbA", "element_id": "e1", "element_name": "Total", "page_name": "Summary",
     "element_type": "kpi", "workbook_name": "Revenue | Overview", "total_impressions_14d": 5,
     "total_impressions_30d": 8, "total_impressions_60d": 8, "total_impressions_90d": 8, "unique_users_30d": 2,
     "last_impression_at": "2026-11-25 10:00:00", "days_since_last_impression": 1, "popularity_rank": 1,
     "usage_status": "viewed in 30 days", "is_cleanup_candidate": False},
    {**ELEMENT, "workbook_url_id": "wbA", "element_id": "e2", "element_name": "Raw table", "page_name": "Data",
     "element_type": "table", "workbook_name": "Revenue | Overview", "is_stale": True, "popularity_rank": 2,
     "usage_status": "never viewed", "is_cleanup_candidate": True},
    {**ELEMENT, "workbook_url_id": "wbF", "element_id": "e3", "element_name": "Old chart", "page_name": "Main",
     "element_type": "visualization", "workbook_name": "Archived deck", "popularity_rank": 2,
     "usage_status": "never viewed", "is_cleanup_candidate": False},
]
USERS = [
    {"user_email": "ann@x.example", "impressions_7d": 3, "impressions_14d": 10, "impressions_30d": 15,
     "impressions_60d": 20, "workbooks_viewed_30d": 2, "first_impression_at": "2026-10-01 08:00:00",
     "last_impression_at": "2026-11-25 10:00:00", "is_active_14d": True, "as_of_date": AS_OF},
    {"user_email": "bob@x.example", "impressions_7d": 0, "impressions_14d": 0, "impressions_30d": 15,
     "impressions_60d": 15, "workbooks_viewed_30d": 1, "first_impression_at": "2026-11-01 08:00:00",
     "last_impression_at": "2026-11-05 10:00:00", "is_active_14d": False, "as_of_date": AS_OF},
    {"user_email": "old@x.example", "impressions_7d": 0, "impressions_14d": 0, "impressions_30d": 0,
     "impressions_60d": 4, "workbooks_viewed_30d": 0, "first_impression_at": "2026-09-01 08:00:00",
     "last_impression_at": "2026-10-01 08:00:00", "is_active_14d": False, "as_of_date": AS_OF},
]
DAILY = [
    {"impression_date": "2026-11-25", "workbook_url_id": "wbA", "workbook_name": "Revenue | Overview",
     "impressions": 5, "unique_users": 2},
    {"impression_date": "2026-11-20", "workbook_url_id": "wbB", "workbook_name": "Pipeline",
     "impressions": 1, "unique_users": 1},
]
# Per day, as the mart counts them (every workbook, known or not): not derivable from DAILY.
DAILY_ACTIVITY = [
    {"impression_date": "2026-11-25", "impressions": 7, "active_users": 3, "workbooks_viewed": 2},
    {"impression_date": "2026-11-20", "impressions": 1, "active_users": 1, "workbooks_viewed": 1},
]
TEAMS = [
    {"team_id": "t2", "team_name": "Sales", "member_count": 2, "active_members_14d": 1, "impressions_30d": 9,
     "workbooks_viewed_30d": 1},
    {"team_id": None, "team_name": "(no team)", "member_count": 1, "active_members_14d": 0,
     "impressions_30d": 15, "workbooks_viewed_30d": 1},
    {"team_id": "t1", "team_name": "Finance", "member_count": 3, "active_members_14d": 2, "impressions_30d": 20,
     "workbooks_viewed_30d": 2},
    {"team_id": "t3", "team_name": "Empty", "member_count": 0, "active_members_14d": 0, "impressions_30d": 0,
     "workbooks_viewed_30d": 0},
]
TEAM_WORKBOOKS = [
    {"team_id": "t1", "team_name": "Finance", "workbook_url_id": "wbA", "workbook_name": "Revenue | Overview",
     "impressions_30d": 15, "users_30d": 2},
    {"team_id": "t1", "team_name": "Finance", "workbook_url_id": "wbB", "workbook_name": "Pipeline",
     "impressions_30d": 5, "users_30d": 1},
    {"team_id": "t2", "team_name": "Sales", "workbook_url_id": "wbB", "workbook_name": "Pipeline",
     "impressions_30d": 9, "users_30d": 1},
    {"team_id": None, "team_name": "(no team)", "workbook_url_id": "wbA", "workbook_name": "Revenue | Overview",
     "impressions_30d": 15, "users_30d": 1},
]
REJECTED = [
    {"_file_uri": "file:///e/a.csv", "_file_row_number": 3, "reason": "invalid_count"},
    {"_file_uri": "file:///e/b.csv", "_file_row_number": 9, "reason": "invalid_count"},
    {"_file_uri": "file:///e/b.csv", "line_number": 12, "reason": "malformed_line"},
]
UNMATCHED = [
    {"workbook_url_id": "wbZ", "element_id": None, "reason": "unknown_workbook", "impressions": 7,
     "unique_users": 2, "first_seen_at": "2026-11-10 10:00:00", "last_seen_at": "2026-11-24 10:00:00"},
    {"workbook_url_id": "wbA", "element_id": "gone", "reason": "unknown_element", "impressions": 2,
     "unique_users": 1, "first_seen_at": "2026-11-11 10:00:00", "last_seen_at": "2026-11-12 10:00:00"},
]
EXCLUDED = [
    {"user_email": "svc@x.example", "workbook_url_id": "wbA", "reason": "user_pattern", "impressions_total": 10,
     "impressions_30d": 3},
    {"user_email": "svc@x.example", "workbook_url_id": "wbB", "reason": "user_pattern", "impressions_total": 2,
     "impressions_30d": 0},
    {"user_email": "ann@x.example", "workbook_url_id": "wbA", "reason": "owner_view", "impressions_total": 4,
     "impressions_30d": 1},
]
EVENTS = [
    {"file_uri": "file:///e/ok.csv", "event_name": "Workbook Viewed", "event_status": "success", "row_count": 10,
     "is_view_event": True},
    {"file_uri": "file:///e/ok.csv", "event_name": "Login", "event_status": "success", "row_count": 4,
     "is_view_event": False},
    {"file_uri": "file:///e/no_el.csv", "event_name": "Workbook Viewed", "event_status": "success",
     "row_count": 5, "is_view_event": True},
    {"file_uri": "file:///e/no_el.csv", "event_name": "Workbook Viewed", "event_status": "failed",
     "row_count": 1, "is_view_event": False},
    {"file_uri": "file:///e/no_wb.csv", "event_name": None, "event_status": None, "row_count": 5,
     "is_view_event": True},
    {"file_uri": "file:///e/empty.csv", "event_name": None, "event_status": None, "row_count": 0,
     "is_view_event": True},
]
FILE = {"status": "loaded", "loaded_at": "2026-11-25 07:00:00", "malformed_lines": 0, "has_element_id_column": True,
        "has_event_name_column": True, "has_event_status_column": True, "rejected_rows": 0, "is_blocking": False}
FILES = [
    {**FILE, "file_uri": "file:///e/ok.csv", "last_modified": "2026-11-25 06:00:00", "rows_loaded": 14,
     "view_event_rows": 10},
    {**FILE, "file_uri": "file:///e/no_wb.csv", "last_modified": "2026-11-25 05:00:00", "rows_loaded": 5,
     "view_event_rows": 5, "rejected_rows": 5, "missing_columns": "workbook_url_id",
     "has_event_name_column": False, "has_event_status_column": False,
     "problem": "no column for workbook_url_id (every row is rejected)", "is_blocking": True},
    {**FILE, "file_uri": "file:///e/no_el.csv", "last_modified": "2026-11-25 04:00:00", "rows_loaded": 6,
     "view_event_rows": 5, "has_element_id_column": False,
     "problem": "no element_id column: workbook-level impressions only"},
    {**FILE, "file_uri": "file:///e/no_views.csv", "last_modified": "2026-11-25 03:30:00", "rows_loaded": 3,
     "view_event_rows": 0,
     "problem": "no view events (vars.sigma_view_event_pattern, sigma_success_status_pattern)", "is_blocking": True},
    {**FILE, "file_uri": "file:///e/empty.csv", "last_modified": "2026-11-25 03:00:00", "rows_loaded": 0,
     "view_event_rows": 0},
    {**FILE, "file_uri": "file:///e/bad.csv.gz", "status": "failed", "last_modified": "2026-11-25 02:00:00",
     "rows_loaded": 0, "view_event_rows": 0, "error": "not a readable gzip file",
     "problem": "cannot be read: not a readable gzip file", "is_blocking": True},
]
# fmt: on
ROWS = {
    "sigma_workbook_impressions": WORKBOOKS,
    "sigma_element_impressions": ELEMENTS,
    "sigma_user_activity": USERS,
    "sigma_daily_impressions": DAILY,
    "sigma_daily_activity": DAILY_ACTIVITY,
    "sigma_team_usage": TEAMS,
    "sigma_team_workbook_impressions": TEAM_WORKBOOKS,
    "sigma_rejected_impressions": REJECTED,
    "sigma_unmatched_impressions": UNMATCHED,
    "sigma_excluded_impressions": EXCLUDED,
    "sigma_export_events": EVENTS,
    "sigma_export_files": FILES,
}


def _ddl() -> str:
    tables = "".join(
        f"create table marts.{mart} ({', '.join(f'{name} {kind}' for name, kind in columns)});\n"
        for mart, columns in _contracts().items()
    )
    rows = "".join(_inserts(f"marts.{mart}", rows) for mart, rows in ROWS.items())
    # The loader's file ledger, which the published snapshot carries beside the marts.
    ledger = """
create schema sigma_raw;
create table sigma_raw.loaded_files (
    file_uri varchar, etag varchar, size_bytes bigint, last_modified timestamp, headers varchar[],
    rows_loaded bigint, rows_rejected bigint, status varchar, error varchar, loaded_at timestamp,
    integration_name varchar
);
insert into sigma_raw.loaded_files
select file_uri, 'etag', 1, last_modified, [], rows_loaded, malformed_lines, status, error, loaded_at, 'x'
from marts.sigma_export_files;
"""
    return "create schema marts;\n" + tables + rows + ledger


# The marts, as their contracts declare them, with the rows above (other test modules build a
# warehouse from it too).
MARTS_DDL = _ddl()


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


def _json(database: str, *sections: str) -> dict:
    return json.loads(_run(database, "json", **({"sections": sections} if sections else {})))


def _execute(database: str, sql: str) -> None:
    con = duckdb.connect(database)
    try:
        con.execute(sql)
    finally:
        con.close()


def test_the_fixture_holds_every_mart_the_report_reads() -> None:
    assert set(MARTS) <= set(_contracts())


def test_json_has_every_section_and_the_facts(marts_db: str) -> None:
    data = _json(marts_db)
    assert set(data) == {*SECTIONS, "more_rows"}
    assert data["more_rows"] == {}
    assert data["users"][0]["user_email"] == "ann@x.example"
    assert {r["reason"]: r["rows_rejected"] for r in data["rejected"]} == {"invalid_count": 2, "malformed_line": 1}
    assert all(r["fix"] == FIXES[r["reason"]] for r in data["rejected"] + data["unmatched"])
    assert data["unmatched"][0]["workbook_url_id"] == "wbZ"


def test_popular_is_the_marts_rank_with_its_trend_label(marts_db: str) -> None:
    popular = _json(marts_db, "popular")["popular"]
    # Workbooks viewed in 30 days in popularity_rank order (ties share a rank, then by name); the
    # 14-day columns do not decide the order.
    assert [(r["rank"], r["workbook_url_id"]) for r in popular] == [(1, "wbA"), (2, "wbE"), (2, "wbB")]
    assert [r["trend"] for r in popular] == ["+100%", "-71%", "-50%"]
    assert [r["impressions_previous_14d"] for r in popular] == [6, 7, 8]
    assert popular[0]["workbook_url"] == "https://app.sigmacomputing.com/x/workbook/wbA"


def test_cleanup_candidates_are_the_marts_flag_with_its_status(marts_db: str) -> None:
    data = _json(marts_db, "unused_workbooks", "unused_elements")
    workbooks = data["unused_workbooks"]
    # wbF has no impression in 30 days but is archived: the mart's flag leaves it out.
    assert [r["workbook_url_id"] for r in workbooks] == ["wbC", "wbD"]
    assert [r["status"] for r in workbooks] == ["never viewed", "stale"]
    assert workbooks[0]["owner_email"] == "cy@x.example"
    assert workbooks[1]["days_since_last_impression"] == 56
    elements = data["unused_elements"]
    assert [(r["element_id"], r["status"]) for r in elements] == [("e2", "never viewed")]
    assert (elements[0]["owner_email"], elements[0]["path"]) == ("ann@x.example", "Finance")


def test_users_are_those_active_in_30_days(marts_db: str) -> None:
    users = _json(marts_db, "users")["users"]
    assert [(r["rank"], r["user_email"]) for r in users] == [(1, "ann@x.example"), (2, "bob@x.example")]


def test_teams_most_impressions_first_with_the_no_team_row(marts_db: str) -> None:
    teams = _json(marts_db, "teams")["teams"]
    assert [(r["team_name"], r["team_id"], r["impressions_30d"]) for r in teams] == [
        ("Finance", "t1", 20),
        ("(no team)", None, 15),
        ("Sales", "t2", 9),
        ("Empty", "t3", 0),
    ]
    assert teams[0] == {
        "team_name": "Finance",
        "team_id": "t1",
        "member_count": 3,
        "active_members_14d": 2,
        "impressions_30d": 20,
        "workbooks_viewed_30d": 2,
    }


def test_excluded_sums_the_mart_by_reason(marts_db: str) -> None:
    excluded = _json(marts_db, "excluded")["excluded"]
    assert excluded == [
        {
            "reason": "user_pattern",
            "users": 1,
            "workbooks": 2,
            "impressions_total": 12,
            "impressions_30d": 3,
            "rule": "vars.sigma_excluded_users",
        },
        {
            "reason": "owner_view",
            "users": 1,
            "workbooks": 1,
            "impressions_total": 4,
            "impressions_30d": 1,
            "rule": "vars.sigma_exclude_owner_views",
        },
    ]
    _execute(marts_db, "delete from marts.sigma_excluded_impressions")
    assert _json(marts_db, "excluded")["excluded"] == []
    assert "no exclusion rule is set or none matched" in _run(marts_db, "table", sections=("excluded",))


def test_events_are_the_mix_of_the_loaded_history(marts_db: str) -> None:
    events = _json(marts_db, "events")["events"]
    assert [(r["event_name"], r["event_status"], r["rows"], r["files"], r["counted"]) for r in events] == [
        ("Workbook Viewed", "success", 15, 2, True),
        (None, None, 5, 1, True),
        ("Login", "success", 4, 1, False),
        ("Workbook Viewed", "failed", 1, 1, False),
    ]
    assert "_no event name or status: files without that column" in _run(marts_db, "markdown", sections=("events",))
    # A history without event columns: one row, no name or status, and a line that says why.
    _execute(marts_db, "delete from marts.sigma_export_events where event_name is not null")
    assert [(r["event_name"], r["rows"], r["counted"]) for r in _json(marts_db, "events")["events"]] == [
        (None, 5, True)
    ]
    for fmt in ("table", "markdown"):
        assert "exports have no event columns: every row counts" in _run(marts_db, fmt, sections=("events",))


def test_files_with_a_problem_say_what_to_fix(marts_db: str) -> None:
    files = {r["file_uri"].rsplit("/", 1)[1]: r for r in _json(marts_db, "files")["files"]}
    assert list(files) == ["no_wb.csv", "no_el.csv", "no_views.csv", "bad.csv.gz"]  # newest first
    assert files["no_wb.csv"]["problem"] == "no column for workbook_url_id (every row is rejected)"
    assert files["no_wb.csv"]["fix"] == FILE_FIXES["no column for"]
    assert "vars.sigma_column_aliases" in files["no_wb.csv"]["fix"]
    assert "element_id" in files["no_el.csv"]["fix"] and files["no_el.csv"]["is_blocking"] is False
    assert "vars.sigma_view_event_pattern" in files["no_views.csv"]["fix"]
    assert files["bad.csv.gz"]["status"] == "failed" and files["bad.csv.gz"]["is_blocking"] is True
    assert "read access" in files["bad.csv.gz"]["fix"]
    assert all(r["fix"] for r in files.values())


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
    assert [r["user_email"] for r in single] == ["ann@x.example", "bob@x.example"]
    assert "section" not in single[0]


def test_markdown_tables_are_well_formed(marts_db: str) -> None:
    text = _run(marts_db, "markdown")
    assert text.startswith("# Sigma impressions report")
    assert text.count("\n## ") == len(SECTIONS)
    for block in text.split("\n## ")[1:]:
        table = [line for line in block.splitlines() if line.startswith("|")]
        widths = {len(line.replace("\\|", "").split("|")) for line in table}
        assert len(widths) <= 1, block  # every row has the header's number of cells
    assert "Revenue \\| Overview" in text


def test_table_format_and_limit(marts_db: str) -> None:
    text = _run(marts_db, "table", limit=1)
    assert "Most viewed workbooks" in text
    assert "Revenue | Overview" in text
    assert "Pipeline" not in text.split("Workbooks with no impressions")[0]
    assert "and 2 more" in text


def test_table_shows_names_as_text_not_markup(marts_db: str) -> None:
    _execute(marts_db, "update marts.sigma_team_usage set team_name = '[bold]Ops[/bold]' where team_id = 't1'")
    assert "[bold]Ops[/bold]" in _run(marts_db, "table", sections=("teams",))


def test_missing_marts_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    empty = str(tmp_path / "empty.duckdb")
    duckdb.connect(empty).close()
    assert print_report(empty, "table", 10, io.StringIO()) == 1
    assert print_report(str(tmp_path / "absent.duckdb"), "json", 10, io.StringIO()) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert all("run `sigma-impressions run` or `dbt build` first" in line for line in err)
    assert not (tmp_path / "absent.duckdb").exists()


def test_build_report_reads_only(marts_db: str) -> None:
    reader = duckdb.connect(marts_db, read_only=True)  # another reader does not block the report
    try:
        assert build_report(marts_db, 5)[0].key == "popular"
    finally:
        reader.close()


def test_windowed_sections_carry_the_marts_as_of_date(marts_db: str) -> None:
    report = {section.key: section for section in build_report(marts_db, 5)}
    windowed = ("popular", "unused_workbooks", "unused_elements", "users", "teams", "excluded")
    assert {key: report[key].as_of_date for key in windowed} == dict.fromkeys(windowed, date(2026, 11, 26))
    assert {report[key].as_of_date for key in ("rejected", "unmatched", "events", "files")} == {None}


@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv"])
def test_every_section_in_every_format_from_the_cli(
    marts_db: str, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    for section in ("all", *SECTIONS):
        assert main(["report", "--database", marts_db, "--format", fmt, "--section", section]) == 0, section
        assert capsys.readouterr().out.strip(), section
    out = tmp_path / "report.out"
    assert main(["report", "--database", marts_db, "--format", fmt, "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").strip()


class _Cells(HTMLParser):
    """Each table's rows on the page: table id -> [{column: data-v}]; and the elements' ids."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.ids: set[str] = set()
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        if tag == "table":
            self._table = found.get("id")
            self.tables[self._table or ""] = []
        elif tag == "tr" and self._table is not None and self.tables[self._table] is not None:
            self.tables[self._table].append({})
        elif tag == "td" and self._table is not None:
            self.tables[self._table][-1][found["data-col"] or ""] = found["data-v"] or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def _page(database: str) -> tuple[str, _Cells]:
    text = html_report(database)
    cells = _Cells()
    cells.feed(text)
    for rows in cells.tables.values():
        if rows and rows[0] == {}:
            rows.pop(0)  # the header row
    return text, cells


def test_the_html_page_lays_out_the_sections_rows(marts_db: str) -> None:
    text, page = _page(marts_db)
    assert text.startswith("<!DOCTYPE html>")
    assert [(r["rank"], r["workbook_name"], r["trend"]) for r in page.tables["table-top-workbooks"]] == [
        ("1", "Revenue | Overview", "1.0"),  # the trend sorts by the mart's relative change
        ("2", "Ops", "-0.714"),
        ("2", "Pipeline", "-0.5"),
    ]
    assert "+100%" in text
    assert [r["workbook_name"] for r in page.tables["table-cleanup-workbooks"]] == ['Legacy, "old"', "Support"]
    assert [r["element_name"] for r in page.tables["table-cleanup-elements"]] == ["Raw table"]
    assert [r["user_email"] for r in page.tables["table-users-active"]] == ["ann@x.example", "bob@x.example"]
    assert [r["user_email"] for r in page.tables["table-users-inactive"]] == ["old@x.example"]
    assert [(r["team_name"], r["impressions_30d"]) for r in page.tables["table-teams"]] == [
        ("Finance", "20"),
        ("(no team)", "15"),
        ("Sales", "9"),
        ("Empty", "0"),
    ]
    # each team's workbooks, in the order of the teams table
    assert [[w["workbook_name"] for w in page.tables[f"team-workbooks-{n}"]] for n in (1, 2, 3)] == [
        ["Revenue | Overview", "Pipeline"],
        ["Revenue | Overview"],
        ["Pipeline"],
    ]
    assert "team-workbooks-4-empty" in page.ids
    assert [(r["reason"], r["impressions_total"]) for r in page.tables["table-excluded"]] == [
        ("user_pattern", "12"),
        ("owner_view", "4"),
    ]
    assert [(r["event_name"], r["rows"], r["counted"]) for r in page.tables["table-events"]] == [
        ("Workbook Viewed", "15", "1"),
        ("", "5", "1"),
        ("Login", "4", "0"),
        ("Workbook Viewed", "1", "0"),
    ]
    assert [r["file_uri"].rsplit("/", 1)[1] for r in page.tables["table-files"]] == [
        "no_wb.csv",
        "no_el.csv",
        "no_views.csv",
        "bad.csv.gz",
    ]
    assert {f"chart-{c}" for c in ("daily-impressions", "daily-users", "top-workbooks", "teams", "rejected")} <= (
        page.ids
    )


def test_the_html_page_draws_active_users_from_the_daily_activity_mart(marts_db: str) -> None:
    text, _ = _page(marts_db)
    figure = json.loads(re.search(r'id="fig-daily-users">(.*?)</script>', text, re.S).group(1))
    bars = dict(zip(figure["data"][0]["x"], figure["data"][0]["y"], strict=True))
    assert len(bars) == 90
    assert (bars["2026-11-25"], bars["2026-11-20"], bars["2026-11-26"]) == (3, 1, 0)
    figure = json.loads(re.search(r'id="fig-daily-impressions">(.*?)</script>', text, re.S).group(1))
    assert sum(figure["data"][0]["y"]) == 8  # the mart's day totals, every workbook


def test_the_html_page_says_why_a_part_is_empty(marts_db: str) -> None:
    for mart in ("sigma_excluded_impressions", "sigma_team_workbook_impressions", "sigma_export_files"):
        _execute(marts_db, f"delete from marts.{mart}")
    _execute(marts_db, "update marts.sigma_team_usage set impressions_30d = 0, active_members_14d = 0")
    _execute(marts_db, "delete from marts.sigma_export_events where event_name is not null")
    text, page = _page(marts_db)
    assert {"table-excluded-empty", "table-files-empty", "chart-teams-empty", "table-events-note"} <= page.ids
    assert "no exclusion rule is set or none matched" in text
    assert "exports have no event columns: every row counts" in text
    assert "no export file loaded yet" in text
