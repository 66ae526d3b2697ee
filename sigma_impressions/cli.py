"""The `sigma-impressions` command line: parses options, calls the functions tests and orchestrators
call (loader.check, sigma_impressions.pipeline, .report, .demo), prints their results.

Exit codes: 0 success; 1 the run finished but something failed (a file, the listing, dbt, an
unusable source); 2 invalid options (one line says what to fix); 3 the database is in use or
cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from loader.config import (
    DEFAULT_DATABASE,
    DEFAULT_DAYS_BACK,
    DEFAULT_NAME,
    ENV_VARS,
    MAX_DAYS_BACK,
    ConfigError,
    LoadConfig,
    build_config,
)
from loader.landing import DatabaseError, LoadSummary
from loader.secrets import scrub
from loader.sigma_api.config import SigmaApiSettings, api_settings_present, build_api_settings
from loader.storage import StorageError
from sigma_impressions import __version__
from sigma_impressions.pipeline import (
    EXIT_DATABASE,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    RunResult,
    RunSettings,
    summary_text,
)
from sigma_impressions.publish import DEFAULT_PUBLISHED, PUBLISHED_ENV
from sigma_impressions.report.sections import SECTIONS

PUBLISHED_HELP = (
    f"the read-only snapshot of the marts that readers open (default {DEFAULT_PUBLISHED}) [{PUBLISHED_ENV}]"
)

if TYPE_CHECKING:
    from loader.sigma_api.report import SyncReport

DESCRIPTION = """\
Land Sigma Computing audit-log exports (CSV / CSV.gz) from s3://, gs:// or file:// into DuckDB,
then model workbook, element and user impressions with dbt.

  sigma-impressions check  --bucket-uri s3://bucket/sigma-exports   is the source usable?
  sigma-impressions load   --bucket-uri s3://bucket/sigma-exports   land new files (once each)
  sigma-impressions inventory --sigma-api-url https://aws-api.sigmacomputing.com   sync Sigma's inventory
  sigma-impressions run    --bucket-uri ...                          (sync,) load, dbt build, publish
  sigma-impressions publish                                          publish the marts (after dbt build)
  sigma-impressions report                                           print the marts (the snapshot)
  sigma-impressions demo   --out DIR                                 write a demo export
"""


def _source_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by load, check and run. Each falls back to its environment variable."""
    group = parser.add_argument_group("source and destination (each option falls back to its env var)")
    add = group.add_argument
    add(
        "--bucket-uri",
        help="s3://bucket/prefix, gs://bucket/prefix or file:///abs/dir [SIGMA_IMPRESSIONS_BUCKET_URI]",
    )
    add(
        "--days-back",
        help=f"take files modified in the last N x 24 h, 1..{MAX_DAYS_BACK} "
        f"(default {DEFAULT_DAYS_BACK}) [SIGMA_IMPRESSIONS_DAYS_BACK]",
    )
    add(
        "--aws-access-key-id",
        help="explicit AWS key; without it the ambient AWS chain is used [SIGMA_IMPRESSIONS_AWS_ACCESS_KEY_ID]",
    )
    add(
        "--aws-secret-access-key",
        help="secret for the key above; provide both or neither [SIGMA_IMPRESSIONS_AWS_SECRET_ACCESS_KEY]",
    )
    add(
        "--aws-session-token",
        help="session token for temporary credentials [SIGMA_IMPRESSIONS_AWS_SESSION_TOKEN]",
    )
    add("--aws-region", help="AWS region of the bucket [SIGMA_IMPRESSIONS_AWS_REGION]")
    add(
        "--endpoint-url",
        help="S3-compatible endpoint, e.g. MinIO [SIGMA_IMPRESSIONS_S3_ENDPOINT_URL]",
    )
    add(
        "--database",
        help=f"DuckDB file (default {DEFAULT_DATABASE}, as in profiles.yml) [SIGMA_IMPRESSIONS_DUCKDB_PATH]",
    )
    add(
        "--lake-uri",
        help="land into this Parquet lake instead of the DuckDB file: s3://bucket/prefix, gs://bucket/prefix "
        "or file:///abs/dir, same credentials as the exports; dbt reads it (the spark target always) "
        "[SIGMA_IMPRESSIONS_LAKE_URI]",
    )
    add(
        "--name",
        help=f"integration name stored on every landed row (default {DEFAULT_NAME}) [SIGMA_IMPRESSIONS_NAME]",
    )
    add(
        "--memory-limit",
        help="DuckDB memory_limit for loading, e.g. 1GB [SIGMA_IMPRESSIONS_MEMORY_LIMIT]",
    )
    add(
        "--threads",
        help="DuckDB threads for loading (default: 1; each file lands in one single-threaded pass, and "
        "on two cores or more two batches of files land at once, each on its own connection) "
        "[SIGMA_IMPRESSIONS_THREADS]",
    )


