"""`dbt source freshness` on sigma_raw.loaded_files: warn past 36 hours, error past 7 days.

The manifest table is created with the loader's own DDL in a fresh DuckDB file and holds export
files whose newest `last_modified` is a given age before now; dbt's verdict is read through
sigma_impressions.dbt_runner (what `run` and `check` use) and from sources.json, and the
thresholds move with vars.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from loader.landing import DDL
from sigma_impressions.dbt_runner import DbtOptions, run_source_freshness
from tests.helpers.dbt_project import run_dbt

pytestmark = pytest.mark.dbt

HOUR = timedelta(hours=1)


def _manifest_db(path: Path, newest_age: timedelta) -> Path:
    """A DuckDB file whose loaded_files' newest last_modified is `newest_age` ago (an older file too)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    con = duckdb.connect(str(path))
    try:
        con.execute(DDL)
        files = (("old.csv", newest_age + 30 * 24 * HOUR, "loaded"), ("new.csv", newest_age, "failed"))
        for name, age, status in files:
            con.execute(
                "insert into sigma_raw.loaded_files (file_uri, etag, size_bytes, last_modified, headers, "
                "rows_loaded, rows_rejected, status, error, loaded_at, integration_name) "
                "values (?, 'e', 1, ?, ['request_time'], 0, 0, ?, null, ?, 'test')",
                [f"file:///exports/{name}", now - age, status, now],
            )
    finally:
        con.close()
    return path


def test_the_thresholds_reach_dbt(tmp_path: Path) -> None:
    database = _manifest_db(tmp_path / "fresh.duckdb", 37 * HOUR)
    run_dbt(
        ["source", "freshness", "--select", "source:sigma_raw.loaded_files"],
        database=database,
        work_dir=tmp_path / "dbt",
        check=False,
    )
    (result,) = json.loads((tmp_path / "dbt" / "target" / "sources.json").read_text())["results"]
    assert result["unique_id"] == "source.sigma_impressions.sigma_raw.loaded_files"
    assert result["status"] == "warn"
    assert result["criteria"]["warn_after"] == {"count": 36, "period": "hour"}
    assert result["criteria"]["error_after"] == {"count": 7, "period": "day"}
    # The newest file counts even when it failed to load: it shows the export still writes.
    assert abs(result["max_loaded_at_time_ago_in_s"] - (37 * HOUR).total_seconds()) < 600


def test_freshness_thresholds_come_from_vars(tmp_path: Path) -> None:
    database = _manifest_db(tmp_path / "fresh.duckdb", 13 * HOUR)
    variables = json.dumps({"sigma_freshness_warn_after_hours": 12, "sigma_freshness_error_after_days": 30})
    options = DbtOptions(str(database), vars=variables, target_path=tmp_path / "target", log_path=tmp_path / "logs")
    assert run_source_freshness(options).status == "warn"


@pytest.mark.parametrize(("days", "status"), [(3.2, "warn"), (8.0, "error")])
def test_run_source_freshness_reads_dbts_verdict(tmp_path: Path, days: float, status: str) -> None:
    database = _manifest_db(tmp_path / "stale.duckdb", timedelta(days=days))
    options = DbtOptions(database=str(database), target_path=tmp_path / "target", log_path=tmp_path / "logs")
    freshness = run_source_freshness(options)
    assert freshness.status == status
    assert freshness.is_error == (status == "error")
    assert freshness.line() == f"newest export file is {days:.1f} days old: is Sigma's export schedule running?"


def test_run_source_freshness_before_any_load(tmp_path: Path) -> None:
    options = DbtOptions(
        database=str(tmp_path / "empty.duckdb"), target_path=tmp_path / "target", log_path=tmp_path / "logs"
    )
    freshness = run_source_freshness(options)
    assert freshness.status == "unknown"
    assert "run `sigma-impressions load` first" in freshness.line()


def test_run_source_freshness_with_no_export_file_loaded(tmp_path: Path) -> None:
    database = tmp_path / "landed.duckdb"
    con = duckdb.connect(str(database))
    con.execute(DDL)  # the loader ran, but the prefix held no export file
    con.close()
    options = DbtOptions(database=str(database), target_path=tmp_path / "target", log_path=tmp_path / "logs")
    freshness = run_source_freshness(options)
    assert (freshness.status, freshness.age, freshness.newest_at) == ("error", None, None)
    assert freshness.line() == "no export file has been loaded yet: is Sigma's export schedule running?"
