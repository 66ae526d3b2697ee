"""profiles.yml: DuckDB's memory_limit, threads and spill directory come from the environment,
and the defaults fit a 2 GiB worker."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from tests.helpers.dbt_project import REPO, run_dbt

SETTINGS_SQL = (
    "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
    "current_setting('temp_directory') as temp_directory"
)
ENV_VARS = (
    "SIGMA_IMPRESSIONS_DUCKDB_MEMORY_LIMIT",
    "SIGMA_IMPRESSIONS_DBT_THREADS",
    "SIGMA_IMPRESSIONS_DUCKDB_THREADS",
    "SIGMA_IMPRESSIONS_DUCKDB_TEMP_DIR",
)


def _duckdb_says(memory_limit: str) -> str:
    """How DuckDB itself reports a memory_limit value (e.g. '512MB' -> '488.2 MiB')."""
    with duckdb.connect() as con:
        con.execute(f"set memory_limit = '{memory_limit}'")
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


def _rendered_profile(environment: dict[str, str]) -> dict:
    """The duckdb output of profiles.yml as dbt renders it in `environment`."""
    from dbt.config.profile import read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    set_invocation_context(environment)
    return ProfileRenderer({}).render_data(read_profile(str(REPO))["sigma_impressions"]["outputs"]["duckdb"])


def test_defaults_fit_a_2_gib_worker() -> None:
    profile = _rendered_profile({k: v for k, v in os.environ.items() if k not in ENV_VARS})
    assert profile["settings"]["memory_limit"] == "1GB"  # with dbt's own ~300 MiB: within 2 GiB
    assert (profile["threads"], profile["settings"]["threads"]) == (1, 2)
    assert profile["config_options"]["temp_directory"] == profile["path"] + ".tmp"  # spills beside the file
    assert profile["config_options"]["autoinstall_known_extensions"] is False


@pytest.mark.dbt
def test_dbt_applies_memory_threads_and_spill_directory_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spill = tmp_path / "spill"
    monkeypatch.setenv("SIGMA_IMPRESSIONS_DUCKDB_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("SIGMA_IMPRESSIONS_DUCKDB_THREADS", "1")
    monkeypatch.setenv("SIGMA_IMPRESSIONS_DUCKDB_TEMP_DIR", str(spill))
    result = run_dbt(
        ["show", "--inline", SETTINGS_SQL, "--output", "json", "--log-format", "text"],
        tmp_path / "settings.duckdb",
        tmp_path / "dbt",
    )
    settings = json.loads(result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1])["show"][0]
    assert settings["memory_limit"] == _duckdb_says("512MB")
    assert str(settings["threads"]) == "1"
    assert settings["temp_directory"] == str(spill)