def _api_options(parser: argparse.ArgumentParser, with_database: bool = False) -> None:
    """Sigma REST API settings (inventory sync). Each falls back to its environment variable."""
    group = parser.add_argument_group("Sigma API (each option falls back to its env var)")
    add = group.add_argument
    add(
        "--sigma-api-url",
        help="API base URL from Administration > Developer Access, e.g. https://aws-api.sigmacomputing.com "
        "[SIGMA_IMPRESSIONS_SIGMA_API_URL]",
    )
    add("--sigma-client-id", help="API client id [SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID]")
    add("--sigma-client-secret", help="API client secret [SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET]")
    if with_database:
        add(
            "--database",
            help=f"DuckDB file (default {DEFAULT_DATABASE}, as in profiles.yml) [SIGMA_IMPRESSIONS_DUCKDB_PATH]",
        )


def _dbt_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dbt")
    group.add_argument("--target", help="dbt target from profiles.yml (default: the profile's)")
    group.add_argument("--vars", help="dbt vars as YAML, e.g. '{as_of_date: 2026-11-25}'")
    group.add_argument("--as-of-date", help="shortcut for the as_of_date var (YYYY-MM-DD, UTC)")
    group.add_argument("--select", help="dbt node selection, e.g. 'marts'")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigma-impressions",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 ok, 1 something failed (see summary), 2 invalid options, "
        "3 database in use or not writable.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    load = commands.add_parser(
        "load",
        help="land new or changed export files into DuckDB (sigma_raw schema)",
        description="List the prefix, take the .csv/.csv.gz files modified in the last N days, "
        "and land each new or changed file into sigma_raw.impression_rows, whole or not at all. "
        "Files already loaded with the same etag are skipped. Bad records go to "
        "sigma_raw.rejected_lines; unreadable files are marked failed in sigma_raw.loaded_files. "
        "With --lake-uri, the same lands as Parquet objects in the lake, committed by its manifest log "
        "(docs/lake-and-spark.md).",
    )
    _source_options(load)

    check = commands.add_parser(
        "check",
        help="test the source: list the prefix and map the newest file's headers",
        description="Validate the options, list the prefix, count the files in the window, read "
        "the newest file's header by the rule `load` uses and show which header feeds each canonical "
        "column (or why `load` would mark the file failed). Exit 0 when the source is usable.",
    )
    _source_options(check)
    _api_options(check)

    inventory = commands.add_parser(
        "inventory",
        help="sync workbooks, pages, elements, members and teams from Sigma's REST API",
        description="Read the inventory from Sigma's REST API v2 and land it in sigma_raw "
        "(sigma_workbooks, sigma_workbook_pages, sigma_workbook_elements, sigma_members, sigma_teams, "
        "sigma_team_members; one row per sync in inventory_syncs), in one transaction: a failed sync "
        "changes nothing. Pages and elements are fetched for new or changed workbooks only, unless "
        "--full. Workbooks, members and teams Sigma no longer lists keep their rows with deleted_at "
        "set. Exit 0 when the sync succeeded (docs/inventory-sync.md).",
    )
    _api_options(inventory, with_database=True)
    inventory.add_argument(
        "--full", action="store_true", help="fetch the pages and elements of every workbook, changed or not"
    )

    run = commands.add_parser(
        "run",
        help="(sync,) load, dbt build, then publish the marts (what an orchestrator calls)",
        description="`load`, then `dbt build` through dbt's programmatic runner, then `publish`: "
        "after a successful build (data-test warnings included) every mart is copied into the "
        "read-only snapshot file, which is replaced whole, so readers never wait for the run or "
        "see half of it. A failed build publishes nothing; a failed publish exits 1 and leaves "
        "the previous snapshot as it was (with --target spark there is no publish step: the marts "
        "are Parquet tables under <lake>/marts/). Then `dbt source freshness`: one line says how old the "
        "newest export file is. When the Sigma API settings are present, the inventory is synced "
        "first; a failed sync keeps the previous inventory, the build goes on, and the exit is 1. "
        "Non-zero exit when a step fails or the newest export file is older than "
        "vars.sigma_freshness_error_after_days (default 7; past vars.sigma_freshness_warn_after_hours, "
        "default 36, it only warns). Orchestrators call the same steps in-process: "
        "sigma_impressions.pipeline.run(RunSettings.from_options({...})).",
    )
    _source_options(run)
    _api_options(run)
    _dbt_options(run)
    run.add_argument("--published-database", help=PUBLISHED_HELP)

    publish = commands.add_parser(
        "publish",
        help="copy the marts into the read-only snapshot (after a plain `dbt build`)",
        description="Copy every mart of the working DuckDB file into a new snapshot file, then "
        "rename it over the old snapshot: a reader sees the old snapshot or the new one, never a "
        "mix and never a lock. `run` does this itself; call `publish` after your own `dbt build`. "
        "The snapshot's main.snapshot_info says when it was built and from what. Exit 0 published, "
        "1 failed (the previous snapshot is unchanged), 3 the working file is in use.",
    )
    publish.add_argument(
        "--database",
        help=f"the working DuckDB file to publish (default {DEFAULT_DATABASE}) [SIGMA_IMPRESSIONS_DUCKDB_PATH]",
    )
    publish.add_argument("--published-database", help=PUBLISHED_HELP)

    report = commands.add_parser(
        "report",
        help="print the marts: popular, unused, active users, teams, rejected, unmatched and excluded rows, "
        "the exports' events and files (or an HTML page)",
        description="Read the marts from the published snapshot (read-only; what `run` and "
        "`publish` write, so the report works while a run is in progress) and print them; every "
        "number is a marts' column (the windows end at the marts' as_of_date). --database reads "
        "a working DuckDB file instead (it fails while a load or dbt build holds that file). "
        "--format html writes one self-contained page with charts that opens offline.",
    )
    report.add_argument(
        "--database",
        help="read this working DuckDB file instead of the snapshot (SIGMA_IMPRESSIONS_DUCKDB_PATH is not used here)",
    )
    report.add_argument("--published-database", help=PUBLISHED_HELP)
    report.add_argument(
        "--format",
        choices=("table", "markdown", "json", "csv", "html"),
        default="table",
        help="output format (default table); html: one self-contained page with charts, no network needed to open it",
    )
    report.add_argument(
        "--out",
        help="write the report to this file (replaced whole) instead of standard output, then print its path",
    )
    report.add_argument("--limit", type=int, default=10, help="rows per section (default 10)")
    report.add_argument(
        "--section",
        choices=("all", *SECTIONS),
        default="all",
        help="print one section only (with --format csv: one plain CSV table)",
    )

    demo = commands.add_parser(
        "demo",
        help="write a realistic demo export (several files, like Sigma's scheduled runs)",
        description="Write demo export files into DIR with timestamps relative to now. "
        "The shipped seeds (the demo inventory) match it.",
    )
    demo.add_argument("--out", required=True, help="folder to write the export files into")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "load": _cmd_load,
        "check": _cmd_check,
        "inventory": _cmd_inventory,
        "run": _cmd_run,
        "publish": _cmd_publish,
        "report": _cmd_report,
        "demo": _cmd_demo,
    }[args.command]
    try:
        return handler(args)
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except DatabaseError as exc:
        _error(str(exc))
        return EXIT_DATABASE
    except KeyboardInterrupt:
        _error("interrupted: files landed so far are committed; run again to finish")
        return 130


