"""The same marts on Spark and on DuckDB: exports -> the lake loader (file://) -> `dbt build --target
spark` (dbt-spark, method session, a local Spark) -> the marts read back from <lake>/marts/<mart>/.

The demo exports and the dbt model tests' fixture exports (tests/helpers/fixture_exports.py:
overlapping files, a changed file, a file emptied, headers no alias knows, a raw audit log, the
largest counts) are landed twice, in the same order and in two loads: into the lake and into a
DuckDB file. The demo is written as of the fixtures' report date, so one date fills the windows
with both. Three builds with the inventory from the seeds: DuckDB on its own file, DuckDB reading
the lake (vars.sigma_lake_uri), Spark reading the lake. Every mart of models/marts/ must be the
same, row for row and column for column (`used` included): Spark's as DuckDB's on the lake, and
DuckDB's on the lake as on its own file but for the landing times. Needs the `spark` extra
(`make test-spark`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from loader.config import build_config
from loader.landing import run_load
from sigma_impressions.demo import write_demo
from tests.helpers import fixture_exports as fx
from tests.helpers.dbt_project import REPO, run_dbt
from tests.helpers.exports import ExportDir

pytestmark = pytest.mark.spark

MARTS = sorted(path.stem for path in (REPO / "models" / "marts").glob("*.sql"))
LANDING_TIMES = {"_loaded_at", "loaded_at"}  # when each landing ran: its own in each destination
# The fixtures' report date; the demo and the loads run at its evening.
NOW = datetime.fromisoformat(fx.AS_OF).replace(hour=18, tzinfo=UTC)
VARS = {
    "as_of_date": fx.AS_OF,
    "sigma_inventory_source": "seeds",
    "sigma_excluded_users": ["*@svc.acme.example"],  # the demo's service account: excluded rows too
}


def _land_everywhere(exports: ExportDir, lake_uri: str, database: Path) -> None:
    options = {"bucket_uri": exports.uri, "database": str(database), "days_back": "6"}
    lake = run_load(build_config({**options, "lake_uri": lake_uri}, env={}), now=NOW)
    assert lake.ok, [r.error for r in lake.results]
    duck = run_load(build_config(options, env={}), now=NOW)
    assert duck.ok, [r.error for r in duck.results]
    assert (lake.count("loaded"), lake.rows_loaded, lake.rows_rejected) == (
        duck.count("loaded"),
        duck.rows_loaded,
        duck.rows_rejected,
    )


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("spark_marts")
    lake_uri = f"file://{root / 'lake'}"
    own_file, lake_file = root / "landed.duckdb", root / "lake_reader.duckdb"
    exports = ExportDir(root / "exports")
    write_demo(exports.root / "demo", now=NOW)
    fixtures = ExportDir(exports.root / "fixtures")
    fx.write_first(fixtures)
    _land_everywhere(exports, lake_uri, own_file)
    # Second load: a changed file replaces its earlier version, an emptied one loses its rows.
    fx.write_second(fixtures)
    _land_everywhere(exports, lake_uri, own_file)

    lake_env = {"SIGMA_IMPRESSIONS_LAKE_URI": lake_uri}
    run_dbt(["build", *fx.NO_UNIT], own_file, root / "dbt_own", vars=VARS, env={"SIGMA_IMPRESSIONS_LAKE_URI": ""})
    run_dbt(["build", *fx.NO_UNIT], lake_file, root / "dbt_lake", vars=VARS, env=lake_env)
    spark = run_dbt(
        ["build"],
        root / "unused.duckdb",
        root / "dbt_spark",
        vars=VARS,
        target="spark",
        env={**lake_env, "SIGMA_IMPRESSIONS_SPARK_WAREHOUSE": str(root / "spark_warehouse")},
        timeout=1500,
    )
    return {"lake": root / "lake", "own": own_file, "lake_file": lake_file, "spark_output": spark.stdout}


def _duckdb_mart(database: Path, mart: str) -> tuple[list[str], list[str], list[tuple]]:
    """Column names, DuckDB types and the sorted rows of a mart in a DuckDB file."""
    with duckdb.connect(str(database), read_only=True) as con:
        described = con.execute(f"describe marts.{mart}").fetchall()
        rows = con.execute(f"select * from marts.{mart}").fetchall()
    return [row[0] for row in described], [row[1] for row in described], sorted(rows, key=repr)


def _spark_mart(lake: Path, mart: str, names: list[str], types: list[str]) -> tuple[list[str], list[tuple]]:
    """A Spark mart read from its Parquet files in <lake>/marts/<mart>/, cast to DuckDB's types
    (Spark writes UTC-adjusted timestamps: the session time zone is UTC for the casts)."""
    folder = lake / "marts" / mart
    assert any(folder.glob("*.parquet")), f"no Parquet files in {folder}"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        spark_names = con.sql(f"select * from read_parquet('{folder}/*.parquet')").columns
        casts = ", ".join(f'cast("{n}" as {t}) as "{n}"' for n, t in zip(names, types, strict=True))
        rows = con.execute(f"select {casts} from read_parquet('{folder}/*.parquet')").fetchall()
    return spark_names, sorted(rows, key=repr)


def _without_landing_times(names: list[str], rows: list[tuple]) -> list[tuple]:
    kept = [i for i, name in enumerate(names) if name not in LANDING_TIMES]
    return sorted((tuple(row[i] for i in kept) for row in rows), key=repr)


def test_spark_build_passes_with_the_data_warnings(builds: dict) -> None:
    output = builds["spark_output"]
    assert "ERROR=0" in output
    assert "warn_rejected_impressions" in output and "warn_export_file_problems" in output


@pytest.mark.parametrize("mart", MARTS)
def test_spark_mart_equals_duckdb_reading_the_same_lake(builds: dict, mart: str) -> None:
    names, types, duck_rows = _duckdb_mart(builds["lake_file"], mart)
    spark_names, spark_rows = _spark_mart(builds["lake"], mart, names, types)
    assert spark_names == names
    assert duck_rows, f"{mart} is empty: the comparison would prove nothing"
    assert spark_rows == duck_rows


@pytest.mark.parametrize("mart", MARTS)
def test_duckdb_on_the_lake_equals_duckdb_on_its_own_file(builds: dict, mart: str) -> None:
    names, types, lake_rows = _duckdb_mart(builds["lake_file"], mart)
    own_names, own_types, own_rows = _duckdb_mart(builds["own"], mart)
    assert (own_names, own_types) == (names, types)
    assert _without_landing_times(names, own_rows) == _without_landing_times(names, lake_rows)


def test_windows_hold_the_demo_and_the_fixture_events(builds: dict) -> None:
    names, _types, rows = _duckdb_mart(builds["lake_file"], "sigma_user_activity")
    by_user = {row[names.index("user_email")]: row for row in rows}
    assert by_user["ann@x.com"][names.index("impressions_7d")] > 0  # a fixture user
    assert sum(row[names.index("impressions_7d")] for row in rows) > by_user["ann@x.com"][names.index("impressions_7d")]


def test_used_lists_are_compared(builds: dict) -> None:
    names, _types, rows = _duckdb_mart(builds["lake_file"], "sigma_workbook_impressions")
    used = [row[names.index("used")] for row in rows]
    assert any(len(entries) > 1 for entries in used), "the demo must give a workbook several users"
    assert any(entries == [] for entries in used), "and one workbook nobody opened"


def test_marts_live_under_the_lake(builds: dict) -> None:
    assert sorted(p.name for p in (builds["lake"] / "marts").iterdir() if p.is_dir()) == MARTS
    assert not any(name.startswith(".") for name in os.listdir(builds["lake"] / "impression_rows"))
