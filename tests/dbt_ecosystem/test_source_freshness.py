"""`dbt source freshness` on sigma_raw.loaded_files: warn past 36 hours, error past 7 days.

The manifest table is created with the loader's own DDL in a fresh DuckDB file and holds export
files whose newest `last_modified` is a given age before now; dbt's verdict is read from
sources.json. Ages sit an hour either side of each threshold, and the thresholds move with vars.
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


def _freshness(tmp_path: Path, newest_age: timedelta, vars: dict | None = None) -> dict:
    database = _manifest_db(tmp_path / "fresh.duckdb", newest_age)
    run_dbt(
        ["source", "freshness", "--select", "source:sigma_raw.loaded_files"],
        database=database,
        work_dir=tmp_path / "dbt",
        vars=vars,
        check=False,
    )
    results = json.loads((tmp_path / "dbt" / "target" / "sources.json").read_text())["results"]
    assert [r["unique_id"] for r in results] == ["source.sigma_impressions.sigma_raw.loaded_files"]
    return results[0]


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (35 * HOUR, "pass"),
        (37 * HOUR, "warn"),
        (7 * 24 * HOUR - HOUR, "warn"),
        (7 * 24 * HOUR + HOUR, "error"),
    ],
    ids=["35h", "37h", "7d-1h", "7d+1h"],
)
def test_freshness_thresholds(tmp_path: Path, age: timedelta, expected: str) -> None:
    result = _freshness(tmp_path, age)
    assert result["status"] == expected
    assert result["criteria"]["warn_after"] == {"count": 36, "period": "hour"}
    assert result["criteria"]["error_after"] == {"count": 7, "period": "day"}
    # The newest file counts even when it failed to load: it shows the export still writes.
    assert abs(result["max_loaded_at_time_ago_in_s"] - age.total_seconds()) < 600


def test_freshness_thresholds_come_from_vars(tmp_path: Path) -> None:
    result = _freshness(
        tmp_path,
        13 * HOUR,
        vars={"sigma_freshness_warn_after_hours": 12, "sigma_freshness_error_after_days": 30},
    )
    assert result["status"] == "warn"
    assert result["criteria"]["warn_after"] == {"count": 12, "period": "hour"}
    assert result["criteria"]["error_after"] == {"count": 30, "period": "day"}


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
