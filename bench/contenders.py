"""The command line of each contender, and the environment it runs in.

Every contender is a whole separate process started by `measure.run_measured`. The loader is the
installed console script `sigma-impressions` (what users run); the others are `workers.py`
sub-commands; dbt is the installed `dbt` console script on the project folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
WORKERS = str(BENCH_DIR / "workers.py")

# Contenders of the ingest comparison, in the order of the first repetition (later ones rotate).
INGEST = ("floor", "floor_fixed", "load", "dlt", "pandas")
PEERS = ("dlt", "pandas")
DESCRIPTIONS = {
    "floor": "DuckDB alone: CREATE TABLE AS SELECT * FROM read_csv([files], all_varchar, union_by_name)",
    "floor_fixed": "DuckDB alone, fixed all-VARCHAR schema, no union_by_name (what the loader's reader does)",
    "load": "sigma-impressions load --bucket-uri file://... --days-back 6 into a fresh database",
    "dlt": "dlt filesystem source | read_csv_duckdb(use_pyarrow=True, chunk_size=100000) -> dlt duckdb",
    "pandas": "pandas.read_csv(dtype=str) per file + DuckDB insert of the frame",
    "load_patched": "the same load, with the loader imported from --loader-pythonpath (a proposed patch)",
    "noop_first": "load of 500 files into a fresh database (the first load of the no-op pair)",
    "noop_rerun": "load again with every one of the 500 files already landed",
    "dbt_full": "dbt build from scratch on 90 days of landed history",
    "load_one_day": "load of one more daily file on top of the history",
    "dbt_incremental": "dbt build after that one new daily file (incremental)",
    "mart_sql": "hand-written single query equivalent of marts.sigma_workbook_impressions",
}
PYTHON_NEEDS = {"dlt": "dlt", "pandas": "pandas"}


@dataclass
class Env:
    """Where things run: the interpreter, the console scripts, extra environment."""

    python: str = sys.executable
    peer_python: str = sys.executable  # dlt and pandas run here (a venv of their own: see run_bench --help)
    loader_env: dict[str, str] = field(default_factory=dict)
    loader_pythonpath: str | None = None

    def script(self, name: str) -> list[str]:
        beside = Path(self.python).parent / name
        if beside.exists():
            return [str(beside)]
        found = shutil.which(name)
        if found:
            return [found]
        if name == "sigma-impressions":
            return [self.python, "-m", "sigma_impressions.cli"]
        return [self.python, "-m", name]

    def base_env(self) -> dict[str, str]:
        return {
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "SIGMA_IMPRESSIONS_EXTENSION_DIR": os.environ.get(
                "SIGMA_IMPRESSIONS_EXTENSION_DIR", str(PROJECT_DIR / ".venv" / "duckdb_extensions")
            ),
            "PYTHONDONTWRITEBYTECODE": "1",
        }


def missing_module(env: Env, contender: str) -> str | None:
    """The Python module a contender needs that its interpreter does not have, or None."""
    module = PYTHON_NEEDS.get(contender)
    if not module:
        return None
    if env.peer_python == sys.executable:
        return module if importlib.util.find_spec(module) is None else None
    probe = subprocess.run(
        [env.peer_python, "-c", f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"],
        capture_output=True,
        check=False,
    )
    return module if probe.returncode != 0 else None


def default_peer_python() -> str:
    """BENCH_PEER_PYTHON, else .bench/peers/bin/python when that venv exists, else this interpreter."""
    explicit = os.environ.get("BENCH_PEER_PYTHON")
    if explicit:
        return explicit
    peers = PROJECT_DIR / ".bench" / "peers" / "bin" / "python"
    return str(peers) if peers.exists() else sys.executable


def ingest_command(env: Env, contender: str, files_dir: Path, database: Path, scratch: Path) -> list[str]:
    if contender == "load_patched":
        return [
            env.python,
            "-m",
            "sigma_impressions.cli",
            *ingest_command(env, "load", files_dir, database, scratch)[-7:],
        ]
    if contender == "load":
        return [
            *env.script("sigma-impressions"),
            "load",
            "--bucket-uri",
            f"file://{files_dir}",
            "--days-back",
            "6",
            "--database",
            str(database),
        ]
    if contender == "floor_fixed":
        return [
            env.python,
            WORKERS,
            "floor",
            "--fixed-schema",
            "--database",
            str(database),
            "--files-dir",
            str(files_dir),
        ]
    python = env.peer_python if contender in PEERS else env.python
    cmd = [python, WORKERS, contender, "--database", str(database), "--files-dir", str(files_dir)]
    if contender == "dlt":
        cmd += ["--pipelines-dir", str(scratch / "dlt_pipelines")]
    return cmd


def dbt_command(env: Env, work: Path, database: Path, as_of_date: str, verb: str = "build") -> list[str]:
    variables = {
        "as_of_date": as_of_date,
        "sigma_workbooks_relation": "bench_inventory.workbooks",
        "sigma_workbook_elements_relation": "bench_inventory.workbook_elements",
    }
    return [
        *env.script("dbt"),
        verb,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(work / "dbt_target"),
        "--log-path",
        str(work / "dbt_logs"),
        "--vars",
        json.dumps(variables),
    ]


def dbt_env(env: Env, database: Path) -> dict[str, str]:
    return {**env.base_env(), "SIGMA_IMPRESSIONS_DUCKDB_PATH": str(database)}


def sql_command(env: Env, database: Path, sql_file: Path) -> list[str]:
    return [env.python, WORKERS, "sql", "--database", str(database), "--sql-file", str(sql_file)]


def models_ready() -> bool:
    """True when the dbt marts exist (another engineer writes them): the dbt part can run."""
    marts = PROJECT_DIR / "models" / "marts"
    return (marts / "sigma_workbook_impressions.sql").exists() and (marts / "fct_sigma_impressions.sql").exists()
