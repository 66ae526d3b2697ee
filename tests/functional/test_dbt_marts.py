"""The dbt models on a real DuckDB file: fixture exports -> the real loader -> `dbt build`.

One database per module (each dbt invocation costs seconds): two loads with overlapping and
changed files, an incremental build after each, then a full refresh that must give the same
fct rows. Every expected value below is computed by hand from the fixture rows, with
as_of_date 2026-03-31: window end 2026-04-01 00:00; 7d from 03-25, 14d from 03-18, 30d from
03-02 (also the stale window), 60d from 01-31, 90d from 01-01; previous 14 days [03-04, 03-18).

The inventory is this module's own tables (schema fixture_inventory), reached through
vars.sigma_workbooks_relation / vars.sigma_workbook_elements_relation, never the demo seeds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from loader.config import build_config
from loader.landing import run_load
from tests.helpers.dbt_project import run_dbt
from tests.helpers.exports import ExportDir
from tests.helpers.marts_compare import mart_differences
from tests.helpers.marts_reference import build_reference

AS_OF = "2026-03-31"
VARS = {
    "as_of_date": AS_OF,
    "sigma_workbooks_relation": "fixture_inventory.workbooks",
    "sigma_workbook_elements_relation": "fixture_inventory.elements",
    "sigma_data_test_days": None,  # data tests over whole tables
}
# Later builds with as_of_date moved forward (every window slides past the fixture's March days
# in part) and back (before some of them).
MOVED_AS_OF = ["2026-04-20", "2026-03-20"]
# Then far forward: the new windows share no day with the last build's, so the per-user table is
# rebuilt whole (emptied first), and no user window holds a fixture day any more.
FAR_AS_OF = "2026-09-01"
USER_WINDOWS = "intermediate.int_sigma__resource_users"
# Builds after the first skip the dbt unit tests (they do not depend on the data).
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
# A file without any user_email column: its rows are rejected, a warn test names it.
F4 = "request_time,workbook_url_id\n2026-03-30 08:00,WB_A\n"
# A file whose only event (after the window end, unknown workbook) vanishes when it is
# rewritten with its header alone in the second load.
F5 = "request_time,user_email,workbook_url_id\n2026-04-05 10:00,gil@x.com,GONE_WB\n"
F5_EMPTIED = "request_time,user_email,workbook_url_id\n"
# A header spelling no alias knows: rejected (missing_user_email) until a user extends the list.
F6 = "request_time,who,workbook_url_id\n2026-03-30 09:00,Hal@x.com,WB_B\n"
EXTENDED_ALIASES = {
    "request_time": ["request_time", "timestamp", "event_time", "request_timestamp", "event_timestamp"],
    "user_email": ["user_email", "email", "user", "email_address", "who"],
    "workbook_url_id": ["workbook_url_id", "workbook_urlid", "workbookurlid"],
    "element_id": ["element_id", "node_id", "elementid"],
    "count": ["count", "impressions", "impression_count", "num_impressions", "views", "view_count"],
}


def _load(exports: ExportDir, database: Path) -> None:
    summary = run_load(build_config({"bucket_uri": exports.uri, "database": str(database), "days_back": "6"}))
    assert summary.ok, [r.error for r in summary.results]


def _rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def _create_inventory(database: Path) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("create schema fixture_inventory")
        con.execute(
            """
            create table fixture_inventory.workbooks as
            select * from (values
                ('WB_A', 'id-a', 'Workbook A', 'Team/A', 'Owner@X.com', timestamp '2025-01-01', timestamp '2026-01-01'),
                ('WB_B', 'id-b', 'Workbook B', 'Team/B', 'owner@x.com', timestamp '2025-01-01', timestamp '2026-01-01'),
                ('WB_NEW', 'id-n', 'New', 'Team/N', 'owner@x.com', timestamp '2026-03-20', timestamp '2026-03-20')
            ) as t(workbook_url_id, workbook_id, name, path, owner_email, created_at, updated_at)
            """
        )
        con.execute(
            """
            create table fixture_inventory.elements as
            select * from (values
                ('WB_A', 'E1', 'Summary', 'Total', 'kpi'),
                ('WB_A', 'E2', 'Summary', 'Trend', 'visualization'),
                ('WB_A', 'E3', 'Data', 'Idle table', 'table'),
                ('ORPHAN_WB', 'E9', 'P', 'Orphan', 'table')
            ) as t(workbook_url_id, element_id, page_name, name, element_type)
            """
        )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Load 1 + build, snapshot; load 2 + incremental build, snapshot; full refresh, snapshot."""
    root = tmp_path_factory.mktemp("dbt_marts")
    database = root / "warehouse.duckdb"
    exports = ExportDir(root / "exports")
    exports.write("f1.csv", F1, age=timedelta(hours=5))
    exports.write("f2.csv", F2, age=timedelta(hours=4))
    exports.write("f5.csv", F5, age=timedelta(hours=4))
    _load(exports, database)
    _create_inventory(database)
    first = run_dbt(["build"], database, root / "dbt", vars=VARS)
    snapshots = {"first": _snapshot(database)}
    snapshots["first_output"] = first.stdout

    exports.write("f2.csv", F2_CHANGED, age=timedelta(hours=2))
    exports.write("f3.csv", F3, age=timedelta(hours=1))
    exports.write("f4.csv", F4, age=timedelta(hours=1))
    exports.write("f5.csv", F5_EMPTIED, age=timedelta(hours=1))
    exports.write("f6.csv", F6, age=timedelta(hours=1))
    _load(exports, database)
    second = run_dbt(["build", *NO_UNIT], database, root / "dbt", vars=VARS)
    snapshots["incremental"] = _snapshot(database)
    snapshots["incremental_output"] = second.stdout
    run_dbt(["build", "--full-refresh", *NO_UNIT], database, root / "dbt", vars=VARS)
    snapshots["full_refresh"] = _snapshot(database)
    # The user extends the alias list: a normal run re-parses the rows rejected before.
    run_dbt(["build", *NO_UNIT], database, root / "dbt", vars={**VARS, "sigma_column_aliases": EXTENDED_ALIASES})
    snapshots["extended_aliases"] = _snapshot(database)
    # as_of_date moves forward, then back (the windows slide over days with and without rows),
    # then far forward.
    for as_of in [*MOVED_AS_OF, FAR_AS_OF]:
        moved = {**VARS, "sigma_column_aliases": EXTENDED_ALIASES, "as_of_date": as_of}
        run_dbt(["build", *NO_UNIT], database, root / "dbt", vars=moved)
        snapshots[f"as_of_{as_of}"] = _snapshot(database, as_of=as_of)
        users_sql = next((root / "dbt" / "target" / "compiled").rglob("int_sigma__resource_users.sql")).read_text()
        snapshots[f"as_of_{as_of}_users_incremental"] = "moved_window_pair_days" in users_sql
        (snapshots[f"as_of_{as_of}_user_rows"],) = _rows(database, f"select count(*) from {USER_WINDOWS}")[0]
    return snapshots


