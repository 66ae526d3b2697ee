"""`sigma-impressions check` shows the newest export file's age, judged like dbt source freshness."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.helpers.exports import ExportDir

CLI = str(Path(sys.executable).parent / "sigma-impressions")
BODY = "request_time,user_email,workbook_url_id\n2026-11-25 10:00,a@x.com,wb1\n"
QUESTION = "is Sigma's export schedule running?"


def _check(export_dir: ExportDir) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGMA_IMPRESSIONS_")}
    return subprocess.run(
        [CLI, "check", "--bucket-uri", export_dir.uri, "--days-back", "6"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("age", "line", "code"),
    [
        (timedelta(hours=2), "newest export file is 2.0 hours old", 0),
        (timedelta(days=3.2), f"newest export file is 3.2 days old: {QUESTION}", 0),
        # Past the 6-day window nothing is usable; the age still says why.
        (timedelta(days=8), f"newest export file is 8.0 days old: {QUESTION}", 1),
    ],
    ids=["fresh", "warn", "error"],
)
def test_check_shows_the_newest_files_age(export_dir: ExportDir, age: timedelta, line: str, code: int) -> None:
    export_dir.write("older.csv", BODY, age=age + timedelta(days=1))
    export_dir.write("newest.csv", BODY, age=age)
    export_dir.write("notes.txt", "not an export", age=timedelta(0))  # not an export: ignored
    result = _check(export_dir)
    assert result.returncode == code, result.stdout + result.stderr
    assert line in result.stdout.splitlines()