def _config(args: argparse.Namespace) -> LoadConfig:
    return build_config(vars(args))


def _error(message: str) -> None:
    print(f"sigma-impressions: error: {message}", file=sys.stderr)


def _cmd_load(args: argparse.Namespace) -> int:
    config = _config(args)
    summary = _load(config)
    return EXIT_OK if summary is not None and summary.ok else EXIT_FAILED


def _load(config: LoadConfig) -> LoadSummary | None:
    from loader.progress import make_progress
    from sigma_impressions.pipeline import load

    with make_progress(sys.stdout, config) as progress:
        summary, error = load(config, progress=progress)
    if summary is None:
        _error(error or "load failed")
        return None
    for line in summary_lines(summary, config):
        print(line)
    return summary


def summary_lines(summary: LoadSummary, config: LoadConfig) -> list[str]:
    """The final summary: parseable key=value pairs, then one line per failed file."""
    lines = [f"summary {summary_text(summary)}"]
    lines += [scrub(f"failed {r.uri}: {r.error}", config.secrets()) for r in summary.results if r.status == "failed"]
    lines += [f"ignored {uri}: points outside the prefix" for uri in summary.unsafe_entries]
    return lines


def _api_settings(args: argparse.Namespace, database: str | None = None) -> SigmaApiSettings | None:
    """The validated Sigma API settings, or None when none is given (options or env)."""
    options = vars(args)
    if not api_settings_present(options):
        return None
    overrides = {"database": database} if database else {}
    return build_api_settings(options, **overrides)


def _print_sync(report: SyncReport, settings: SigmaApiSettings | None) -> None:
    secrets = settings.secrets() if settings is not None else []
    for line in report.lines():
        (print if report.ok else _error)(scrub(line, secrets))


