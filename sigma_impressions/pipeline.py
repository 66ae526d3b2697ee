"""The `run` pipeline: load the exports, `dbt build`, then the exports' freshness (how old the
newest export file is). What orchestrators and the CLI call.

    from sigma_impressions.pipeline import RunSettings, run

    settings = RunSettings.from_options({"bucket_uri": "s3://bucket/sigma-exports"})
    result = run(settings)
    if result.exit_code:
        raise RuntimeError("; ".join(result.errors))

`RunSettings.from_options` validates everything before any I/O (ConfigError, one line). `run`
never raises for a failed file, listing or dbt build: it returns a `RunResult` with the exit code
the CLI uses (0 ok, 1 something failed, 3 the database is in use or cannot be written). New steps
add a field to RunResult and a step function here; the CLI only prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from loader.config import LoadConfig, build_config
from loader.freshness import ExportFreshness
from loader.landing import DatabaseError, LoadSummary, Progress, run_load
from loader.secrets import scrub
from loader.storage import StorageError
from sigma_impressions.dbt_runner import DbtOptions, DbtResult, run_dbt_build, run_source_freshness

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DATABASE = 0, 1, 2, 3


@dataclass(frozen=True)
class RunSettings:
    """Everything one run needs, validated: where to load from and into, and how to call dbt."""

    load: LoadConfig
    dbt: DbtOptions

    @classmethod
    def from_options(cls, options: Mapping[str, object], env: Mapping[str, str] | None = None) -> RunSettings:
        """From option names as the CLI spells them (bucket_uri, days_back, ..., target, vars,
        as_of_date, select); each load option falls back to its SIGMA_IMPRESSIONS_* variable in
        `env` (default os.environ). Raises ConfigError before any I/O."""
        load = build_config(options, env)
        dbt = DbtOptions.from_args(options, database=load.database)
        if load.lake is not None:  # dbt reads the lake the load wrote (vars.sigma_lake_uri)
            dbt_vars = json.loads(dbt.vars) if dbt.vars else {}
            dbt_vars.setdefault("sigma_lake_uri", str(load.lake))
            dbt = replace(dbt, vars=json.dumps(dbt_vars, sort_keys=True, default=str))
        return cls(load=load, dbt=dbt)


@dataclass
class RunResult:
    """What a run did, step by step. A step that did not run is None."""

    load: LoadSummary | None = None
    dbt: DbtResult | None = None
    # dbt source freshness after the build; error level (older than
    # vars.sigma_freshness_error_after_days) fails the run, a warning does not.
    freshness: ExportFreshness | None = None
    errors: list[str] = field(default_factory=list)  # one line each, secrets scrubbed
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    def fail(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        self.errors.append(message)
        self.exit_code = max(self.exit_code, exit_code)


StepCallback = Callable[[str, RunResult], None]


def load(config: LoadConfig, progress: Progress | None = None) -> tuple[LoadSummary | None, str | None]:
    """Land the new or changed exports: (summary, None), or (None, the one-line storage error).
    DatabaseError propagates: nothing can be landed."""
    try:
        return run_load(config, progress=progress), None
    except StorageError as exc:
        return None, scrub(str(exc), config.secrets())


def run(settings: RunSettings, progress: Progress | None = None, on_step: StepCallback | None = None) -> RunResult:
    """Load, dbt build, then source freshness. `progress` sees each landed file; `on_step(step,
    result)` is called after each step ("load", "dbt", "freshness") so a caller can report as the
    run goes."""
    result = RunResult()
    notify = on_step or (lambda step, result: None)
    try:
        result.load, error = load(settings.load, progress)
    except DatabaseError as exc:
        result.fail(str(exc), EXIT_DATABASE)
        notify("load", result)
        return result
    if result.load is None:
        result.fail(error or "load failed")
        result.fail("load failed: dbt build not started")
        notify("load", result)
        return result
    notify("load", result)

    result.dbt = run_dbt_build(settings.dbt)
    if not result.dbt.ok:
        result.fail(result.dbt.message.replace("dbt build: ", "dbt build failed: ", 1))
    elif not result.load.ok:
        result.fail(f"{result.load.count('failed')} file(s) failed to load; the build used the others")
    notify("dbt", result)

    result.freshness = run_source_freshness(settings.dbt)
    if result.freshness.is_error:
        result.fail(result.freshness.line())
    notify("freshness", result)
    return result
