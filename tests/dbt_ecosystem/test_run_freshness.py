"""`sigma-impressions run` checks the export's freshness after the build: one line, exit 1 only
at error level. Through the CLI's function (tests/helpers/cli.py) on a real DuckDB file; time passing is the manifest's
last_modified moved back (what a stopped export schedule looks like a few days later). The builds
select the export files' mart and what it reads (`+sigma_export_files`): the manifest's staging
model, which the freshness reads, and one mart for the publish step), and the tests on those alone
(DBT_INDIRECT_SELECTION=cautious: the accounting test also reads models this build leaves out).
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.helpers.cli import cli_in_process
from tests.helpers.exports import ExportDir

pytestmark = pytest.mark.dbt

BODY = "request_time,user_email,workbook_url_id\n2026-11-20 10:00,a@x.com,Revenue-Overview-4kTq8ZpL2mWx9RbN\n"
SELECT = ("--select", "+sigma_export_files")
QUESTION = "is Sigma's export schedule running?"


def _run(export_dir: ExportDir, database: Path, work: Path) -> subprocess.CompletedProcess[str]:
    argv = ["run", "--bucket-uri", export_dir.uri, "--database", str(database), "--days-back", "6", *SELECT]
    argv += ["--published-database", str(work / "snapshot.duckdb")]
    env = {"DBT_TARGET_PATH": str(work / "target"), "DBT_LOG_PATH": str(work / "logs"), "DBT_LOG_LEVEL": "warn"}
    return cli_in_process(argv, DBT_INDIRECT_SELECTION="cautious", **env)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("run_freshness")
    exports = ExportDir(root / "exports")
    exports.write("sigma_audit_run-1.csv", BODY, age=timedelta(days=5))
    database = root / "w.duckdb"
    result = _run(exports, database, root)
    return {"exports": exports, "database": database, "root": root, "result": result}


def _age_manifest(database: Path, days: float) -> None:
    con = duckdb.connect(str(database))
    try:
        con.execute(f"update sigma_raw.loaded_files set last_modified = last_modified - interval {days * 24} hours")
    finally:
        con.close()


def test_a_warning_prints_one_line_and_exits_0(first_run: dict) -> None:
    result = first_run["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"newest export file is 5.0 days old: {QUESTION}" in result.stdout.splitlines()
    assert "newest export file" not in result.stderr


def test_an_error_prints_the_line_and_exits_1(first_run: dict) -> None:
    _age_manifest(first_run["database"], 3)  # three days later, still no new file
    result = _run(first_run["exports"], first_run["database"], first_run["root"])
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "dbt build: " in result.stdout  # the build itself succeeded
    assert result.stderr.strip().splitlines() == [
        f"sigma-impressions: error: newest export file is 8.0 days old: {QUESTION}"
    ]


def test_pipeline_run_returns_the_freshness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sigma_impressions.pipeline import EXIT_OK, RunSettings, run

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "cautious")
    exports = ExportDir(tmp_path / "exports")
    exports.write("sigma_audit_run-1.csv", BODY, age=timedelta(days=2))
    settings = RunSettings.from_options(
        {
            "bucket_uri": exports.uri,
            "database": str(tmp_path / "w.duckdb"),
            "published_database": str(tmp_path / "snapshot.duckdb"),
            "days_back": "6",
            "select": "+sigma_export_files",
        },
        env={},
    )
    steps: list[str] = []
    result = run(settings, on_step=lambda step, r: steps.append(step))
    assert steps == ["load", "dbt", "publish", "freshness"]
    assert result.freshness is not None
    assert (result.freshness.status, result.exit_code, result.errors) == ("warn", EXIT_OK, [])
    assert result.freshness.line() == f"newest export file is 2.0 days old: {QUESTION}"