def _snapshot(database: Path, as_of: str = AS_OF) -> dict:
    marts = [
        "fct_sigma_impressions",
        "sigma_workbook_impressions",
        "sigma_element_impressions",
        "sigma_user_activity",
        "sigma_daily_impressions",
        "sigma_rejected_impressions",
        "sigma_unmatched_impressions",
    ]
    snapshot = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for mart in marts:
            relation = con.sql(f"select * from marts.{mart}")
            columns = relation.columns
            snapshot[mart] = [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]
        # The incremental intermediate and staging tables hold the current file versions only.
        for table in ("staging.stg_sigma__impression_rows", "intermediate.int_sigma__impressions_per_file"):
            snapshot[table] = con.execute(
                f"select _file_uri, _loaded_at, count(*) from {table} group by all order by all"
            ).fetchall()
        snapshot["daily_rollup"] = con.execute(
            "select impression_date, workbook_url_id, element_id, user_email, impressions, first_impression_at, "
            "last_impression_at from intermediate.int_sigma__impressions_daily order by all"
        ).fetchall()
        snapshot["parse_signatures"] = con.execute(
            "select distinct _parse_signature from intermediate.int_sigma__impressions_deduplicated"
        ).fetchall()
    # The hand-written reference of every mart (bench/marts_reference.sql) on the same tables.
    build_reference(database, as_of, workbooks="fixture_inventory.workbooks", elements="fixture_inventory.elements")
    with duckdb.connect(str(database), read_only=True) as con:
        snapshot["reference_differences"] = mart_differences(con, "marts", "reference")
    return snapshot


