"""Run `dbt build` on a DuckDB file from a test, through the project's own dbtRunner wrapper."""

from __future__ import annotations

import json
from pathlib import Path

from sigma_impressions.dbt_runner import DbtOptions, run_dbt_build

REPO = Path(__file__).resolve().parent.parent.parent


def dbt_build(database: Path, tmp_path: Path, as_of_date: str | None = None) -> tuple[bool, str]:
    """`dbt build` with --project-dir/--profiles-dir = the repo, target and logs under tmp_path, the
    demo seeds as the inventory (no API sync here). The unit tests run with the fixtures' build."""
    dbt_vars = {"sigma_inventory_source": "seeds", **({"as_of_date": as_of_date} if as_of_date else {})}
    options = DbtOptions(
        database=str(database),
        vars=json.dumps(dbt_vars),
        project_dir=REPO,
        target_path=tmp_path / "dbt_target",
        log_path=tmp_path / "dbt_logs",
    )
    return run_dbt_build(options)
