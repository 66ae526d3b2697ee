"""Run this repo's dbt project against a given DuckDB file, for tests.

`run_dbt(["build"], database=..., work_dir=tmp_path, vars={...})` runs `.venv/bin/dbt` in a
subprocess (a fresh process each time: dbt-duckdb caches database handles in-process) with the
project folder as --project-dir and --profiles-dir, SIGMA_IMPRESSIONS_DUCKDB_PATH pointing at
`database`, and dbt's target/ and logs/ under `work_dir`, so parallel runs never clash.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"


class DbtFailed(AssertionError):
    """dbt exited non-zero; the message holds the end of its output."""


def run_dbt(
    args: list[str],
    database: Path | str,
    work_dir: Path,
    vars: dict[str, Any] | None = None,
    check: bool = True,
    target: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` on `database` (or another `target`, with `env` added to the environment);
    raise DbtFailed (with the output's tail) if check and it fails."""
    work_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(DBT),
        *args,
        "--project-dir",
        str(REPO),
        "--profiles-dir",
        str(REPO),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    if vars:
        command += ["--vars", json.dumps(vars)]
    if target:
        command += ["--target", target]
    extra_env = env or {}
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(REPO),
        "SIGMA_IMPRESSIONS_DUCKDB_PATH": str(Path(database).resolve()),
        "SIGMA_IMPRESSIONS_EXTENSION_DIR": os.environ.get(
            "SIGMA_IMPRESSIONS_EXTENSION_DIR", str(REPO / ".venv" / "duckdb_extensions")
        ),
        "NO_COLOR": "1",
        **extra_env,
    }
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
        raise DbtFailed(f"dbt {' '.join(args)} exited {result.returncode}:\n{tail}")
    return result