def _by(rows: list[dict], *keys: str) -> dict:
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------- first load


def test_fct_dedup_across_overlapping_files(warehouse: dict) -> None:
    fct = warehouse["first"]["fct_sigma_impressions"]
    by_key = _by(fct, "request_time", "user_email", "workbook_url_id", "element_id")
    k1 = by_key[(ts("2026-03-31 10:00:00"), "ann@x.com", "WB_A", "E1")]
    assert k1["impression_count"] == 5  # f2 (later) corrects f1's 2
    assert k1["_file_uri"].endswith("/f2.csv")
    assert k1["resource_type"] == "sigma_workbook_element"
    k2 = by_key[(ts("2026-03-31 11:00:00"), "bob@x.com", "WB_A", None)]
    assert k2["impression_count"] == 4  # 1 (empty count) + 3, same file
    assert k2["resource_type"] == "sigma_workbook"
    # Offsets applied, fraction truncated to microseconds.
    assert (ts("2026-03-31 10:00:00"), "eve@x.com", "WB_A", None) in by_key
    assert (ts("2026-03-31 23:59:59.999999"), "ann@x.com", "WB_A", "E2") in by_key
    # Events after the window end stay in fct.
    assert (ts("2026-04-01 00:00:00"), "ann@x.com", "WB_A", None) in by_key
    assert (ts("2026-04-02 00:00:00"), "zed@x.com", "NEWWB", None) in by_key
    assert (ts("2026-04-05 10:00:00"), "gil@x.com", "GONE_WB", None) in by_key
    assert len(fct) == 12
    assert len({row["impression_id"] for row in fct}) == len(fct)


def test_rejections_every_reason(warehouse: dict) -> None:
    rejected = warehouse["first"]["sigma_rejected_impressions"]
    got = sorted(
        (
            (row["_file_uri"].rsplit("/", 1)[1], row["_file_row_number"], row["line_number"], row["reason"])
            for row in rejected
        ),
        key=repr,
    )
    assert got == sorted(
        [
            ("f1.csv", 9, None, "invalid_request_time"),
            ("f1.csv", 10, None, "missing_user_email"),
            ("f1.csv", 11, None, "missing_request_time"),
            ("f1.csv", 12, None, "missing_workbook_url_id"),
            ("f1.csv", 13, None, "invalid_count"),
            ("f1.csv", None, 15, "malformed_line"),
        ],
        key=repr,
    )
    by_reason = _by(rejected, "reason")
    assert by_reason["invalid_request_time"]["raw_request_time"] == "2026-02-30 10:00"
    assert by_reason["invalid_count"]["raw_count"] == "0"
    assert "extra" in by_reason["malformed_line"]["raw_text"]


def test_workbook_impressions_windows(warehouse: dict) -> None:
    workbooks = _by(warehouse["first"]["sigma_workbook_impressions"], "workbook_url_id")
    assert set(workbooks) == {"WB_A", "WB_B", "WB_NEW"}
    a = workbooks["WB_A"]
    assert (a["workbook_name"], a["path"], a["owner_email"]) == ("Workbook A", "Team/A", "owner@x.com")
    assert a["total_impressions_7d"] == 13  # 5 + 4 + 1 + 1 (unknown element EX) + 2
    assert a["total_impressions_14d"] == 13
    assert a["total_impressions_30d"] == 17  # + 4 on 03-17
    assert a["total_impressions_60d"] == 18  # + 1 on 03-01
    assert a["total_impressions_90d"] == 18
    assert a["unique_users_14d"] == 4
    assert a["unique_users_30d"] == 4
    assert a["impressions_previous_14d"] == 4
    assert a["impressions_trend_14d"] == 9
    assert a["impressions_trend_14d_pct"] == pytest.approx(9 / 4)
    assert a["last_impression_at"] == ts("2026-03-31 23:59:59.999999")
    assert a["days_since_last_impression"] == 0
    assert a["popularity_rank"] == 1
    assert a["has_enough_history"] is True
    assert a["is_stale"] is False
    assert a["used"] == [
        {"user_email": "bob@x.com", "impressions": 8, "last_impression_at": ts("2026-03-31 11:00:00")},
        {"user_email": "ann@x.com", "impressions": 7, "last_impression_at": ts("2026-03-31 23:59:59.999999")},
        {"user_email": "eve@x.com", "impressions": 2, "last_impression_at": ts("2026-03-31 10:00:00")},
        {"user_email": "carl@x.com", "impressions": 1, "last_impression_at": ts("2026-03-25 00:00:00")},
    ]
    b = workbooks["WB_B"]
    assert [b[f"total_impressions_{n}d"] for n in (7, 14, 30, 60, 90)] == [0, 0, 0, 0, 0]
    assert (b["unique_users_14d"], b["unique_users_30d"], b["impressions_previous_14d"]) == (0, 0, 0)
    assert b["last_impression_at"] is None and b["days_since_last_impression"] is None
    assert b["used"] == []
    assert b["impressions_trend_14d_pct"] is None
    assert b["popularity_rank"] == 2
    assert b["is_stale"] is True  # history since 03-01 covers the 30-day window
    assert workbooks["WB_NEW"]["is_stale"] is False  # created inside the stale window


