"""DbtOptions: validated before any I/O, turned into a dbt command line; summaries of results."""

from __future__ import annotations

import argparse
import json
import os

import pytest

from loader.config import ConfigError
from sigma_impressions.dbt_runner import DATABASE_ENV, DbtOptions, profile_environment, summarize


def _args(**values: object) -> argparse.Namespace:
    base = {"target": None, "vars": None, "as_of_date": None, "select": None}
    base.update(values)
    return argparse.Namespace(**base)


def test_defaults_build_the_project_with_no_extra_flags(tmp_path) -> None:
    options = DbtOptions.from_args(_args(), database="warehouse/x.duckdb")
    argv = options.args()
    assert argv[0] == "build"
    assert argv[argv.index("--project-dir") + 1] == argv[argv.index("--profiles-dir") + 1]
    assert "--vars" not in argv and "--target" not in argv and "--select" not in argv


def test_vars_as_of_date_target_select() -> None:
    options = DbtOptions.from_args(
        _args(vars="{as_of_date: 2026-11-01, sigma_stale_after_days: 45}", target="prod", select="marts"),
        database="db.duckdb",
    )
    assert json.loads(options.vars) == {"as_of_date": "2026-11-01", "sigma_stale_after_days": 45}
    argv = options.args()
    assert argv[argv.index("--target") + 1] == "prod"
    assert argv[argv.index("--select") + 1] == "marts"
    # --as-of-date wins over the var
    options = DbtOptions.from_args(_args(vars="as_of_date: 2026-11-01", as_of_date="2026-11-25"), "db")
    assert json.loads(options.vars)["as_of_date"] == "2026-11-25"


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"vars": "{as_of_date: [2026"}, "--vars must be a YAML mapping"),
        ({"vars": "- a\n- b"}, "--vars must be a YAML mapping"),
        ({"vars": "just text"}, "--vars must be a YAML mapping"),
        ({"as_of_date": "2026-13-01"}, "--as-of-date must be a date written YYYY-MM-DD"),
        ({"as_of_date": "26-11-2026"}, "--as-of-date must be a date written YYYY-MM-DD"),
        ({"as_of_date": "2026-02-30"}, "--as-of-date must be a date written YYYY-MM-DD"),
        ({"as_of_date": "2026-11-25T00:00"}, "--as-of-date must be a date written YYYY-MM-DD"),
        ({"vars": "{as_of_date: yesterday}"}, "--vars as_of_date must be a date written YYYY-MM-DD"),
    ],
)
def test_bad_values_raise_one_line(values: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DbtOptions.from_args(_args(**values), database="db.duckdb")
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_cli_run_rejects_bad_dbt_options_before_loading(tmp_path, capsys) -> None:
    from sigma_impressions.cli import main

    exports = tmp_path / "exports"
    database = tmp_path / "db.duckdb"
    code = main(["run", "--bucket-uri", f"file://{exports}", "--database", str(database), "--as-of-date", "2026-1-1"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "YYYY-MM-DD" in err[0]
    assert not database.exists()  # nothing was opened


def test_database_env_is_set_for_the_call_only(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(DATABASE_ENV, "before.duckdb")
    with profile_environment(str(tmp_path / "x.duckdb"), tmp_path):
        assert os.environ[DATABASE_ENV] == str(tmp_path / "x.duckdb")
        assert os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert os.environ[DATABASE_ENV] == "before.duckdb"


def test_summarize_statuses() -> None:
    counts = summarize(["success", "pass", "pass", "warn", "error", "fail", "skipped", "no-op"])
    assert counts == {"passed": 4, "warnings": 1, "errors": 2, "skipped": 1}


def test_a_build_that_cannot_start_is_one_line(tmp_path) -> None:
    from pathlib import Path

    from sigma_impressions.dbt_runner import run_dbt_build

    options = DbtOptions(
        database=str(tmp_path / "x.duckdb"),
        project_dir=Path(tmp_path),  # no dbt_project.yml here
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    ok, message = run_dbt_build(options)
    assert not ok
    assert message.startswith("dbt build: did not run:")
    assert "dbt_project.yml" in message and "\n" not in message


def test_the_daily_run_leaves_unit_tests_to_make_test(tmp_path) -> None:
    daily = DbtOptions(database=str(tmp_path / "x.duckdb")).args()
    assert daily[-2:] == ["--exclude-resource-type", "unit_test"]
    everything = DbtOptions(database=str(tmp_path / "x.duckdb"), unit_tests=True).args()
    assert "--exclude-resource-type" not in everything
    freshness = DbtOptions(database=str(tmp_path / "x.duckdb")).args(("source", "freshness"))
    assert "--exclude-resource-type" not in freshness
