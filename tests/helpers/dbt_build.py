"""Run `dbt build` on a DuckDB file from a test, through the project's own dbtRunner wrapper."""

from __future__ import annotations

from pathlib import Path

from sigma_impressions.dbt_runner import DbtOptions, run_dbt_build

REPO = Path(__file__).resolve().parent.parent.parent


def dbt_build(database: Path, tmp_path: Path, as_of_date: str | None = None) -> tuple[bool, str]:
    """`dbt build` with --project-dir/--profiles-dir = the repo, target and logs under tmp_path."""
    options = DbtOptions(
        database=str(database),
        vars=f'{{"as_of_date": "{as_of_date}"}}' if as_of_date else None,
        project_dir=REPO,
        target_path=tmp_path / "dbt_target",
        log_path=tmp_path / "dbt_logs",
        unit_tests=True,
    )
    return run_dbt_build(options)