def test_element_impressions(warehouse: dict) -> None:
    elements = _by(warehouse["first"]["sigma_element_impressions"], "workbook_url_id", "element_id")
    assert set(elements) == {("WB_A", "E1"), ("WB_A", "E2"), ("WB_A", "E3"), ("ORPHAN_WB", "E9")}
    e1 = elements[("WB_A", "E1")]
    assert (e1["element_name"], e1["page_name"], e1["element_type"]) == ("Total", "Summary", "kpi")
    assert e1["total_impressions_7d"] == 5
    assert e1["used"] == [
        {"user_email": "ann@x.com", "impressions": 5, "last_impression_at": ts("2026-03-31 10:00:00")}
    ]
    assert elements[("WB_A", "E2")]["total_impressions_7d"] == 1
    assert elements[("WB_A", "E3")]["total_impressions_90d"] == 0
    assert elements[("WB_A", "E3")]["used"] == []
    # The orphan element's events are unknown_workbook: counted nowhere here.
    assert elements[("ORPHAN_WB", "E9")]["total_impressions_90d"] == 0


def test_unmatched_impressions(warehouse: dict) -> None:
    unmatched = _by(warehouse["first"]["sigma_unmatched_impressions"], "workbook_url_id", "element_id", "reason")
    assert set(unmatched) == {
        ("WB_A", "EX", "unknown_element"),
        ("wb_a", None, "unknown_workbook"),
        ("ORPHAN_WB", "E9", "unknown_workbook"),
        ("NEWWB", None, "unknown_workbook"),  # after the window end: still diagnosed here
        ("GONE_WB", None, "unknown_workbook"),
    }
    ex = unmatched[("WB_A", "EX", "unknown_element")]
    assert (ex["impressions"], ex["unique_users"]) == (1, 1)
    assert ex["first_seen_at"] == ex["last_seen_at"] == ts("2026-03-25 00:00:00")


def test_user_activity(warehouse: dict) -> None:
    users = _by(warehouse["first"]["sigma_user_activity"], "user_email")
    assert set(users) == {"ann@x.com", "bob@x.com", "carl@x.com", "dana@x.com", "eve@x.com"}  # not zed
    ann = users["ann@x.com"]
    assert [ann[f"impressions_{n}d"] for n in (7, 14, 30, 60)] == [6, 6, 6, 7]
    assert ann["first_impression_at"] == ts("2026-03-01 09:00:00")
    assert ann["last_impression_at"] == ts("2026-03-31 23:59:59.999999")  # not the 04-01 event
    carl = users["carl@x.com"]
    assert [carl[f"impressions_{n}d"] for n in (7, 14, 30, 60)] == [1, 2, 2, 2]
    assert carl["workbooks_viewed_30d"] == 2  # WB_A and the unknown wb_a
    dana = users["dana@x.com"]
    assert (dana["impressions_14d"], dana["impressions_30d"], dana["is_active_14d"]) == (0, 1, False)
    assert users["bob@x.com"]["is_active_14d"] is True


def test_daily_impressions(warehouse: dict) -> None:
    daily = sorted(
        (str(row["impression_date"]), row["workbook_url_id"], row["impressions"], row["unique_users"])
        for row in warehouse["first"]["sigma_daily_impressions"]
    )
    assert daily == [
        ("2026-03-01", "WB_A", 1, 1),
        ("2026-03-17", "WB_A", 4, 1),
        ("2026-03-25", "WB_A", 1, 1),
        ("2026-03-31", "WB_A", 12, 3),
    ]


