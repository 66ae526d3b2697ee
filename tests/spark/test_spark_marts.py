"""The same marts on Spark and on DuckDB: exports -> the lake loader (file://) -> `dbt build --target
spark` (dbt-spark, method session, a local Spark) -> the marts read back from <lake>/marts/<mart>/.

The demo exports and the dbt model tests' fixture exports (overlapping files, a changed file, a
file emptied, headers no alias knows, the largest counts) are landed twice, in the same order: into
the lake and into a DuckDB file. Three builds: DuckDB on its own file, DuckDB reading the lake
(vars.sigma_lake_uri), Spark reading the lake. Every mart must be the same, row for row and column
for column (`used` included), with only `_loaded_at` (the landing time) differing between the two
landings. Needs the `spark` extra (`make test-spark`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from loader.config import build_config
from loader.landing import run_load
from sigma_impressions.demo import write_demo
from tests.functional import test_dbt_marts as fixtures
from tests.helpers.dbt_project import run_dbt
from tests.helpers.exports import ExportDir

pytestmark = pytest.mark.spark

MARTS = [
    "fct_sigma_impressions",
    "sigma_workbook_impressions",
    "sigma_element_impressions",
    "sigma_user_activity",
    "sigma_daily_impressions",
    "sigma_rejected_impressions",
    "sigma_unmatched_impressions",
]
NO_UNIT = ["--exclude-resource-type", "unit_test"]


def _land_everywhere(exports: ExportDir, lake_uri: str, database: Path) -> None:
    options = {"bucket_uri": exports.uri, "database": str(database), "days_back": "6"}
    lake = run_load(build_config({**options, "lake_uri": lake_uri}, env={}))
    assert lake.ok, [r.error for r in lake.results]
    duck = run_load(build_config(options, env={}))
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
    own_file = root / "landed.duckdb"
    exports = ExportDir(root / "exports")
    write_demo(exports.root / "demo")
    fixture_files = exports.root / "fixtures"
    fixture_dir = ExportDir(fixture_files)
    fixture_dir.write("f1.csv", fixtures.F1, age=timedelta(hours=5))
    fixture_dir.write("f2.csv", fixtures.F2, age=timedelta(hours=4))
    fixture_dir.write("f5.csv", fixtures.F5, age=timedelta(hours=4))
    _land_everywhere(exports, lake_uri, own_file)
    # Second load: a changed file replaces its earlier version, an emptied one loses its rows.
    fixture_dir.write("f2.csv", fixtures.F2_CHANGED, age=timedelta(hours=2))
    fixture_dir.write("f3.csv", fixtures.F3, age=timedelta(hours=1))
    fixture_dir.write("f4.csv", fixtures.F4, age=timedelta(hours=1))
    fixture_dir.write("f5.csv", fixtures.F5_EMPTIED, age=timedelta(hours=1))
    fixture_dir.write("f6.csv", fixtures.F6, age=timedelta(hours=1))
    _land_everywhere(exports, lake_uri, own_file)

    as_of = {"as_of_date": datetime.now(UTC).date().isoformat()}
    lake_env = {"SIGMA_IMPRESSIONS_LAKE_URI": lake_uri}
    run_dbt(["build", *NO_UNIT], own_file, root / "dbt_own", vars=as_of, env={"SIGMA_IMPRESSIONS_LAKE_URI": ""})
    lake_file = root / "lake_reader.duckdb"
    run_dbt(["build", *NO_UNIT], lake_file, root / "dbt_lake", vars=as_of, env=lake_env)
    spark = run_dbt(
        ["build"],
        root / "unused.duckdb",
        root / "dbt_spark",
        vars=as_of,
        target="spark",
        env={**lake_env, "SIGMA_IMPRESSIONS_SPARK_WAREHOUSE": str(root / "spark_warehouse")},
        timeout=1500,
    )
    # Spark's marts as of today, read now: the fixture-date run below rewrites them.
    today_marts = {}
    with duckdb.connect(str(lake_file), read_only=True) as con:
        for mart in MARTS:
            described = con.execute(f"describe marts.{mart}").fetchall()
            names, types = [row[0] for row in described], [row[1] for row in described]
            today_marts[mart] = _spark_mart(root / "lake", mart, names, types)
    built = {
        "today_spark": today_marts,
        "lake": root / "lake",
        "own": own_file,
        "lake_file": lake_file,
        "spark_output": spark.stdout,
    }
    # The fixtures' own report date, where their windows were checked by hand (tests/functional):
    # every model again on both engines.
    fixture_date = {"as_of_date": fixtures.AS_OF}
    fixture_file = root / "lake_reader_fixture_date.duckdb"
    run_dbt(["build", *NO_UNIT], fixture_file, root / "dbt_lake_fixture", vars=fixture_date, env=lake_env)
    spark_env = {**lake_env, "SIGMA_IMPRESSIONS_SPARK_WAREHOUSE": str(root / "spark_warehouse")}
    run_dbt(["run"], root / "unused.duckdb", root / "dbt_spark", vars=fixture_date, target="spark", env=spark_env)
    built["fixture_date_file"] = fixture_file
    return built


def _duckdb_mart(database: Path, mart: str) -> tuple[list[str], list[str], list[tuple]]:
    """Column names, DuckDB types and the sorted rows of a mart in a DuckDB file."""
    with duckdb.connect(str(database), read_only=True) as con:
        described = con.execute(f"describe marts.{mart}").fetchall()
        names = [row[0] for row in described]
        types = [row[1] for row in described]
        rows = con.execute(f"select * from marts.{mart}").fetchall()
    return names, types, sorted(rows, key=repr)


def _spark_mart(lake: Path, mart: str, names: list[str], types: list[str]) -> tuple[list[str], list[tuple]]:
    """A Spark mart read from its Parquet files in <lake>/marts/<mart>/, cast to DuckDB's types
    (Spark writes UTC-adjusted timestamps: the session time zone is UTC for the casts)."""
    folder = lake / "marts" / mart
    assert any(folder.glob("*.parquet")), f"no Parquet files in {folder}"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        relation = con.sql(f"select * from read_parquet('{folder}/*.parquet')")
        spark_names = relation.columns
        casts = ", ".join(f'cast("{n}" as {t}) as "{n}"' for n, t in zip(names, types, strict=True))
        rows = con.execute(f"select {casts} from read_parquet('{folder}/*.parquet')").fetchall()
    return spark_names, sorted(rows, key=repr)


def _without(names: list[str], rows: list[tuple], dropped: str) -> list[tuple]:
    if dropped not in names:
        return rows
    index = names.index(dropped)
    return sorted((row[:index] + row[index + 1 :] for row in rows), key=repr)


def test_spark_build_passes_with_the_data_warnings(builds: dict) -> None:
    output = builds["spark_output"]
    assert "ERROR=0" in output
    assert "warn_rejected_impressions" in output and "warn_missing_required_columns" in output


@pytest.mark.parametrize("mart", MARTS)
def test_spark_mart_equals_duckdb_reading_the_same_lake(builds: dict, mart: str) -> None:
    names, _types, duck_rows = _duckdb_mart(builds["lake_file"], mart)
    spark_names, spark_rows = builds["today_spark"][mart]
    assert spark_names == names
    assert duck_rows, f"{mart} is empty: the comparison would prove nothing"
    assert spark_rows == duck_rows


@pytest.mark.parametrize("mart", MARTS)
def test_spark_mart_equals_duckdb_on_its_own_file(builds: dict, mart: str) -> None:
    names, _types, duck_rows = _duckdb_mart(builds["own"], mart)
    _, spark_rows = builds["today_spark"][mart]
    assert _without(names, spark_rows, "_loaded_at") == _without(names, duck_rows, "_loaded_at")


@pytest.mark.parametrize("mart", MARTS)
def test_spark_mart_equals_duckdb_at_the_fixture_date(builds: dict, mart: str) -> None:
    names, types, duck_rows = _duckdb_mart(builds["fixture_date_file"], mart)
    spark_names, spark_rows = _spark_mart(builds["lake"], mart, names, types)
    assert spark_names == names
    assert spark_rows == duck_rows


def test_fixture_date_windows_hold_the_fixture_events(builds: dict) -> None:
    names, _types, rows = _duckdb_mart(builds["fixture_date_file"], "sigma_user_activity")
    by_user = {row[names.index("user_email")]: row for row in rows}
    assert by_user["ann@x.com"][names.index("impressions_7d")] > 0  # the fixtures' events count at their date


def test_used_lists_are_compared(builds: dict) -> None:
    names, _types, rows = _duckdb_mart(builds["lake_file"], "sigma_workbook_impressions")
    used = [row[names.index("used")] for row in rows]
    assert any(len(entries) > 1 for entries in used), "the demo must give a workbook several users"
    assert any(entries == [] for entries in used), "and one workbook nobody opened"


def test_marts_live_under_the_lake(builds: dict) -> None:
    assert sorted(p.name for p in (builds["lake"] / "marts").iterdir() if p.is_dir()) == sorted(MARTS)
    assert not any(name.startswith(".") for name in os.listdir(builds["lake"] / "impression_rows"))
