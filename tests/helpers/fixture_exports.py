"""The dbt models' fixture exports: two loads of small files whose every expected number is
computed by hand in tests/functional (as_of_date 2026-03-31: window end 2026-04-01 00:00; 7d from
03-25, 14d from 03-18, 30d from 03-02 (also the stale window), 60d from 01-31, 90d from 01-01;
previous 14 days [03-04, 03-18)). The inventory is the fixtures' own tables (schema
fixture_inventory) through vars.sigma_workbooks_relation / sigma_workbook_elements_relation;
members and teams come from the (empty) synced API tables the loader creates.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from loader.config import build_config
from loader.landing import run_load
from tests.helpers.exports import ExportDir

AS_OF = "2026-03-31"
VARS = {
    "as_of_date": AS_OF,
    "sigma_workbooks_relation": "fixture_inventory.workbooks",
    "sigma_workbook_elements_relation": "fixture_inventory.elements",
}
NO_UNIT = ["--exclude-resource-type", "unit_test"]

# Older file: header spellings of one kind. Row numbers (1-based landed records) in comments.
F1 = (
    "Request Time,USER_EMAIL,Workbook URL ID,Element ID,count\n"
    "2026-03-31 10:00:00,Ann@X.com,WB_A,E1,2\n"  # 1 K1, corrected to 5 by f2
    "2026-03-31 11:00:00,bob@x.com,WB_A,,\n"  # 2 K2: empty count = 1
    "2026-03-31 11:00:00, BOB@x.com ,WB_A, ,3\n"  # 3 K2 again in the same file: adds up to 4
    "2026-04-01 00:00:00,ann@x.com,WB_A,,1\n"  # 4 at the window end: fct only
    "2026-03-31 23:59:59.9999999,ann@x.com,WB_A,E2,\n"  # 5 last instant of the window
    "2026-03-25 00:00:00+00:00,carl@x.com,WB_A,EX,1\n"  # 6 unknown element, counts for WB_A
    "2026-03-24 23:59:59Z,carl@x.com,wb_a,,1\n"  # 7 unknown workbook (ids are case-sensitive)
    "2026-03-10 10:00,dana@x.com,ORPHAN_WB,E9,1\n"  # 8 element of a workbook not in inventory
    "2026-02-30 10:00,x@x.com,WB_A,,1\n"  # 9 invalid_request_time
    "2026-03-31 10:00,,WB_A,,1\n"  # 10 missing_user_email
    ",x@x.com,WB_A,,1\n"  # 11 missing_request_time
    "2026-03-31 10:00,x@x.com,,,1\n"  # 12 missing_workbook_url_id
    "2026-03-31 10:00,x@x.com,WB_A,,0\n"  # 13 invalid_count
    "2026-03-31 10:00,x@x.com,WB_A,,1,extra\n"  # line 15: malformed_line
    "2026-03-31T12:00:00+02:00,eve@x.com,WB_A,,2.0\n"  # 14 = 10:00 UTC, count 2
    "2026-04-02 00:00,zed@x.com,NEWWB,,1\n"  # 15 after the window end, unknown workbook
)
# Later file, other header spellings (aliases): re-sends K1 with a corrected count.
F2 = (
    "timestamp,email,workbook_urlid,node_id,views\n"
    "2026-03-31 10:00:00Z,ann@x.com,WB_A,E1,5\n"  # K1 -> 5
    "2026-03-01 09:00,ann@x.com,WB_A,,1\n"  # the earliest event: history starts 03-01
    "2026-03-17 23:59:59,bob@x.com,WB_A,,4\n"  # previous 14 days
)
# A file whose only event (after the window end, unknown workbook) vanishes when it is
# rewritten with its header alone in the second load.
F5 = "request_time,user_email,workbook_url_id\n2026-04-05 10:00,gil@x.com,GONE_WB\n"

# Second load: f2 changes (drops the 03-01 event, corrects K1 to 6), f3 is the latest file.
F2_CHANGED = (
    "timestamp,email,workbook_urlid,node_id,views\n"
    "2026-03-31 10:00:00Z,ann@x.com,WB_A,E1,6\n"
    "2026-03-17 23:59:59,bob@x.com,WB_A,,4\n"
)
F3 = (
    "event_time,user,workbookurlid,elementid,impressions\n"
    "2026-03-31 11:00:00,bob@x.com,WB_A,,1\n"  # K2 re-sent: corrected from 4 to 1
    "2026-03-30 08:00,fay@x.com,WB_B,,3\n"  # WB_B is not idle any more
    # After the window end, unknown workbook: the largest counts; sums saturate at the maximum.
    "2026-04-03 00:00,max@x.com,BIG_WB,,9223372036854775807\n"
    "2026-04-03 00:00,max@x.com,BIG_WB,,9223372036854775807.00\n"
    "2026-04-03 00:01,max@x.com,BIG_WB,,0009223372036854775807\n"
    "2026-04-03 00:02,max@x.com,BIG_WB,,9223372036854775808\n"  # invalid_count
)
# A file without any user_email column: its rows are rejected, sigma_export_files names it.
F4 = "request_time,workbook_url_id\n2026-03-30 08:00,WB_A\n"
F5_EMPTIED = "request_time,user_email,workbook_url_id\n"
# A header spelling no alias knows: rejected (missing_user_email) until a user extends the list.
F6 = "request_time,who,workbook_url_id\n2026-03-30 09:00,Hal@x.com,WB_B\n"
# Sigma's raw audit log (every event, friendly names): only successful views count; a sign-in
# without a workbook id is another event, not a rejected row.
F7 = (
    "Timestamp,User Email,Event Type,Event Name,Event Status,Workbook URL ID,Element ID\n"
    "2026-03-29 09:00:00,gus@x.com,ACCESS_SIGMA,Sign In,Success,,\n"  # 1 not an impression
    "2026-03-29 09:01:00,gus@x.com,OBJECT_INTERACTION,Open Workbook,Success,WB_NEW,\n"  # 2 counts
    "2026-03-29 09:02:00,gus@x.com,OBJECT_INTERACTION,View Element,Failure,WB_NEW,N1\n"  # 3 failed
    "2026-03-29 09:03:00,gus@x.com,QUERY_EXECUTIONS,Run Query,Success,WB_NEW,N1\n"  # 4 not a view
    "2026-03-29 09:04:00,gus@x.com,OBJECT_INTERACTION, open workbook ,,WB_NEW,\n"  # 5 counts: empty status
    "not a time,gus@x.com,OBJECT_INTERACTION,Open Workbook,Succeeded,WB_NEW,\n"  # 6 a view, rejected
)
# An event name column whose every value is empty: no row counts (and none is rejected).
F8 = (
    "request_time,user_email,workbook_url_id,event\n"
    "2026-03-30 10:00,ivy@x.com,WB_B,\n"
    "2026-03-30 11:00,ivy@x.com,WB_B,  \n"
)

EXTENDED_ALIASES = {
    "request_time": ["request_time", "timestamp", "event_time", "request_timestamp", "event_timestamp"],
    "user_email": ["user_email", "email", "user", "email_address", "who"],
    "workbook_url_id": ["workbook_url_id", "workbook_urlid", "workbookurlid"],
    "element_id": ["element_id", "node_id", "elementid"],
    "count": ["count", "impressions", "impression_count", "num_impressions", "views", "view_count"],
    "event_name": ["event_name", "event", "action"],
    "event_status": ["event_status", "status"],
}


def load(exports: ExportDir, database: Path) -> None:
    summary = run_load(build_config({"bucket_uri": exports.uri, "database": str(database), "days_back": "6"}))
    assert summary.ok, [r.error for r in summary.results]


def write_first(exports: ExportDir) -> None:
    exports.write("f1.csv", F1, age=timedelta(hours=5))
    exports.write("f2.csv", F2, age=timedelta(hours=4))
    exports.write("f5.csv", F5, age=timedelta(hours=4))


def write_second(exports: ExportDir) -> None:
    exports.write("f2.csv", F2_CHANGED, age=timedelta(hours=2))
    exports.write("f3.csv", F3, age=timedelta(hours=1))
    exports.write("f4.csv", F4, age=timedelta(hours=1))
    exports.write("f5.csv", F5_EMPTIED, age=timedelta(hours=1))
    exports.write("f6.csv", F6, age=timedelta(hours=1))
    exports.write("f7.csv", F7, age=timedelta(hours=1))
    exports.write("f8.csv", F8, age=timedelta(hours=1))


def create_inventory(database: Path) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("create schema if not exists fixture_inventory")
        con.execute(
            """
            create or replace table fixture_inventory.workbooks as
            select * from (values
                ('WB_A', 'id-a', 'Workbook A', 'Team/A', 'Owner@X.com', timestamp '2025-01-01', timestamp '2026-01-01'),
                ('WB_B', 'id-b', 'Workbook B', 'Team/B', 'owner@x.com', timestamp '2025-01-01', timestamp '2026-01-01'),
                ('WB_NEW', 'id-n', 'New', 'Team/N', 'owner@x.com', timestamp '2026-03-20', timestamp '2026-03-20')
            ) as t(workbook_url_id, workbook_id, name, path, owner_email, created_at, updated_at)
            """
        )
        con.execute(
            """
            create or replace table fixture_inventory.elements as
            select * from (values
                ('WB_A', 'E1', 'Summary', 'Total', 'kpi'),
                ('WB_A', 'E2', 'Summary', 'Trend', 'visualization'),
                ('WB_A', 'E3', 'Data', 'Idle table', 'table'),
                ('ORPHAN_WB', 'E9', 'P', 'Orphan', 'table')
            ) as t(workbook_url_id, element_id, page_name, name, element_type)
            """
        )


def marts_snapshot(database: Path) -> dict[str, list[dict]]:
    """Every mart's rows as dicts."""
    snapshot = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for (mart,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall():
            relation = con.sql(f"select * from marts.{mart}")
            snapshot[mart] = [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
    return snapshot