def test_data_problems_warn_without_failing(warehouse: dict) -> None:
    output = warehouse["first_output"]
    assert "WARN" in output and "warn_rejected_impressions" in output
    assert "warn_unmatched_impressions" in output
    assert "warn_missing_required_columns" in warehouse["incremental_output"]


# ---------------------------------------------------------------- second load: incremental


def test_incremental_applies_changed_and_new_files(warehouse: dict) -> None:
    fct = _by(
        warehouse["incremental"]["fct_sigma_impressions"], "request_time", "user_email", "workbook_url_id", "element_id"
    )
    assert fct[(ts("2026-03-31 10:00:00"), "ann@x.com", "WB_A", "E1")]["impression_count"] == 6
    k2 = fct[(ts("2026-03-31 11:00:00"), "bob@x.com", "WB_A", None)]
    assert (k2["impression_count"], k2["_file_uri"].rsplit("/", 1)[1]) == (1, "f3.csv")
    # f2's new version no longer holds the 03-01 event and no other file does: it is gone;
    # so is f5's only event (f5 now holds its header alone).
    assert (ts("2026-03-01 09:00:00"), "ann@x.com", "WB_A", None) not in fct
    assert (ts("2026-04-05 10:00:00"), "gil@x.com", "GONE_WB", None) not in fct
    for table in ("staging.stg_sigma__impression_rows", "intermediate.int_sigma__impressions_per_file"):
        assert not [f for f in warehouse["incremental"][table] if f[0].endswith("/f5.csv")], table
    unmatched = warehouse["incremental"]["sigma_unmatched_impressions"]
    assert "GONE_WB" not in {row["workbook_url_id"] for row in unmatched}
    workbooks = _by(warehouse["incremental"]["sigma_workbook_impressions"], "workbook_url_id")
    assert workbooks["WB_A"]["total_impressions_7d"] == 13 + 1 - 3  # K1 5 -> 6, K2 4 -> 1
    assert workbooks["WB_B"]["total_impressions_7d"] == 3
    # History now starts 03-10 (after the stale window's start): nothing can be judged stale.
    assert {row["has_enough_history"] for row in workbooks.values()} == {False}
    assert {row["is_stale"] for row in workbooks.values()} == {False}
    rejected = warehouse["incremental"]["sigma_rejected_impressions"]
    assert [r["reason"] for r in rejected if r["_file_uri"].endswith("/f4.csv")] == ["missing_user_email"]
    assert [r["raw_count"] for r in rejected if r["_file_uri"].endswith("/f3.csv")] == ["9223372036854775808"]


def test_largest_counts_saturate_sums(warehouse: dict) -> None:
    biggest = 2**63 - 1
    fct = warehouse["incremental"]["fct_sigma_impressions"]
    assert sorted(r["impression_count"] for r in fct if r["workbook_url_id"] == "BIG_WB") == [biggest, biggest]
    unmatched = _by(warehouse["incremental"]["sigma_unmatched_impressions"], "workbook_url_id")
    assert unmatched["BIG_WB"]["impressions"] == biggest


def test_incremental_equals_full_refresh(warehouse: dict) -> None:
    for mart, rows in warehouse["incremental"].items():
        refreshed = warehouse["full_refresh"][mart]
        if mart in ("reference_differences", "parse_signatures"):
            continue
        if "." in mart:  # staging/intermediate: same file versions and row counts
            assert [r[::2] for r in rows] == [r[::2] for r in refreshed], mart
            continue
        if mart == "fct_sigma_impressions":
            rows = [{k: v for k, v in r.items() if k != "_loaded_at"} for r in rows]
            refreshed = [{k: v for k, v in r.items() if k != "_loaded_at"} for r in refreshed]
        assert sorted(map(repr, rows)) == sorted(map(repr, refreshed)), mart


def test_every_mart_matches_the_hand_written_reference(warehouse: dict) -> None:
    """After the first, the incremental, the full-refresh and the re-parse build."""
    for build in ("first", "incremental", "full_refresh", "extended_aliases"):
        assert warehouse[build]["reference_differences"] == {}, build


