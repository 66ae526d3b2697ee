"""profiles.yml: DuckDB's memory_limit, threads and spill directory come from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.helpers.dbt_project import run_dbt

ENV_VARS = (
    "SIGMA_IMPRESSIONS_DUCKDB_MEMORY_LIMIT",
    "SIGMA_IMPRESSIONS_DBT_THREADS",
    "SIGMA_IMPRESSIONS_DUCKDB_THREADS",
    "SIGMA_IMPRESSIONS_DUCKDB_TEMP_DIR",
)
SETTINGS_SQL = (
    "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
    "current_setting('temp_directory') as temp_directory"
)


def _duckdb_says(memory_limit: str) -> str:
    """How DuckDB itself reports a memory_limit value (e.g. '512MB' -> '488.2 MiB')."""
    with duckdb.connect() as con:
        con.execute(f"set memory_limit = '{memory_limit}'")
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


def _settings(tmp_path: Path) -> dict:
    database = tmp_path / "settings.duckdb"
    result = run_dbt(
        ["show", "--inline", SETTINGS_SQL, "--output", "json", "--log-format", "text"], database, tmp_path / "dbt"
    )
    start = result.stdout.index("{")
    return json.loads(result.stdout[start : result.stdout.rindex("}") + 1])["show"][0]


def test_memory_threads_and_spill_directory_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spill = tmp_path / "spill"
    monkeypatch.setenv("SIGMA_IMPRESSIONS_DUCKDB_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("SIGMA_IMPRESSIONS_DUCKDB_THREADS", "1")
    monkeypatch.setenv("SIGMA_IMPRESSIONS_DUCKDB_TEMP_DIR", str(spill))
    settings = _settings(tmp_path)
    assert settings["memory_limit"] == _duckdb_says("512MB")
    assert str(settings["threads"]) == "1"
    assert settings["temp_directory"] == str(spill)


def test_defaults_fit_a_2_gib_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    settings = _settings(tmp_path)
    assert settings["memory_limit"] == _duckdb_says("1GB")
    assert str(settings["threads"]) == "2"
    # Spills go beside the database file.
    assert settings["temp_directory"] == str((tmp_path / "settings.duckdb").resolve()) + ".tmp"
