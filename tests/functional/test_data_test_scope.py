"""The data tests' scope on a real DuckDB file: rows written since the last build whose data tests all passed.

One small export, the demo inventory seeds, default vars (sigma_data_test_days 0). A bad row is
planted in int_sigma__impressions_per_file (impression_id NULL, checked by the model's sigma_not_null test scoped
with `sigma_recent(_loaded_at)`): written before the watermark it is out of scope; written after
it, the test fails and the watermark stays, so the next run checks it again; whole tables
(sigma_data_test_days null) always see it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from loader.config import build_config
from loader.landing import run_load
from tests.helpers.dbt_project import run_dbt
from tests.helpers.exports import ExportDir

AS_OF = "2026-03-31"
NO_UNIT = ["--exclude-resource-type", "unit_test"]
EXPORT = (
    "request_time,user_email,workbook_url_id,element_id,count\n"
    "2026-03-30 10:00:00,ann@x.com,WB_A,E1,2\n"
    "2026-03-31 11:00:00,bob@x.com,WB_A,,1\n"
)
PER_FILE = "intermediate.int_sigma__impressions_per_file"
WATERMARK = "main.sigma_data_test_watermark"


def _watermark(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"select tested_through, parse_signature from {WATERMARK}").fetchall()


def _plant_bad_row(database: Path, loaded_at: datetime) -> None:
    """A copy of a per-file row with impression_id NULL, stamped as written at `loaded_at` (UTC)."""
    with duckdb.connect(str(database)) as con:
        con.execute(
            f"insert into {PER_FILE} "
            f"select * replace (null as impression_id, $at as _loaded_at) from {PER_FILE} limit 1",
            {"at": loaded_at.replace(tzinfo=None)},
        )


def _failed(output: str) -> bool:
    return "sigma_not_null_int_sigma__impressions_per_file_" in output and "FAIL 1" in output


def test_data_tests_check_rows_written_since_the_last_passing_build(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    exports = ExportDir(tmp_path / "exports")
    exports.write("a.csv", EXPORT)
    summary = run_load(build_config({"bucket_uri": exports.uri, "database": str(database), "days_back": "6"}))
    assert summary.ok
    work = tmp_path / "dbt"
    variables = {"as_of_date": AS_OF}

    before = datetime.now(UTC)
    run_dbt(["build", *NO_UNIT], database, work, vars=variables)
    first = _watermark(database)
    assert len(first) == 1 and first[0][1]
    assert before.replace(tzinfo=None) - timedelta(seconds=5) <= first[0][0] <= datetime.now(UTC).replace(tzinfo=None)

    # Written before the watermark (already checked by a passing build): out of scope.
    _plant_bad_row(database, first[0][0] - timedelta(minutes=1))
    passed = run_dbt(["test", *NO_UNIT], database, work, vars=variables)
    assert not _failed(passed.stdout)
    second = _watermark(database)
    assert second[0][0] > first[0][0]  # every data test ran and passed: the watermark moves

    # Whole tables see it (and a failed run leaves the watermark).
    whole = run_dbt(["test", *NO_UNIT], database, work, vars={**variables, "sigma_data_test_days": None}, check=False)
    assert whole.returncode != 0 and _failed(whole.stdout)
    assert _watermark(database) == second

    # Written after the watermark: checked, and checked again by the next run until it passes.
    with duckdb.connect(str(database)) as con:
        con.execute(f"delete from {PER_FILE} where impression_id is null")
    _plant_bad_row(database, datetime.now(UTC))
    for _ in range(2):
        failing = run_dbt(["test", *NO_UNIT], database, work, vars=variables, check=False)
        assert failing.returncode != 0 and _failed(failing.stdout)
        assert _watermark(database) == second

    # Fixed: the run passes and the watermark moves past it.
    with duckdb.connect(str(database)) as con:
        con.execute(f"delete from {PER_FILE} where impression_id is null")
    run_dbt(["test", *NO_UNIT], database, work, vars=variables)
    assert _watermark(database)[0][0] > second[0][0]


def test_a_partial_build_leaves_the_watermark(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    exports = ExportDir(tmp_path / "exports")
    exports.write("a.csv", EXPORT)
    assert run_load(build_config({"bucket_uri": exports.uri, "database": str(database), "days_back": "6"})).ok
    work = tmp_path / "dbt"
    run_dbt(["build", *NO_UNIT], database, work, vars={"as_of_date": AS_OF})
    first = _watermark(database)
    # Only some data tests run: the rows this build wrote stay in scope for the next one.
    run_dbt(["build", *NO_UNIT, "--select", "stg_sigma__impression_rows"], database, work, vars={"as_of_date": AS_OF})
    assert _watermark(database) == first
