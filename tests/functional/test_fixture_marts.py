"""The marts of the fixture exports' first load (tests/helpers/fixture_exports.py), checked by
hand and against the hand-written reference of every mart (bench/marts_reference.sql). The first
build runs the dbt unit tests too. `make test-fast` runs this module beside the unit tests."""

from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = pytest.mark.dbt


def _by(rows: list[dict], *keys: str) -> dict:
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_every_mart_matches_the_hand_written_reference(first_build: dict) -> None:
    assert first_build["reference_differences"] == {}


def test_fct_dedup_across_overlapping_files(first_build: dict) -> None:
    fct = first_build["marts"]["fct_sigma_impressions"]
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
    assert {row["exclusion_reason"] for row in fct} == {None}  # no exclusion rule by default


def test_rejections_every_reason(first_build: dict) -> None:
    rejected = first_build["marts"]["sigma_rejected_impressions"]
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


def test_workbook_impressions_windows(first_build: dict) -> None:
    workbooks = _by(first_build["marts"]["sigma_workbook_impressions"], "workbook_url_id")
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
    assert a["impressions_trend_14d_label"] == "+225%"
    assert a["last_impression_at"] == ts("2026-03-31 23:59:59.999999")
    assert a["days_since_last_impression"] == 0
    assert a["popularity_rank"] == 1
    assert a["has_enough_history"] is True
    assert a["is_stale"] is False
    assert (a["usage_status"], a["is_cleanup_candidate"], a["excluded_impressions_30d"]) == (
        "viewed in 30 days",
        False,
        0,
    )
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
    assert b["impressions_trend_14d_pct"] is None and b["impressions_trend_14d_label"] is None
    assert b["popularity_rank"] == 2
    assert b["is_stale"] is True  # history since 03-01 covers the 30-day window
    assert (b["usage_status"], b["is_cleanup_candidate"]) == ("never viewed", True)
    new = workbooks["WB_NEW"]
    assert (new["is_stale"], new["usage_status"], new["is_cleanup_candidate"]) == (False, "never viewed", True)


def test_element_impressions(first_build: dict) -> None:
    elements = _by(first_build["marts"]["sigma_element_impressions"], "workbook_url_id", "element_id")
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


def test_unmatched_impressions(first_build: dict) -> None:
    unmatched = _by(first_build["marts"]["sigma_unmatched_impressions"], "workbook_url_id", "element_id", "reason")
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


def test_user_activity(first_build: dict) -> None:
    users = _by(first_build["marts"]["sigma_user_activity"], "user_email")
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


def test_daily_impressions_and_activity(first_build: dict) -> None:
    daily = sorted(
        (str(row["impression_date"]), row["workbook_url_id"], row["impressions"], row["unique_users"])
        for row in first_build["marts"]["sigma_daily_impressions"]
    )
    assert daily == [
        ("2026-03-01", "WB_A", 1, 1),
        ("2026-03-17", "WB_A", 4, 1),
        ("2026-03-25", "WB_A", 1, 1),
        ("2026-03-31", "WB_A", 12, 3),
    ]
    activity = {str(r["impression_date"]): r for r in first_build["marts"]["sigma_daily_activity"]}
    # Every workbook, known or not: 03-24 is carl on the unknown wb_a; 03-10 dana on ORPHAN_WB.
    assert (activity["2026-03-24"]["impressions"], activity["2026-03-24"]["workbooks_viewed"]) == (1, 1)
    assert activity["2026-03-31"]["active_users"] == 3  # ann, bob, eve
    assert "2026-04-01" not in activity  # after as_of_date


def test_teams_without_a_synced_team(first_build: dict) -> None:
    """No sync yet: one (no team) row holding every user's counted impressions of 30 days."""
    teams = first_build["marts"]["sigma_team_usage"]
    assert [(t["team_id"], t["team_name"], t["member_count"]) for t in teams] == [(None, "(no team)", 0)]
    assert teams[0]["impressions_30d"] == 17 + 1 + 1  # WB_A's 30 days, carl's wb_a, dana's ORPHAN_WB


def test_export_files_and_events_of_the_classic_shape(first_build: dict) -> None:
    files = _by(first_build["marts"]["sigma_export_files"], "file_uri")
    f1 = next(row for uri, row in files.items() if uri.endswith("/f1.csv"))
    assert (f1["status"], f1["rows_loaded"], f1["malformed_lines"], f1["rejected_rows"]) == ("loaded", 15, 1, 5)
    assert (f1["missing_columns"], f1["problem"], f1["is_blocking"]) == (None, None, False)
    f5 = next(row for uri, row in files.items() if uri.endswith("/f5.csv"))
    assert f5["problem"] == "no element_id column: workbook-level impressions only" and not f5["is_blocking"]
    events = first_build["marts"]["sigma_export_events"]
    assert len(events) == 3  # one row per file without event columns
    assert {(e["event_name"], e["event_status"], e["is_view_event"]) for e in events} == {(None, None, True)}
    assert sum(e["row_count"] for e in events) == 15 + 3 + 1


def test_data_problems_warn_without_failing(first_build: dict) -> None:
    output = first_build["output"]
    assert "warn_rejected_impressions" in output and "warn_unmatched_impressions" in output
    assert "ERROR=0" in output
