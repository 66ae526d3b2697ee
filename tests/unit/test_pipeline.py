"""pipeline.run: the typed step orchestrators call; the CLI's `run` prints what it returns."""

from __future__ import annotations

from pathlib import Path

import pytest

from loader.config import ConfigError
from sigma_impressions.pipeline import EXIT_FAILED, RunResult, RunSettings, run


def test_settings_validate_load_and_dbt_options_before_any_io(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--days-back"):
        RunSettings.from_options({"bucket_uri": f"file://{tmp_path}", "days_back": "9"}, env={})
    with pytest.raises(ConfigError, match="--as-of-date"):
        RunSettings.from_options({"bucket_uri": f"file://{tmp_path}", "as_of_date": "2026-13-01"}, env={})
    settings = RunSettings.from_options(
        {"bucket_uri": f"file://{tmp_path}", "database": str(tmp_path / "w.duckdb"), "as_of_date": "2026-11-25"},
        env={},
    )
    assert settings.dbt.database == settings.load.database == str(tmp_path / "w.duckdb")
    assert settings.dbt.vars == '{"as_of_date": "2026-11-25"}'


def test_a_failed_listing_stops_before_dbt_with_one_line_errors(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "exports.csv"
    not_a_folder.write_text("x")
    settings = RunSettings.from_options(
        {"bucket_uri": f"file://{not_a_folder}", "database": str(tmp_path / "w.duckdb")}, env={}
    )
    steps: list[tuple[str, int]] = []
    result = run(settings, on_step=lambda step, r: steps.append((step, len(r.errors))))
    assert isinstance(result, RunResult)
    assert (result.load, result.dbt, result.exit_code, result.ok) == (None, None, EXIT_FAILED, False)
    assert "is not a folder" in result.errors[0]
    assert result.errors[1] == "load failed: dbt build not started"
    assert steps == [("load", 2)]
