"""Benchmark: land and build at scale, side by side with DuckDB alone, dlt and pandas.

    python bench/run_bench.py                       # BENCH_ROWS (5M) headline, sizes 1M,5M,10M (dbt at 5M,10M)
    python bench/run_bench.py --rows 2000000 --sizes 1000000,2000000 --reps 2
    python bench/run_bench.py --smoke --work-dir /tmp/b --docs-dir /tmp/b/docs   # 10k rows, seconds

For each size: generate exports (90 daily files, plus one more day, plus the same rows over 500
files), then run every contender as a whole separate process, repetitions alternating (the
order rotates each repetition), measuring wall time and peak RSS of the process tree. Then the
no-op re-run (at the headline size) and the dbt part (full build on 90 days, one more daily file,
incremental build, and the hand-written mart query). Writes docs/benchmarks.md and
docs/benchmarks.png, and the raw samples to <work-dir>/results.json.

A contender whose Python package is not installed (dlt, pandas: the `bench` extra) is skipped by
this script and listed as skipped in the docs; so is the dbt part while models/marts/ is empty.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import contenders
import datagen
import report
from measure import ContenderFailed, Sample, run_measured

from tests.helpers import marts_reference

DEFAULT_SIZES = (1_000_000, 5_000_000, 10_000_000)
# The dbt part's sizes unless --dbt-sizes says otherwise: its targets are at 5M and 10M rows.
DEFAULT_DBT_SIZES = (5_000_000, 10_000_000)
SMOKE_ROWS = 10_000
# The memory_limit of the targets "no out-of-memory at 10M rows" (dbt_full_1gb) and "the full build
# at 20M rows completes" (dbt_full_20m_1gb).
TARGET_MEMORY_LIMIT = "1GB"
# The rows of the 20M-row memory target (its shape is datagen.SHAPE_20M); --target-rows changes it.
TARGET_ROWS = 20_000_000


@dataclass
class Settings:
    rows: int
    sizes: list[int]
    reps: int
    work_dir: Path
    docs_dir: Path
    days: int = 90
    many_files: int = 500
    dbt: bool = True
    dbt_sizes: list[int] | None = None
    keep_data: bool = False
    report_only: bool = False
    skip: list[str] = field(default_factory=list)
    peer_max_rows: int | None = None
    smoke: bool = False
    target_rows: int = TARGET_ROWS
    command: str = ""
    env: contenders.Env = field(default_factory=contenders.Env)


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(prog="run_bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=int(os.environ.get("BENCH_ROWS", "5000000")),
        help="headline size: no-op re-run and the targets' ratios (default BENCH_ROWS or 5,000,000)",
    )
    parser.add_argument(
        "--sizes",
        help="comma-separated sizes to sweep (default 1M,5M,10M; --rows is always included)",
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions per contender (default 3)")
    parser.add_argument("--work-dir", default=".bench", help="generated exports and databases (default .bench)")
    parser.add_argument("--docs-dir", default="docs", help="where benchmarks.md and benchmarks.png go")
    parser.add_argument("--days", type=int, default=90, help="days of history = daily files (default 90)")
    parser.add_argument("--many-files", type=int, default=500, help="files of the no-op re-run (default 500)")
    parser.add_argument("--no-dbt", action="store_true", help="skip the dbt part")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated contenders or parts to leave out, e.g. dlt,noop (listed as skipped in the docs)",
    )
    parser.add_argument(
        "--peer-max-rows",
        type=int,
        help="run dlt and pandas only at sizes up to this (they are the slowest; default: every size)",
    )
    parser.add_argument(
        "--dbt-sizes",
        help="comma-separated sizes that run the dbt part (default 5M,10M when --sizes is not given, else all)",
    )
    parser.add_argument(
        "--loader-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for `load`, e.g. SIGMA_IMPRESSIONS_MEMORY_LIMIT=512MB (repeatable)",
    )
    parser.add_argument(
        "--loader-pythonpath",
        help="also measure `load_patched`: the loader imported from this folder (a patched copy of loader/)",
    )
    parser.add_argument(
        "--peer-python",
        default=contenders.default_peer_python(),
        help="interpreter that runs the dlt and pandas contenders: a venv of their own, so that pandas is "
        "not importable by the loader (DuckDB imports pandas, when installed, on the first query with "
        "parameters: +1 s per run). Default BENCH_PEER_PYTHON, else .bench/peers/bin/python if present, "
        "else this interpreter",
    )
    parser.add_argument(
        "--target-rows",
        type=int,
        default=TARGET_ROWS,
        help="rows of the memory target: a full dbt build under memory_limit=1GB on the 1,200-workbook shape "
        "(default 20,000,000; part `dbt_20m`, leave it out with --skip dbt_20m)",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep generated exports for the next run")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the docs from <work-dir>/results.json, measure nothing"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="10k rows, 1 rep, 20 files, no dbt builds (dbt's fixed cost alone is over a minute): seconds",
    )
    parser.add_argument("--smoke-dbt", action="store_true", help="with --smoke: run the dbt part too")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.sizes, args.reps, args.many_files = SMOKE_ROWS, str(SMOKE_ROWS), 1, 20
        args.target_rows = 2 * SMOKE_ROWS
        args.no_dbt = args.no_dbt or not args.smoke_dbt
    sizes = _int_list(args.sizes) if args.sizes else list(DEFAULT_SIZES)
    if args.rows not in sizes:
        sizes.append(args.rows)
    if args.reps < 1 or args.rows < args.days or any(s < args.days for s in sizes):
        parser.error("--reps must be at least 1 and every size at least --days rows")
    loader_env = dict(item.split("=", 1) for item in args.loader_env)
    return Settings(
        rows=args.rows,
        sizes=sorted(set(sizes)),
        reps=args.reps,
        work_dir=Path(args.work_dir).resolve(),
        docs_dir=Path(args.docs_dir).resolve(),
        days=args.days,
        many_files=args.many_files,
        dbt=not args.no_dbt,
        dbt_sizes=_int_list(args.dbt_sizes)
        if args.dbt_sizes
        else (None if args.sizes or args.smoke else [*DEFAULT_DBT_SIZES, args.rows]),
        keep_data=args.keep_data,
        report_only=args.report_only,
        peer_max_rows=args.peer_max_rows,
        skip=[part.strip() for part in args.skip.split(",") if part.strip()],
        smoke=args.smoke,
        target_rows=args.target_rows,
        command=_command_line(argv),
        env=contenders.Env(
            peer_python=args.peer_python, loader_env=loader_env, loader_pythonpath=args.loader_pythonpath
        ),
    )


def _int_list(text: str) -> list[int]:
    return [int(float(part)) for part in text.replace("_", "").split(",") if part.strip()]


def _command_line(argv: list[str] | None) -> str:
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python bench/run_bench.py", *args])


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


class Recorder:
    """Samples per size and contender, written to results.json after every measurement."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data: dict = {
            "machine": {**machine(), **peer_versions(settings.env.peer_python)},
            "command": settings.command,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "git": _git_describe(),
            "headline_rows": settings.rows,
            "smoke": settings.smoke,
            "reps": settings.reps,
            "loader_env": settings.env.loader_env,
            "descriptions": contenders.DESCRIPTIONS,
            "sizes": {},
        }

    def size(self, rows: int) -> dict:
        return self.data["sizes"].setdefault(str(rows), {"rows": rows, "contenders": {}, "skipped": {}})

    def add(self, rows: int, contender: str, sample: Sample) -> None:
        entry = self.size(rows)["contenders"].setdefault(
            contender, {"seconds": [], "cpu_seconds": [], "peak_rss_bytes": []}
        )
        entry["seconds"].append(round(sample.seconds, 4))
        entry["cpu_seconds"].append(round(sample.cpu_seconds, 4))
        entry["peak_rss_bytes"].append(sample.peak_rss_bytes)
        log(
            f"{rows:>10,} {contender:<16} {sample.seconds:8.2f} s {sample.cpu_seconds:8.2f} cpu s"
            f" {sample.peak_rss_bytes / 2**20:8.0f} MiB"
        )
        self.save()

    def skip(self, rows: int, contender: str, reason: str) -> None:
        self.size(rows)["skipped"][contender] = reason
        self.save()

    def save(self) -> None:
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        (self.settings.work_dir / "results.json").write_text(json.dumps(self.data, indent=1))


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
        "cpu": _cpu_model(),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": _version("dbt-core"),
        "dlt": _version("dlt"),
        "pandas": _version("pandas"),
    }


