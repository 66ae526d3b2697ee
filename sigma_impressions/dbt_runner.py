"""`dbt build` through dbt's programmatic runner (dbt.cli.main.dbtRunner), not a shell.

`DbtOptions.from_args` validates the dbt options before any I/O (a bad value raises ConfigError
with one line, the CLI exits 2). `run_dbt_build` runs `dbt build` with the project folder as both
`--project-dir` and `--profiles-dir` and returns (ok, one-line summary); `run_source_freshness`
runs `dbt source freshness` on the export manifest with the same options.

The DuckDB file: profiles.yml can only read it from SIGMA_IMPRESSIONS_DUCKDB_PATH (dbt reads
profiles through `env_var()`). So `profile_environment` is the one place the application writes
os.environ: it sets that path (not a secret), for the duration of the dbt call only, and restores
the previous values afterwards. No credential is ever put in the environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from loader.config import ConfigError
from loader.contract import project_dir
from loader.freshness import ExportFreshness, freshness_from_result

# The export manifest: its freshness is the newest export file's last_modified.
FRESHNESS_SOURCE = "source:sigma_impressions.sigma_raw.loaded_files"
DATABASE_ENV = "SIGMA_IMPRESSIONS_DUCKDB_PATH"
EXTENSION_DIR_ENV = "SIGMA_IMPRESSIONS_EXTENSION_DIR"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class DbtOptions:
    """What `sigma-impressions run` passes to `dbt build`."""

    database: str
    target: str | None = None
    vars: str | None = None  # YAML (JSON, which is YAML) mapping, already validated
    select: str | None = None
    project_dir: Path | None = None  # default: loader.contract.project_dir()
    target_path: Path | None = None  # default: the project's `target/`
    log_path: Path | None = None  # default: the project's `logs/`
    # dbt unit tests check the models' logic, not the day's data: make test / CI run them, the daily
    # `run` leaves them out.
    unit_tests: bool = False

    @classmethod
    def from_args(cls, args: Any, database: str) -> DbtOptions:
        """Build from parsed CLI args (target, vars, as_of_date, select); validate before any I/O."""
        values = vars(args) if not isinstance(args, Mapping) else args
        dbt_vars = parse_vars(values.get("vars"))
        as_of = values.get("as_of_date")
        if as_of is not None and str(as_of).strip():
            dbt_vars["as_of_date"] = parse_as_of_date(str(as_of), "--as-of-date")
        elif dbt_vars.get("as_of_date"):
            dbt_vars["as_of_date"] = parse_as_of_date(str(dbt_vars["as_of_date"]), "--vars as_of_date")
        target = _clean(values.get("target"))
        select = _clean(values.get("select"))
        return cls(
            database=database,
            target=target,
            vars=json.dumps(dbt_vars, sort_keys=True, default=str) if dbt_vars else None,
            select=select,
        )

    def args(self, command: Sequence[str] = ("build",)) -> list[str]:
        """The dbt command line (without the program name) for `command` with these options."""
        project = str(self.project_dir or project_dir())
        argv = [*command, "--project-dir", project, "--profiles-dir", project]
        argv += ["--no-send-anonymous-usage-stats"]
        if self.target:
            argv += ["--target", self.target]
        if self.vars:
            argv += ["--vars", self.vars]
        if self.select:
            argv += ["--select", self.select]
        if self.target_path:
            argv += ["--target-path", str(self.target_path)]
        if self.log_path:
            argv += ["--log-path", str(self.log_path)]
        if command[0] == "build" and not self.unit_tests:
            argv += ["--exclude-resource-type", "unit_test"]
        return argv


def parse_vars(text: object) -> dict[str, Any]:
    """`--vars` as a YAML mapping; ConfigError with one line otherwise."""
    if text is None or not str(text).strip():
        return {}
    try:
        value = yaml.safe_load(str(text))
    except yaml.YAMLError as exc:
        first = " ".join(str(exc).split())[:160]
        raise ConfigError(f"--vars must be a YAML mapping such as '{{as_of_date: 2026-11-25}}' ({first})") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"--vars must be a YAML mapping such as '{{as_of_date: 2026-11-25}}' (got {type(value).__name__})"
        )
    return {str(k): (v.isoformat() if isinstance(v, date) else v) for k, v in value.items()}


def parse_as_of_date(text: str, option: str = "--as-of-date") -> str:
    """A real calendar date written YYYY-MM-DD (UTC); ConfigError otherwise."""
    value = text.strip()
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} must be a date written YYYY-MM-DD, e.g. 2026-11-25 (got {value[:40]!r})") from None
    return value


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class DbtResult(NamedTuple):
    """What `dbt build` did: ok, and one line ("dbt build: 142 passed, 3 warnings, ...")."""

    ok: bool
    message: str


@contextlib.contextmanager
def profile_environment(database: str, project: Path) -> Iterator[None]:
    """Set the environment variables profiles.yml reads (the DuckDB path, the extension folder)
    for the duration of one dbt call, then restore every previous value (or unset it).

    The only write to os.environ in the code base: dbt reads profiles only through env_var(),
    so there is no argument to pass the path as. Not thread-safe: one dbt call at a time per
    process (dbt itself allows no more)."""
    wanted = {
        DATABASE_ENV: os.path.abspath(database),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    extensions = project / ".venv" / "duckdb_extensions"
    if not os.environ.get(EXTENSION_DIR_ENV) and extensions.is_dir():
        wanted[EXTENSION_DIR_ENV] = str(extensions)
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def parse_project(options: DbtOptions) -> Any | None:
    """`dbt parse` with these options: the manifest a build and a freshness check can share, so a
    run parses the project once; None when the parse fails (the build then says why)."""
    from dbt.cli.main import dbtRunner

    project = Path(options.project_dir or project_dir())
    Path(options.database).parent.mkdir(parents=True, exist_ok=True)
    with profile_environment(options.database, project):
        try:
            result = dbtRunner().invoke(dataclasses.replace(options, select=None, unit_tests=True).args(("parse",)))
        finally:
            release_duckdb()
    return result.result if result.success else None


def run_dbt_build(options: DbtOptions, manifest: Any | None = None) -> DbtResult:
    """Run `dbt build` (on `manifest`, from parse_project, when given: no second parse); return
    (ok, "dbt build: 142 passed, 3 warnings, 0 errors, 0 skipped in 21.3s")."""
    from dbt.cli.main import dbtRunner

    project = Path(options.project_dir or project_dir())
    Path(options.database).parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with profile_environment(options.database, project):
        try:
            result = dbtRunner(manifest=manifest).invoke(options.args())
        finally:
            release_duckdb()
    seconds = time.monotonic() - started
    statuses = _statuses(result.result)
    if result.exception is not None and not statuses:
        reason = " ".join(str(result.exception).split())[:300] or type(result.exception).__name__
        return DbtResult(False, f"dbt build: did not run: {reason}")
    counts = summarize(statuses)
    message = (
        f"dbt build: {counts['passed']} passed, {counts['warnings']} warnings, "
        f"{counts['errors']} errors, {counts['skipped']} skipped in {seconds:.1f}s"
    )
    ok = bool(result.success) and counts["errors"] == 0
    if not ok:
        failed = _first_failure(result.result)
        if failed:
            message += f"; first failure: {failed}"
    return DbtResult(ok, message)


def run_source_freshness(options: DbtOptions, manifest: Any | None = None) -> ExportFreshness:
    """`dbt source freshness` of sigma_raw.loaded_files with the build's project, target, vars
    and paths (the build's --select does not apply), on `manifest` when given: how old the newest
    export file is."""
    from dbt.cli.main import dbtRunner

    project = Path(options.project_dir or project_dir())
    argv = dataclasses.replace(options, select=FRESHNESS_SOURCE).args(("source", "freshness"))
    with profile_environment(options.database, project):
        try:
            result = dbtRunner(manifest=manifest).invoke(argv)
        finally:
            release_duckdb()
    return freshness_from_result(result)


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    dbt-duckdb caches one database handle per process (DuckDBConnectionManager._ENV) until exit;
    left open, it holds the file's lock, so the same process (an Airflow @task, a Dagster asset,
    the report after `run`) could not open the file again with other settings. dbt-duckdb has no
    public call that closes it: its close_all_connections() only drops the reference (the lock
    stays until garbage collection). So the handle is closed here, under the adapter's own lock.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            with contextlib.suppress(Exception):
                env.close()


def _statuses(result: Any) -> list[str]:
    results = getattr(result, "results", None) or []
    return [str(getattr(r.status, "value", r.status)) for r in results]


def summarize(statuses: list[str]) -> dict[str, int]:
    """Group dbt node statuses: passed (success, pass, no-op), warnings, errors, skipped."""
    counts = Counter(statuses)
    return {
        "passed": counts["success"] + counts["pass"] + counts["no-op"],
        "warnings": counts["warn"],
        "errors": counts["error"] + counts["fail"] + counts["runtime error"] + counts["partial success"],
        "skipped": counts["skipped"],
    }


def _first_failure(result: Any) -> str | None:
    for node_result in getattr(result, "results", None) or []:
        status = str(getattr(node_result.status, "value", node_result.status))
        if status in ("error", "fail", "runtime error"):
            name = getattr(getattr(node_result, "node", None), "name", "?")
            text = _ANSI.sub("", str(getattr(node_result, "message", "") or ""))
            text = " ".join(text.split())[:200]
            return f"{name}: {text}" if text else name
    return None