def _cmd_inventory(args: argparse.Namespace) -> int:
    from loader.sigma_api.inventory import sync_inventory

    settings = build_api_settings(vars(args))  # validates before I/O
    report = sync_inventory(settings)
    _print_sync(report, settings)
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_check(args: argparse.Namespace) -> int:
    import os

    from loader.check import run_check

    api = _api_settings(args)
    if api is not None and not (args.bucket_uri or os.environ.get(ENV_VARS["bucket_uri"])):
        return _check_api(api)  # the Sigma API settings and no bucket: only the API
    config = _config(args)
    try:
        report = run_check(config)
    except StorageError as exc:
        _error(scrub(str(exc), config.secrets()))
        return EXIT_FAILED
    for line in report.lines():
        print(scrub(line, config.secrets()))
    api_ok = _check_api(api) == EXIT_OK if api is not None else True
    return EXIT_OK if report.usable and api_ok else EXIT_FAILED


def _check_api(api: SigmaApiSettings) -> int:
    """Get a token and read one page of workbooks; print what was seen or what to fix."""
    from loader.sigma_api.inventory import check_api

    ok, line = check_api(api)
    print(scrub(line, api.secrets()))
    return EXIT_OK if ok else EXIT_FAILED


def _cmd_run(args: argparse.Namespace) -> int:
    from loader.progress import make_progress
    from sigma_impressions.pipeline import run

    settings = RunSettings.from_options(vars(args))  # validates before I/O
    printed = 0

    def report_step(step: str, result: RunResult) -> None:
        nonlocal printed
        if step == "inventory" and result.inventory is not None:
            _print_sync(result.inventory, settings.inventory)
        if step == "load":
            progress.stop()  # the bar ends with the load, before dbt writes to the terminal
        if step == "load" and result.load is not None:
            for line in summary_lines(result.load, settings.load):
                print(line)
        if step == "dbt" and result.dbt is not None and result.dbt.ok:
            print(result.dbt.message)
        if step == "dbt" and result.dbt is not None and not result.dbt.ok:
            print("publish: skipped (the build failed); readers keep the previous snapshot")
        if step == "publish" and result.publish is not None:
            print(result.publish.line())
        if step == "freshness" and result.freshness is not None and not result.freshness.is_error:
            print(result.freshness.line())  # an error-level age is in result.errors (stderr)
        for message in result.errors[printed:]:
            _error(message)
        printed = len(result.errors)

    with make_progress(sys.stdout, settings.load) as progress:
        result = run(settings, progress=progress, on_step=report_step)
    return result.exit_code


def _cmd_publish(args: argparse.Namespace) -> int:
    import os

    from sigma_impressions.publish import PublishError, check_paths, publish, published_path

    database = (args.database or "").strip() or os.environ.get("SIGMA_IMPRESSIONS_DUCKDB_PATH") or DEFAULT_DATABASE
    published = published_path(args.published_database)
    try:
        check_paths(database, published)
    except PublishError as exc:
        raise ConfigError(f"--published-database: {exc}") from exc
    try:
        result = publish(database, published)
    except PublishError as exc:
        _error(exc.line())
        return EXIT_DATABASE if exc.in_use else EXIT_FAILED
    print(result.line())
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    import io

    from sigma_impressions.report import ReportError, print_report
    from sigma_impressions.report.render import write_report_file

    try:
        database = _report_database(args)
    except ReportError as exc:
        _error(str(exc))
        return EXIT_FAILED
    if args.format == "html":
        from sigma_impressions.report.html import html_report

        try:
            text = html_report(database)
        except ReportError as exc:
            _error(str(exc))
            return EXIT_FAILED
    else:
        sections = SECTIONS if args.section == "all" else (args.section,)
        if args.out is None:
            return print_report(database, args.format, args.limit, sys.stdout, sections)
        buffer = io.StringIO()
        code = print_report(database, args.format, args.limit, buffer, sections)
        if code:
            return code
        text = buffer.getvalue()
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        path = write_report_file(args.out, text)
    except OSError as exc:
        _error(f"cannot write {args.out}: {exc.strerror or exc}")
        return EXIT_FAILED
    print(path)
    return EXIT_OK


def _report_database(args: Any) -> str:
    """The file every report format reads (see report_database)."""
    from sigma_impressions.report import report_database

    return report_database(getattr(args, "database", None), getattr(args, "published_database", None))


def _cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sigma_impressions.demo import write_demo

    out = Path(args.out).resolve()
    facts = write_demo(out, seed=args.seed)
    print(
        f"wrote {len(facts.files)} export file(s), {facts.total_rows} rows "
        f"({facts.events} distinct events, {len(facts.users)} users), to {out}"
    )
    print(f"load them with: sigma-impressions run --bucket-uri file://{out}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