def peer_versions(python: str) -> dict:
    """dlt's and pandas' versions as the peers' interpreter sees them."""
    code = (
        "import importlib.metadata as m\n"
        "for d in ('dlt', 'pandas'):\n"
        "    try: print(m.version(d))\n"
        "    except m.PackageNotFoundError: print('')\n"
    )
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False).stdout.splitlines()
    except OSError:
        out = []
    dlt, pandas = ([*(line.strip() for line in out), "", ""])[:2]
    return {"dlt": dlt or None, "pandas": pandas or None, "peer_python": python}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_describe() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(contenders.PROJECT_DIR), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "-C", str(contenders.PROJECT_DIR), "status", "--porcelain", "--", "loader", "models", "macros"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    sha = out.stdout.strip() or "unknown"
    return f"{sha} (uncommitted changes in loader/models/macros)" if dirty.stdout.strip() else sha


def _fresh(path: Path) -> Path:
    """A path for a new DuckDB file: nothing there, nor its WAL."""
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _drop(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)


def rotated(items: tuple[str, ...] | list[str], rep: int) -> list[str]:
    if not items:
        return []
    k = rep % len(items)
    return [*items[k:], *items[:k]]


def run_ingest(settings: Settings, rec: Recorder, data: datagen.Dataset) -> None:
    """Floor, loader and peers over the 90 daily files, alternating, `reps` times each."""
    env = settings.env
    runnable = []
    names = [*contenders.INGEST, "load_patched"] if env.loader_pythonpath else list(contenders.INGEST)
    for name in names:
        missing = contenders.missing_module(env, name)
        if name in settings.skip:
            rec.skip(data.rows, name, "--skip")
        elif name in contenders.PEERS and settings.peer_max_rows and data.rows > settings.peer_max_rows:
            rec.skip(data.rows, name, f"--peer-max-rows {settings.peer_max_rows:,} (time budget)")
        elif missing:
            rec.skip(data.rows, name, f"`{missing}` not installed for {env.peer_python}")
            log(f"skip {name}: {missing} not installed")
        else:
            runnable.append(name)
    scratch = settings.work_dir / "run"
    for rep in range(settings.reps):
        for name in rotated(runnable, rep):
            database = _fresh(scratch / f"{name}.duckdb")
            shutil.rmtree(scratch / "dlt_pipelines", ignore_errors=True)
            cmd = contenders.ingest_command(env, name, data.history_dir, database, scratch)
            extra = {**env.base_env(), **(env.loader_env if name.startswith("load") else {})}
            if name == "load_patched":
                extra["PYTHONPATH"] = str(env.loader_pythonpath)
            # `python -m` puts the working folder first on sys.path: run the patched copy from its own.
            cwd = env.loader_pythonpath if name == "load_patched" else str(contenders.PROJECT_DIR)
            sample = run_measured(cmd, env=extra, cwd=cwd)
            _check_rows(database, name, data.rows)
            rec.add(data.rows, name, sample)
            _drop(database)
    shutil.rmtree(scratch / "dlt_pipelines", ignore_errors=True)


