"""The singular consistency tests fail on the faults they exist for, on a real DuckDB file.

Two overlapping exports (the same event in both, the later file wins), a full build, then one
fault planted at a time in a copy of the built database, and the test that owns it run: it must
fail, and pass on the untouched copy. Each fault is checked in both scopes of a data test: whole
tables, and the rows written since the data-test watermark (a daily build's scope: the rows are
then stamped as written after the watermark, which the build recorded).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from loader.config import build_config
from loader.landing import run_load
from tests.helpers.dbt_project import run_dbt
from tests.helpers.exports import ExportDir

AS_OF = "2026-03-31"
WHOLE_TABLES = {"as_of_date": AS_OF, "sigma_data_test_days": None}
SINCE_WATERMARK = {"as_of_date": AS_OF}
SCOPES = {"whole-tables": WHOLE_TABLES, "since-watermark": SINCE_WATERMARK}
NO_UNIT = ["--exclude-resource-type", "unit_test"]
EARLY = (
    "request_time,user_email,workbook_url_id,element_id,count\n"
    "2026-03-30 10:00:00,ann@x.com,WB_A,E1,2\n"
    "2026-03-31 11:00:00,bob@x.com,WB_A,,1\n"
)
LATE = (
    "request_time,user_email,workbook_url_id,element_id,count\n"
    "2026-03-30 10:00:00,ann@x.com,WB_A,E1,5\n"
    "2026-03-29 09:00:00,cy@x.com,WB_A,E2,1\n"
)
ROLLUP = "intermediate.int_sigma__impressions_daily"
EVENTS = "intermediate.int_sigma__impressions_deduplicated"
PER_FILE = "intermediate.int_sigma__impressions_per_file"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("consistency")
    database = root / "warehouse.duckdb"
    exports = ExportDir(root / "exports")
    exports.write("early.csv", EARLY, age=timedelta(hours=2))
    exports.write("late.csv", LATE)
    assert run_load(build_config({"bucket_uri": exports.uri, "database": str(database), "days_back": "6"})).ok
    run_dbt(["build", *NO_UNIT], database, root / "dbt", vars={"as_of_date": AS_OF})
    return database


def _change_a_count(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"update {ROLLUP} set impressions = impressions + 1 where user_email = 'ann@x.com'")


def _drop_a_group(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"delete from {ROLLUP} where user_email = 'cy@x.com'")


def _add_a_group(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"insert into {ROLLUP} select * replace ('zed@x.com' as user_email) from {ROLLUP} limit 1")


def _earlier_file_wins(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"update {EVENTS} set impression_count = 2, _file_uri = (select _file_uri from {PER_FILE} "
        f"where impression_count = 2) where user_email = 'ann@x.com'"
    )


def _winner_count_differs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"update {EVENTS} set impression_count = 7 where user_email = 'ann@x.com'")


def _key_without_event(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"delete from {EVENTS} where user_email = 'cy@x.com'")


FAULTS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = [
    ("assert_rollup_matches_fct", _change_a_count),
    ("assert_rollup_matches_fct", _drop_a_group),
    ("assert_rollup_matches_fct", _add_a_group),
    ("assert_fct_winner_is_latest_file", _earlier_file_wins),
    ("assert_fct_winner_is_latest_file", _winner_count_differs),
    ("assert_fct_winner_is_latest_file", _key_without_event),
]


def _stamp_written_after_watermark(con: duckdb.DuckDBPyConnection) -> None:
    (watermark,) = con.execute("select max(tested_through) from main.sigma_data_test_watermark").fetchone()
    assert watermark is not None, "the build recorded no data-test watermark"
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    assert later > watermark
    con.execute(f"update {EVENTS} set _deduplicated_at = ?", [later])
    con.execute(f"update {PER_FILE} set _loaded_at = ?", [later])


def _test(database: Path, work: Path, name: str, scope: dict) -> int:
    result = run_dbt(["test", "--select", name], database, work, vars=scope, check=False)
    return result.returncode


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize(("test_name", "plant"), FAULTS, ids=[f"{t}-{f.__name__}" for t, f in FAULTS])
def test_consistency_test_fails_on_its_fault(
    built: Path, tmp_path: Path, test_name: str, plant: Callable[[duckdb.DuckDBPyConnection], None], scope: str
) -> None:
    # The same file name: the views name their database by it (DuckDB's catalog is the file's stem).
    database = tmp_path / built.name
    shutil.copyfile(built, database)
    if scope == "since-watermark":
        with duckdb.connect(str(database)) as con:
            _stamp_written_after_watermark(con)
    assert _test(database, tmp_path / "clean", test_name, SCOPES[scope]) == 0
    with duckdb.connect(str(database)) as con:
        plant(con)
    assert _test(database, tmp_path / "faulty", test_name, SCOPES[scope]) != 0
