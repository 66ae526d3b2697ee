"""The daily run on dbt's own incremental mechanism: after a second load (a changed file, new
files, an emptied one, raw audit-log exports), an incremental `dbt build` gives the same marts as
`--full-refresh`, and both equal the hand-checked numbers and the hand-written reference. Then a
changed alias list re-parses every landed row on the next normal build. The first build is the
session's (tests/functional/conftest.py); this module works on a copy of it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from tests.functional.conftest import copy_database
from tests.helpers import fixture_exports as fx
from tests.helpers.dbt_project import run_dbt
from tests.helpers.exports import ExportDir
from tests.helpers.marts_reference import reference_differences

pytestmark = pytest.mark.dbt

REFERENCE = {"workbooks": "fixture_inventory.workbooks", "elements": "fixture_inventory.elements"}
STAGING_VERSIONS = (
    "select _file_uri, _loaded_at, count(*) from staging.stg_sigma__impression_rows group by all order by all"
)


def _by(rows: list[dict], *keys: str) -> dict:
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def builds(first_build: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    database = copy_database(first_build["database"], root / "warehouse.duckdb")
    # The second load lands into the same prefix (the first build's warehouse names its files).
    exports = first_build["exports"]
    fx.write_second(exports)
    fx.load(exports, database)
    staging_before = _rows(database, STAGING_VERSIONS)
    incremental = run_dbt(["build", *fx.NO_UNIT], database, root / "dbt", vars=fx.VARS)
    built = {
        "database": database,
        "incremental_output": incremental.stdout,
        "staging_before": staging_before,
        "incremental_staging": _rows(database, STAGING_VERSIONS),
        "incremental": fx.marts_snapshot(database),
        "incremental_reference": reference_differences(database, fx.AS_OF, **REFERENCE),
    }
    run_dbt(["build", "--full-refresh", *fx.NO_UNIT], database, root / "dbt", vars=fx.VARS)
    built["full_refresh"] = fx.marts_snapshot(database)
    built["full_refresh_staging"] = _rows(database, STAGING_VERSIONS)
    # The user extends the alias list: the next normal build parses every landed row again.
    extended = {**fx.VARS, "sigma_column_aliases": fx.EXTENDED_ALIASES}
    run_dbt(["build", *fx.NO_UNIT], database, root / "dbt", vars=extended)
    built["extended_aliases"] = fx.marts_snapshot(database)
    built["extended_reference"] = reference_differences(database, fx.AS_OF, **REFERENCE)
    return built


def test_incremental_build_equals_full_refresh(builds: dict) -> None:
    """Every mart, row for row (the incremental staging table parsed only the new file versions)."""
    assert builds["incremental"].keys() == builds["full_refresh"].keys()
    for mart, rows in builds["incremental"].items():
        assert sorted(map(repr, rows)) == sorted(map(repr, builds["full_refresh"][mart])), mart


def test_staging_parses_only_new_file_versions(builds: dict) -> None:
    before = {(uri.rsplit("/", 1)[1], loaded_at) for uri, loaded_at, _ in builds["staging_before"] if loaded_at}
    after = {(uri.rsplit("/", 1)[1], loaded_at) for uri, loaded_at, _ in builds["incremental_staging"]}
    # f1's rows were not parsed again (same landed version); f2's new version replaced its rows.
    assert {v for v in before if v[0] == "f1.csv"} <= after
    assert len([v for v in after if v[0] == "f2.csv"]) == 1
    # The emptied f5 keeps its old rows in staging until a full refresh: they are not its landed
    # version, so no mart reads them.
    assert [v for v in after if v[0] == "f5.csv"]
    assert not [row for row in builds["full_refresh_staging"] if row[0].endswith("/f5.csv")]


def test_both_equal_the_hand_written_reference(builds: dict) -> None:
    assert builds["incremental_reference"] == {}
    assert builds["extended_reference"] == {}


def test_changed_and_new_files_apply(builds: dict) -> None:
    fct = _by(
        builds["incremental"]["fct_sigma_impressions"], "request_time", "user_email", "workbook_url_id", "element_id"
    )
    assert fct[(ts("2026-03-31 10:00:00"), "ann@x.com", "WB_A", "E1")]["impression_count"] == 6
    k2 = fct[(ts("2026-03-31 11:00:00"), "bob@x.com", "WB_A", None)]
    assert (k2["impression_count"], k2["_file_uri"].rsplit("/", 1)[1]) == (1, "f3.csv")
    # f2's new version no longer holds the 03-01 event and no other file does: it is gone;
    # so is f5's only event (f5 now holds its header alone).
    assert (ts("2026-03-01 09:00:00"), "ann@x.com", "WB_A", None) not in fct
    assert (ts("2026-04-05 10:00:00"), "gil@x.com", "GONE_WB", None) not in fct
    unmatched = builds["incremental"]["sigma_unmatched_impressions"]
    assert "GONE_WB" not in {row["workbook_url_id"] for row in unmatched}
    workbooks = _by(builds["incremental"]["sigma_workbook_impressions"], "workbook_url_id")
    assert workbooks["WB_A"]["total_impressions_7d"] == 13 + 1 - 3  # K1 5 -> 6, K2 4 -> 1
    assert workbooks["WB_B"]["total_impressions_7d"] == 3
    # History now starts 03-10 (after the stale window's start): nothing can be judged stale.
    assert {row["has_enough_history"] for row in workbooks.values()} == {False}
    assert {row["is_stale"] for row in workbooks.values()} == {False}
    rejected = builds["incremental"]["sigma_rejected_impressions"]
    assert [r["reason"] for r in rejected if r["_file_uri"].endswith("/f4.csv")] == ["missing_user_email"]
    assert [r["raw_count"] for r in rejected if r["_file_uri"].endswith("/f3.csv")] == ["9223372036854775808"]


def test_largest_counts_saturate_sums(builds: dict) -> None:
    biggest = 2**63 - 1
    fct = builds["incremental"]["fct_sigma_impressions"]
    assert sorted(r["impression_count"] for r in fct if r["workbook_url_id"] == "BIG_WB") == [biggest, biggest]
    unmatched = _by(builds["incremental"]["sigma_unmatched_impressions"], "workbook_url_id")
    assert unmatched["BIG_WB"]["impressions"] == biggest


def test_raw_audit_log_counts_only_successful_views(builds: dict) -> None:
    marts = builds["incremental"]
    gus = [r for r in marts["fct_sigma_impressions"] if r["user_email"] == "gus@x.com"]
    assert sorted((r["request_time"], r["workbook_url_id"]) for r in gus) == [
        (ts("2026-03-29 09:01:00"), "WB_NEW"),
        (ts("2026-03-29 09:04:00"), "WB_NEW"),
    ]
    assert _by(marts["sigma_workbook_impressions"], "workbook_url_id")["WB_NEW"]["total_impressions_7d"] == 2
    # The sign-in (no workbook id), the failed view and the query are other events, not rejects;
    # the view with a bad time is.
    f7_rejected = [
        (r["_file_row_number"], r["reason"])
        for r in marts["sigma_rejected_impressions"]
        if r["_file_uri"].endswith("/f7.csv")
    ]
    assert f7_rejected == [(6, "invalid_request_time")]
    events = {
        (r["event_name"], r["event_status"]): (r["row_count"], r["is_view_event"])
        for r in marts["sigma_export_events"]
        if r["file_uri"].endswith("/f7.csv")
    }
    assert events == {
        ("Sign In", "Success"): (1, False),
        ("Open Workbook", "Success"): (1, True),
        ("View Element", "Failure"): (1, False),
        ("Run Query", "Success"): (1, False),
        ("open workbook", ""): (1, True),
        ("Open Workbook", "Succeeded"): (1, True),
    }


def test_an_event_column_with_no_value_counts_nothing(builds: dict) -> None:
    marts = builds["incremental"]
    assert not [r for r in marts["fct_sigma_impressions"] if r["user_email"] == "ivy@x.com"]
    assert not [r for r in marts["sigma_rejected_impressions"] if r["_file_uri"].endswith("/f8.csv")]
    events = [r for r in marts["sigma_export_events"] if r["file_uri"].endswith("/f8.csv")]
    assert [(r["event_name"], r["event_status"], r["row_count"], r["is_view_event"]) for r in events] == [
        ("", None, 2, False)
    ]
    files = _by(marts["sigma_export_files"], "file_uri")
    f8 = next(row for uri, row in files.items() if uri.endswith("/f8.csv"))
    assert (f8["view_event_rows"], f8["is_blocking"]) == (0, True)
    assert f8["problem"].startswith("no view events")
    f4 = next(row for uri, row in files.items() if uri.endswith("/f4.csv"))
    assert (f4["missing_columns"], f4["is_blocking"]) == ("user_email", True)
    assert "warn_export_file_problems" in builds["incremental_output"]


def test_extended_alias_list_applies_without_full_refresh(builds: dict) -> None:
    before, after = builds["full_refresh"], builds["extended_aliases"]
    assert [r["reason"] for r in before["sigma_rejected_impressions"] if r["_file_uri"].endswith("/f6.csv")] == [
        "missing_user_email"
    ]
    assert not [r for r in after["sigma_rejected_impressions"] if r["_file_uri"].endswith("/f6.csv")]
    assert _by(after["sigma_workbook_impressions"], "workbook_url_id")["WB_B"]["total_impressions_7d"] == 3 + 1
    assert "hal@x.com" in _by(after["sigma_user_activity"], "user_email")
    hal = [r for r in after["fct_sigma_impressions"] if r["user_email"] == "hal@x.com"]
    assert [(r["workbook_url_id"], r["impression_count"]) for r in hal] == [("WB_B", 1)]
    others = sorted(repr(r) for r in after["fct_sigma_impressions"] if r["user_email"] != "hal@x.com")
    assert others == sorted(repr(r) for r in before["fct_sigma_impressions"])


def test_the_accounting_test_fails_when_a_landed_row_goes_missing(builds: dict, tmp_path: Path) -> None:
    """assert_every_landed_record_accounted_for compares the manifest with the rows the models
    read (every build above passed it): a staging row that vanished (a broken incremental filter,
    say) fails it."""
    assert "assert_every_landed_record_accounted_for" in builds["incremental_output"]
    database = copy_database(builds["database"], tmp_path / "broken" / "warehouse.duckdb")
    select = ["--select", "assert_every_landed_record_accounted_for"]
    with duckdb.connect(str(database)) as con:
        con.execute(
            "delete from staging.stg_sigma__impression_rows where _file_uri like '%/f3.csv' and _file_row_number = 2"
        )
    failed = run_dbt(["test", *select], database, tmp_path / "dbt", vars=fx.VARS, check=False)
    assert failed.returncode == 1 and "FAIL 1 assert_every_landed_record_accounted_for" in failed.stdout


def test_before_any_load_the_build_says_to_load_first(tmp_path: Path) -> None:
    database = tmp_path / "never_loaded.duckdb"
    result = run_dbt(
        ["run", "--select", "stg_sigma__impression_rows"], database, tmp_path / "dbt", vars=fx.VARS, check=False
    )
    assert result.returncode != 0
    assert "run `sigma-impressions load` first" in result.stdout


def test_raw_table_without_header_columns_builds_empty_marts(tmp_path: Path) -> None:
    """Only an empty export was loaded: no header column exists; every mart builds, empty or zero."""
    database = tmp_path / "empty.duckdb"
    exports = ExportDir(tmp_path / "exports")
    exports.write("empty.csv", b"")
    fx.load(exports, database)
    fx.create_inventory(database)
    run_dbt(["build", *fx.NO_UNIT], database, tmp_path / "dbt", vars=fx.VARS)
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_sigma_impressions").fetchall() == [(0,)]
        workbooks = con.execute(
            "select workbook_url_id, total_impressions_90d, used, has_enough_history, is_stale "
            "from marts.sigma_workbook_impressions order by workbook_url_id"
        ).fetchall()
    assert workbooks == [
        ("WB_A", 0, [], False, False),
        ("WB_B", 0, [], False, False),
        ("WB_NEW", 0, [], False, False),
    ]