def _check_rows(database: Path, contender: str, expected: int) -> None:
    """Every contender must have landed every row, or its time means nothing."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        table = "impression_rows" if contender in ("floor", "floor_fixed", "pandas") else "sigma_raw.impression_rows"
        got = con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()
    if got != expected:
        raise ContenderFailed(f"{contender} landed {got} rows, expected {expected}")


def run_noop(settings: Settings, rec: Recorder, data: datagen.Dataset) -> None:
    """First load of the many-files set, then the same load again with everything landed."""
    env = settings.env
    extra = {**env.base_env(), **env.loader_env}
    for _ in range(settings.reps):
        database = _fresh(settings.work_dir / "run" / "noop.duckdb")
        cmd = contenders.ingest_command(env, "load", data.files500_dir, database, settings.work_dir)
        rec.add(data.rows, "noop_first", run_measured(cmd, env=extra, cwd=str(contenders.PROJECT_DIR)))
        sample = run_measured(cmd, env=extra, cwd=str(contenders.PROJECT_DIR))
        if "skipped=" in sample.output and f"skipped={len(data.files500)}" not in sample.output:
            raise ContenderFailed(f"the re-run was not a no-op: {sample.output[-500:]}")
        rec.add(data.rows, "noop_rerun", sample)
        _drop(database)


def run_dbt(settings: Settings, rec: Recorder, data: datagen.Dataset) -> None:
    """dbt build from scratch on the history, one more daily file, incremental build, and the
    hand-written SQL of all the marts (bench/marts_reference.sql) on the same landed rows."""
    env = settings.env
    work = settings.work_dir / "run"
    base = _fresh(work / "dbt_base.duckdb")
    load = contenders.ingest_command(env, "load", data.history_dir, base, work)
    run_measured(load, env={**env.base_env(), **env.loader_env}, cwd=str(contenders.PROJECT_DIR))
    _add_inventory(base, data)
    sql_file = work / "marts_reference.sql"
    sql_file.write_text(
        marts_reference.reference_sql(
            data.as_of_date,
            parsed_rows=marts_reference.FIXED_HEADER_ROWS,
            file_columns=marts_reference.NO_EVENT_COLUMNS,
            workbooks="bench_inventory.workbooks",
            elements="bench_inventory.workbook_elements",
        )
    )
    dbt_env = contenders.dbt_env(env, base)
    # Parse once so that every measured build uses the same (partial) parse.
    run_measured(contenders.dbt_command(env, work, base, data.as_of_date, "parse"), env=dbt_env)
    for rep in range(settings.reps):
        database = _fresh(work / "dbt.duckdb")
        shutil.copyfile(base, database)
        dbt_env = contenders.dbt_env(env, database)
        build = contenders.dbt_command(env, work, database, data.as_of_date)
        mart = contenders.sql_command(env, database, sql_file)
        if rep % 2:
            rec.add(data.rows, "mart_sql", run_measured(mart, env=env.base_env()))
        try:
            full = run_measured(build, env=dbt_env, cwd=str(contenders.PROJECT_DIR))
        except ContenderFailed as failed:
            # A failed build (out of memory, say) is a result: recorded, the next size goes on.
            rec.skip(data.rows, "dbt_full", _failure_reason(str(failed)))
            log(f"dbt_full failed at {data.rows:,} rows: {_failure_reason(str(failed))}")
            _drop(database)
            break
        rec.add(data.rows, "dbt_full", full)
        node_seconds = _keep_run_results(settings, work, f"{data.rows}-rep{rep}-full")
        if node_seconds is not None:
            rec.add(data.rows, "dbt_full_nodes", dataclasses.replace(full, seconds=node_seconds))
        one_day = contenders.ingest_command(env, "load", data.extra_dir, database, work)
        extra = {**env.base_env(), **env.loader_env}
        rec.add(data.rows, "load_one_day", run_measured(one_day, env=extra, cwd=str(contenders.PROJECT_DIR)))
        rec.add(data.rows, "dbt_incremental", run_measured(build, env=dbt_env, cwd=str(contenders.PROJECT_DIR)))
        _keep_run_results(settings, work, f"{data.rows}-rep{rep}-incremental")
        if not rep % 2:
            rec.add(data.rows, "mart_sql", run_measured(mart, env=env.base_env()))
        _drop(database)
    largest = max(settings.dbt_sizes or settings.sizes)
    if data.rows == largest and contenders.shipped_memory_limit() != TARGET_MEMORY_LIMIT:
        # The no-out-of-memory target under memory_limit=1GB, when the shipped profile's limit differs.
        database = _fresh(work / "dbt.duckdb")
        shutil.copyfile(base, database)
        build = contenders.dbt_command(env, work, database, data.as_of_date)
        limited = contenders.dbt_env(env, database, memory_limit=TARGET_MEMORY_LIMIT)
        rec.add(data.rows, "dbt_full_1gb", run_measured(build, env=limited, cwd=str(contenders.PROJECT_DIR)))
        _drop(database)
    _drop(base)


def run_dbt_target_shape(settings: Settings, rec: Recorder) -> None:
    """The memory target: a full dbt build from scratch on `--target-rows` rows (20M) in 90 daily files
    over 1,200 workbooks x 10 elements and 3,000 users, under memory_limit=1GB. One build, recorded as
    `dbt_full_20m_1gb` (or skipped with the engine's error when it fails)."""
    rows, env = settings.target_rows, settings.env
    root = settings.work_dir / "data" / f"shape20m-{rows}"
    data = datagen.generate(root, rows, days=settings.days, many_files=0, shape=datagen.SHAPE_20M)
    entry = rec.size(rows)
    entry.update(files=len(data.history), history_bytes=data.history_bytes, shape=data.shape.describe())
    log(f"{rows:,} rows ({data.shape.describe()}): {len(data.history)} files, {data.history_bytes / 2**20:.0f} MiB")
    work = settings.work_dir / "run"
    database = _fresh(work / "dbt_target_shape.duckdb")
    load = contenders.ingest_command(env, "load", data.history_dir, database, work)
    run_measured(load, env={**env.base_env(), **env.loader_env}, cwd=str(contenders.PROJECT_DIR))
    _add_inventory(database, data)
    build = contenders.dbt_command(env, work, database, data.as_of_date)
    limited = contenders.dbt_env(env, database, memory_limit=TARGET_MEMORY_LIMIT)
    try:
        rec.add(rows, "dbt_full_20m_1gb", run_measured(build, env=limited, cwd=str(contenders.PROJECT_DIR)))
    except ContenderFailed as failed:
        rec.skip(rows, "dbt_full_20m_1gb", _failure_reason(str(failed)))
        log(f"dbt_full_20m_1gb failed at {rows:,} rows: {_failure_reason(str(failed))}")
    _drop(database)
    if not settings.keep_data:
        shutil.rmtree(root, ignore_errors=True)


def _failure_reason(output: str) -> str:
    """One line for the docs: the engine's error when there is one (out of memory, say)."""
    for line in output.splitlines():
        if "Out of Memory" in line:
            return "out of memory: " + line.strip()[:200]
    for line in output.splitlines():
        if "Error" in line:
            return "failed: " + line.strip()[:200]
    return "failed: " + (output.strip().splitlines() or ["unknown"])[0][:200]


def _keep_run_results(settings: Settings, work: Path, name: str) -> float | None:
    """dbt's per-node timings of a measured build, kept in <work-dir>/dbt_runs/ for the analysis;
    returns the sum of the node execution times (None without run_results.json)."""
    source = work / "dbt_target" / "run_results.json"
    if not source.exists():
        return None
    target = settings.work_dir / "dbt_runs"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / f"{name}.json")
    results = json.loads(source.read_text()).get("results", [])
    return sum(float(result.get("execution_time") or 0.0) for result in results)


