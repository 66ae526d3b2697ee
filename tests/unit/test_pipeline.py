"""pipeline.run: the typed step orchestrators call; the CLI's `run` prints what it returns."""

from __future__ import annotations

from dataclasses import replace
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


def test_settings_choose_the_published_snapshot_option_then_env_then_default(tmp_path: Path) -> None:
    base = {"bucket_uri": f"file://{tmp_path}", "database": str(tmp_path / "w.duckdb")}
    assert RunSettings.from_options(base, env={}).published_database == "warehouse/sigma_impressions_marts.duckdb"
    env = {"SIGMA_IMPRESSIONS_PUBLISHED_PATH": str(tmp_path / "env.duckdb")}
    assert RunSettings.from_options(base, env=env).published_database == str(tmp_path / "env.duckdb")
    option = {**base, "published_database": str(tmp_path / "opt.duckdb")}
    assert RunSettings.from_options(option, env=env).published_database == str(tmp_path / "opt.duckdb")
    with pytest.raises(ConfigError, match=r"--published-database: .*must not be the working database"):
        RunSettings.from_options({**base, "published_database": base["database"]}, env={})
    with pytest.raises(ConfigError, match="--published-database: name the published database something other"):
        RunSettings.from_options({**base, "published_database": str(tmp_path / "marts.duckdb")}, env={})


def test_a_failed_build_publishes_nothing_and_the_snapshot_stays(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "a.csv").write_text("request_time,user_email,workbook_url_id\n2026-11-20 10:00:00,a@x.com,wb\n")
    snapshot = tmp_path / "snap.duckdb"
    snapshot.write_bytes(b"the previous snapshot")
    settings = RunSettings.from_options(
        {
            "bucket_uri": f"file://{exports}",
            "database": str(tmp_path / "w.duckdb"),
            "published_database": str(snapshot),
        },
        env={},
    )
    no_project = replace(settings.dbt, project_dir=tmp_path, target_path=tmp_path / "t", log_path=tmp_path / "l")
    steps: list[str] = []
    result = run(replace(settings, dbt=no_project), on_step=lambda step, r: steps.append(step))
    assert steps == ["load", "dbt", "freshness"]  # no publish step; the exports' age is still told
    assert result.load is not None and result.load.ok
    assert result.dbt is not None and not result.dbt.ok
    assert (result.publish, result.exit_code) == (None, EXIT_FAILED)
    assert snapshot.read_bytes() == b"the previous snapshot"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("snap")) == ["snap.duckdb"]
