"""The `run` pipeline: sync the inventory from Sigma's API (when its settings are given), load the
exports, `dbt build`, publish the marts as a read-only snapshot (sigma_impressions.publish), then
the exports' freshness (how old the newest export file is). What orchestrators and the CLI call.

    from sigma_impressions.pipeline import RunSettings, run

    settings = RunSettings.from_options({"bucket_uri": "s3://bucket/sigma-exports"})
    result = run(settings)
    if result.exit_code:
        raise RuntimeError("; ".join(result.errors))

`RunSettings.from_options` validates everything before any I/O (ConfigError, one line). `run`
never raises for a failed sync, file, listing, dbt build or publish: it returns a `RunResult` with
the exit code the CLI uses (0 ok, 1 something failed, 3 the database is in use or cannot be
written). A failed sync keeps the previous inventory and the build goes on. The publish step runs
only after a successful build (data-test warnings included); a failed publish exits 1 and leaves
the previous snapshot as it was. New steps
add a field to RunResult and a step function here; the CLI only prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from loader.config import ConfigError, LoadConfig, build_config
from loader.freshness import ExportFreshness
from loader.landing import DatabaseError, LoadSummary, Progress, run_load
from loader.secrets import scrub
from loader.sigma_api.config import SigmaApiSettings, api_settings_present, build_api_settings
from loader.sigma_api.inventory import sync_inventory
from loader.sigma_api.report import SyncReport
from loader.sigma_api.tables import ensure_inventory_tables
from loader.storage import StorageError
from sigma_impressions.dbt_runner import DbtOptions, DbtResult, parse_project, run_dbt_build, run_source_freshness
from sigma_impressions.publish import PublishError, PublishResult, check_paths, publish, published_path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DATABASE = 0, 1, 2, 3


@dataclass(frozen=True)
class RunSettings:
    """Everything one run needs, validated: where to load from and into, and how to call dbt."""

    load: LoadConfig
    dbt: DbtOptions
    published_database: str | None = None  # the snapshot file; None: no publish step
    # Sigma API settings: when present, the inventory is synced before the load.
    inventory: SigmaApiSettings | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, object], env: Mapping[str, str] | None = None) -> RunSettings:
        """From option names as the CLI spells them (bucket_uri, days_back, ..., target, vars,
        as_of_date, select, published_database); each load option falls back to its
        SIGMA_IMPRESSIONS_* variable in `env` (default os.environ), published_database to
        SIGMA_IMPRESSIONS_PUBLISHED_PATH, then warehouse/sigma_impressions_marts.duckdb.
        Raises ConfigError before any I/O."""
        load = build_config(options, env)
        option = options.get("published_database")
        published = published_path(str(option) if option is not None else None, env)
        try:
            check_paths(load.database, published)
        except PublishError as exc:
            raise ConfigError(f"--published-database: {exc}") from exc
        inventory = None
        if api_settings_present(options, env):
            inventory = build_api_settings(options, env, database=load.database)
        dbt = DbtOptions.from_args(options, database=load.database)
        if load.lake is not None:  # dbt reads the lake the load wrote (vars.sigma_lake_uri)
            dbt_vars = json.loads(dbt.vars) if dbt.vars else {}
            dbt_vars.setdefault("sigma_lake_uri", str(load.lake))
            dbt = replace(dbt, vars=json.dumps(dbt_vars, sort_keys=True, default=str))
        return cls(
            load=load,
            dbt=dbt,
            # The snapshot copies the DuckDB file's marts; on another target the marts are its own
            # tables (on spark: Parquet under <lake>/marts/), so there is nothing to publish.
            published_database=published if dbt.target in (None, "duckdb") else None,
            inventory=inventory,
        )


@dataclass
class RunResult:
    """What a run did, step by step. A step that did not run is None."""

    inventory: SyncReport | None = None
    load: LoadSummary | None = None
    dbt: DbtResult | None = None
    publish: PublishResult | None = None
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


def summary_text(summary: LoadSummary) -> str:
    """The load summary as parseable key=value pairs (printed by the CLI, stored in the snapshot)."""
    return (
        f"files_seen={summary.files_seen}"
        f" loaded={summary.count('loaded')}"
        f" skipped={summary.count('skipped')}"
        f" failed={summary.count('failed')}"
        f" rows={summary.rows_loaded}"
        f" rejected_lines={summary.rows_rejected}"
        f" seconds={summary.seconds:.1f}"
    )


def run(settings: RunSettings, progress: Progress | None = None, on_step: StepCallback | None = None) -> RunResult:
    """Sync the inventory (when settings.inventory), load, dbt build, publish the marts, then
    source freshness. `progress` sees each landed file; `on_step(step, result)` is called after
    each step ("inventory", "load", "dbt", "publish", "freshness") so a caller can report as the
    run goes. A failed sync keeps the previous inventory: the load and the build go on, and the
    run fails at the end. The publish step runs only when the build succeeded (data-test warnings
    included) and a published database is set."""
    result = RunResult()
    notify = on_step or (lambda step, result: None)
    if settings.inventory is not None:
        try:
            result.inventory = sync_inventory(settings.inventory)
        except DatabaseError as exc:
            result.fail(str(exc), EXIT_DATABASE)
            notify("inventory", result)
            return result
        notify("inventory", result)
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

    if settings.load.lake is not None and settings.dbt.target in (None, "duckdb"):
        # The duckdb target reads the raw rows from the lake and the inventory from the DuckDB
        # file: its inventory tables exist (empty) before the first sync, as after a load into it.
        try:
            ensure_inventory_tables(settings.load.database)
        except DatabaseError as exc:
            result.fail(str(exc), EXIT_DATABASE)
            return result
    manifest = parse_project(settings.dbt)  # parsed once, for the build and the freshness check
    result.dbt = run_dbt_build(settings.dbt, manifest)
    if not result.dbt.ok:
        result.fail(result.dbt.message.replace("dbt build: ", "dbt build failed: ", 1))
    elif not result.load.ok:
        result.fail(f"{result.load.count('failed')} file(s) failed to load; the build used the others")
    if result.inventory is not None and not result.inventory.ok:
        result.fail("the inventory sync failed: the build used the previous inventory")
    notify("dbt", result)
    if result.dbt.ok and settings.published_database is not None:
        try:
            result.publish = publish(
                settings.load.database,
                settings.published_database,
                load_summary=summary_text(result.load),
                dbt_result=result.dbt.message,
            )
        except PublishError as exc:
            result.fail(exc.line())
        notify("publish", result)

    result.freshness = run_source_freshness(settings.dbt, manifest)
    if result.freshness.is_error:
        result.fail(result.freshness.line())
    notify("freshness", result)
    return result