def _add_inventory(database: Path, data: datagen.Dataset) -> None:
    con = duckdb.connect(str(database))
    try:
        con.execute("create schema if not exists bench_inventory")
        con.execute(
            "create or replace table bench_inventory.workbooks as select * from read_csv($p, all_varchar = true)",
            {"p": str(data.workbooks_csv)},
        )
        con.execute(
            "create or replace table bench_inventory.workbook_elements as "
            "select * from read_csv($p, all_varchar = true)",
            {"p": str(data.elements_csv)},
        )
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    if settings.report_only:
        data = json.loads((settings.work_dir / "results.json").read_text())
        markdown, _ = report.write(data, settings.docs_dir)
        log(f"wrote {markdown}")
        for line in report.headline_lines(data):
            print(line)
        return 0
    rec = Recorder(settings)
    started = time.monotonic()
    log(f"sizes {settings.sizes}, headline {settings.rows:,} rows, {settings.reps} reps, work in {settings.work_dir}")
    dbt_ready = settings.dbt and contenders.models_ready()
    for rows in settings.sizes:
        root = settings.work_dir / "data" / f"rows-{rows}"
        t0 = time.monotonic()
        many_files = settings.many_files if rows == settings.rows else 0
        data = datagen.generate(root, rows, days=settings.days, many_files=many_files)
        entry = rec.size(rows)
        entry.update(
            files=len(data.history),
            history_bytes=data.history_bytes,
            many_files=len(data.files500),
            extra_rows=data.extra_rows,
        )
        log(
            f"{rows:,} rows: {len(data.history)} files, {data.history_bytes / 2**20:.0f} MiB, "
            f"ready in {time.monotonic() - t0:.1f} s"
        )
        run_ingest(settings, rec, data)
        if rows == settings.rows and "noop" in settings.skip:
            rec.skip(rows, "noop", "--skip")
        elif rows == settings.rows:
            run_noop(settings, rec, data)
        if "dbt" in settings.skip:
            rec.skip(rows, "dbt", "--skip")
        elif not settings.dbt:
            rec.skip(rows, "dbt", "smoke run (add --smoke-dbt)" if settings.smoke else "--no-dbt")
        elif not dbt_ready:
            rec.skip(rows, "dbt", "models/marts/ has no models yet")
        elif settings.dbt_sizes is None or rows in settings.dbt_sizes:
            run_dbt(settings, rec, data)
        else:
            rec.skip(rows, "dbt", "not in --dbt-sizes")
        if not settings.keep_data:
            shutil.rmtree(root, ignore_errors=True)
    if "dbt_20m" in settings.skip:
        rec.skip(settings.target_rows, "dbt_full_20m_1gb", "--skip dbt_20m")
    elif not settings.dbt:
        reason = "smoke run (add --smoke-dbt)" if settings.smoke else "--no-dbt"
        rec.skip(settings.target_rows, "dbt_full_20m_1gb", reason)
    elif dbt_ready:
        run_dbt_target_shape(settings, rec)
    rec.data["seconds"] = round(time.monotonic() - started, 1)
    rec.save()
    markdown, png = report.write(rec.data, settings.docs_dir)
    log(f"wrote {markdown} and {png} in {rec.data['seconds']:.0f} s")
    for line in report.headline_lines(rec.data):
        print(line)
    shutil.rmtree(settings.work_dir / "run", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