@pytest.mark.parametrize("as_of", MOVED_AS_OF)
def test_moved_as_of_date_matches_the_reference(warehouse: dict, as_of: str) -> None:
    """The per-user table is updated in place (only the pairs with rows on days that entered or
    left its windows), and every mart still equals the hand-written reference for that day."""
    assert warehouse[f"as_of_{as_of}_users_incremental"]
    assert warehouse[f"as_of_{as_of}"]["reference_differences"] == {}
    before = warehouse["extended_aliases"]["sigma_workbook_impressions"]
    assert warehouse[f"as_of_{as_of}"]["sigma_workbook_impressions"] != before


def test_far_moved_as_of_date_rebuilds_the_user_windows(warehouse: dict) -> None:
    """Windows sharing no day with the last build's: rebuilt whole, and the rows of the old
    windows are gone (no user window reaches a fixture day), so every mart equals the reference."""
    assert not warehouse[f"as_of_{FAR_AS_OF}_users_incremental"]
    assert warehouse[f"as_of_{FAR_AS_OF}_user_rows"] == 0
    assert warehouse[f"as_of_{FAR_AS_OF}"]["reference_differences"] == {}


def test_rollup_corrects_past_days(warehouse: dict) -> None:
    """f2's new version drops the 03-01 event: the incremental rollup no longer has that day."""
    days = {row[0] for row in warehouse["first"]["daily_rollup"]}
    assert datetime(2026, 3, 1).date() in days
    assert datetime(2026, 3, 1).date() not in {row[0] for row in warehouse["incremental"]["daily_rollup"]}
    assert warehouse["incremental"]["daily_rollup"] == warehouse["full_refresh"]["daily_rollup"]


# ---------------------------------------------------------------- before / without data


def test_missing_raw_schema_is_a_clear_error(tmp_path: Path) -> None:
    """dbt before any load: the staging model stops with what to do, not a catalog error."""
    database = tmp_path / "never_loaded.duckdb"
    result = run_dbt(
        ["run", "--select", "stg_sigma__impression_rows"],
        database,
        tmp_path / "dbt",
        vars={"as_of_date": AS_OF},
        check=False,
    )
    assert result.returncode != 0
    assert "run `sigma-impressions load` first" in result.stdout


def test_raw_table_without_header_columns_builds_empty_marts(tmp_path: Path) -> None:
    """Only an empty export was loaded: no header column exists; every mart builds, empty or zero."""
    database = tmp_path / "empty.duckdb"
    exports = ExportDir(tmp_path / "exports")
    exports.write("empty.csv", b"")
    _load(exports, database)
    _create_inventory(database)
    run_dbt(["build", *NO_UNIT], database, tmp_path / "dbt", vars=VARS)
    assert _rows(database, "select count(*) from marts.fct_sigma_impressions") == [(0,)]
    workbooks = _rows(
        database,
        "select workbook_url_id, total_impressions_90d, used, has_enough_history, is_stale "
        "from marts.sigma_workbook_impressions order by workbook_url_id",
    )
    assert workbooks == [
        ("WB_A", 0, [], False, False),
        ("WB_B", 0, [], False, False),
        ("WB_NEW", 0, [], False, False),
    ]


def test_extended_alias_list_applies_without_full_refresh(warehouse: dict) -> None:
    before = warehouse["full_refresh"]
    after = warehouse["extended_aliases"]
    assert [r["reason"] for r in before["sigma_rejected_impressions"] if r["_file_uri"].endswith("/f6.csv")] == [
        "missing_user_email"
    ]
    assert not [r for r in after["sigma_rejected_impressions"] if r["_file_uri"].endswith("/f6.csv")]
    workbooks = _by(after["sigma_workbook_impressions"], "workbook_url_id")
    assert workbooks["WB_B"]["total_impressions_7d"] == 3 + 1
    assert "hal@x.com" in _by(after["sigma_user_activity"], "user_email")

    # Every other event is as before (the rows were rebuilt with the new signature).
    def events(rows: list[dict]) -> list[str]:
        return sorted(repr({k: v for k, v in r.items() if k not in ("_loaded_at", "_parse_signature")}) for r in rows)

    hal = [r for r in after["fct_sigma_impressions"] if r["user_email"] == "hal@x.com"]
    assert [(r["workbook_url_id"], r["impression_count"]) for r in hal] == [("WB_B", 1)]
    others = [r for r in after["fct_sigma_impressions"] if r["user_email"] != "hal@x.com"]
    assert events(others) == events(before["fct_sigma_impressions"])
    assert len(after["parse_signatures"]) == 1
