"""Run this repo's dbt project against a given DuckDB file, for tests.

`run_dbt(["build"], database=..., work_dir=tmp_path, vars={...})` runs dbt with the project folder
as --project-dir and --profiles-dir, SIGMA_IMPRESSIONS_DUCKDB_PATH pointing at `database`, and
dbt's target/ and logs/ under `work_dir`, so runs never clash.

On DuckDB it runs in this process through dbt's programmatic runner (dbtRunner), as
`sigma-impressions run` does, and parses the project once per project, set of vars, extra
environment and database name: a parse costs more than building the fixtures, and the parsed
manifest depends only on those (the database's name is its file's stem; the file itself is read
at run time). `parse`, `docs` and `deps` always parse (they write the manifest artifacts to the
target folder). Another target (spark) runs `.venv/bin/dbt` in a process of its own.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sigma_impressions.dbt_runner import profile_environment, release_duckdb

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
# Commands that write the manifest artifacts: never given a parsed manifest.
PARSING_COMMANDS = {"parse", "docs", "deps"}
_manifests: dict[tuple[str, ...], Any] = {}


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
    project_dir: Path = REPO,
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` on `database` (or another `target`), with `env` added to the environment,
    in `project_dir` (this repo, or a parent project with its own profiles.yml); raise DbtFailed
    (with the output's tail) if check and it fails."""
    work_dir.mkdir(parents=True, exist_ok=True)
    options = ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    options += ["--log-path", str(work_dir / "logs")]
    if args[0] != "deps":  # the one command without a target folder
        options += ["--target-path", str(work_dir / "target")]
    if vars:
        options += ["--vars", json.dumps(vars, sort_keys=True)]
    if target:
        result = _in_a_process(args, [*options, "--target", target], database, env, timeout)
    else:
        key = (json.dumps(vars or {}, sort_keys=True), Path(database).stem, str(project_dir), json.dumps(env or {}))
        result = _in_this_process(args, options, database, env or {}, key)
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
        raise DbtFailed(f"dbt {' '.join(args)} exited {result.returncode}:\n{tail}")
    return result


def _in_this_process(
    args: list[str], options: list[str], database: Path | str, env: dict[str, str], key: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    from dbt.cli.main import dbtRunner

    output = io.StringIO()
    with _environment(database, env), contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            manifest = None
            if args[0] not in PARSING_COMMANDS:
                manifest = _manifests.get(key)
                if manifest is None:
                    parsed = dbtRunner().invoke(["parse", *options])
                    manifest = _manifests[key] = parsed.result if parsed.success else None
            result = dbtRunner(manifest=manifest).invoke([*args, *options])
        finally:
            release_duckdb()
    if result.exception is not None:
        output.write(f"\n{result.exception}\n")
    # dbt's exit codes: 0 success, 1 a node failed, 2 dbt could not run.
    code = 0 if result.success else 2 if result.exception is not None and result.result is None else 1
    return subprocess.CompletedProcess(["dbt", *args], code, output.getvalue(), "")


@contextlib.contextmanager
def _environment(database: Path | str, env: dict[str, str]) -> Iterator[None]:
    """What the profile reads (sigma_impressions.dbt_runner.profile_environment) and `env`, for
    one dbt call; every previous value back afterwards."""
    with profile_environment(str(database), REPO), pytest.MonkeyPatch.context() as patch:
        for name, value in {"NO_COLOR": "1", **env}.items():
            patch.setenv(name, value)
        yield


def _in_a_process(
    args: list[str], options: list[str], database: Path | str, env: dict[str, str] | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(REPO),
        "SIGMA_IMPRESSIONS_DUCKDB_PATH": str(Path(database).resolve()),
        "SIGMA_IMPRESSIONS_EXTENSION_DIR": os.environ.get(
            "SIGMA_IMPRESSIONS_EXTENSION_DIR", str(REPO / ".venv" / "duckdb_extensions")
        ),
        "NO_COLOR": "1",
        **(env or {}),
    }
    command = [str(DBT), *args, *options]
    return subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=timeout)
