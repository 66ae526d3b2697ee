"""The real `sigma-impressions` executable: exit codes, one-line errors, parseable output, secrets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.exports import ExportDir, query

CLI = str(Path(sys.executable).parent / "sigma-impressions")
HEADER = "request_time,user_email,workbook_url_id\n"


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGMA_IMPRESSIONS_")}
    return subprocess.run([CLI, *args], capture_output=True, text=True, env={**clean, **(env or {})}, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, fragment: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--bucket-uri", "ftp://x/y"], "must start with s3://, gs:// or file://"),
        (["--bucket-uri", "s3://"], "must name a bucket"),
        (["--bucket-uri", "s3://b/p", "--days-back", "9"], "maximum is 6"),
        (["--bucket-uri", "s3://b/p", "--aws-access-key-id", "AKIAONLY"], "provide both"),
        (["--bucket-uri", "s3://b/p", "--aws-secret-access-key", "hidden-secret-1"], "provide both"),
        ([], "--bucket-uri is required"),
    ],
)
@pytest.mark.parametrize("command", ["load", "check"])
def test_invalid_options_exit_2_with_one_line(command: str, args: list[str], fragment: str, tmp_path: Path) -> None:
    result = run_cli(command, *args, "--database", str(tmp_path / "w.duckdb"))
    assert_one_line_error(result, 2, fragment)
    assert "hidden-secret-1" not in result.stdout + result.stderr
    assert not (tmp_path / "w.duckdb").exists(), "validation must happen before any I/O"


def test_env_vars_are_read(export_dir: ExportDir, tmp_path: Path) -> None:
    export_dir.write("a.csv", HEADER + "2026-11-25 10:00,a@x.com,wb1\n")
    db = tmp_path / "env.duckdb"
    env = {
        "SIGMA_IMPRESSIONS_BUCKET_URI": export_dir.uri,
        "SIGMA_IMPRESSIONS_DUCKDB_PATH": str(db),
        "SIGMA_IMPRESSIONS_NAME": "from_env",
        "SIGMA_IMPRESSIONS_DAYS_BACK": "2",
    }
    result = run_cli("load", env=env)
    assert result.returncode == 0, result.stderr
    assert query(db, "select integration_name from sigma_raw.loaded_files") == [("from_env",)]


def test_load_output_is_parseable_and_failures_exit_1(export_dir: ExportDir, tmp_path: Path) -> None:
    export_dir.write("good.csv", HEADER + "2026-11-25 10:00,a@x.com,wb1\nonly,two\n")
    export_dir.write("broken.csv.gz", b"\x1f\x8b\x08\x00 definitely not gzip")
    db = tmp_path / "w.duckdb"
    result = run_cli("load", "--bucket-uri", export_dir.uri, "--database", str(db))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    summary = next(line for line in result.stdout.splitlines() if line.startswith("summary "))
    fields = dict(pair.split("=") for pair in summary.split()[1:])
    assert fields["files_seen"] == "2" and fields["loaded"] == "1" and fields["failed"] == "1"
    assert fields["rows"] == "1" and fields["rejected_lines"] == "1"
    assert re.search(r"^failed file://\S+broken\.csv\.gz: not a readable gzip file", result.stdout, re.M)
    again = run_cli("load", "--bucket-uri", export_dir.uri, "--database", str(db))
    fields = dict(pair.split("=") for pair in again.stdout.splitlines()[-2].split()[1:])
    assert (fields["skipped"], fields["failed"]) == ("1", "1")


def test_second_load_on_a_locked_database_gets_a_clear_message(export_dir: ExportDir, tmp_path: Path) -> None:
    export_dir.write("a.csv", HEADER + "2026-11-25 10:00,a@x.com,wb1\n")
    db = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run_cli("load", "--bucket-uri", export_dir.uri, "--database", str(db))
    finally:
        holder.kill()
        holder.wait()
    assert_one_line_error(result, 3, "in use by another process")


def test_read_only_database_location_gets_a_clear_message(export_dir: ExportDir, tmp_path: Path) -> None:
    export_dir.write("a.csv", HEADER + "2026-11-25 10:00,a@x.com,wb1\n")
    result = run_cli("load", "--bucket-uri", export_dir.uri, "--database", "/proc/sigma/w.duckdb")
    assert_one_line_error(result, 3, "/proc/sigma/w.duckdb")


def test_check_reports_mapping_and_usability(export_dir: ExportDir, tmp_path: Path) -> None:
    export_dir.write("old.csv", "x,y\n1,2\n", age=__import__("datetime").timedelta(hours=3))
    export_dir.write("new.csv.gz", "\ufeffRequest Time,EMAIL,Workbook URL ID,views\n2026-11-25 10:00,a@x.com,wb1,2\n")
    result = run_cli("check", "--bucket-uri", export_dir.uri)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "export files in the last 3 day(s): 2" in out
    assert re.search(r"request_time\s+<- 'Request Time'", out)
    assert re.search(r"user_email\s+<- 'EMAIL'", out)
    assert re.search(r"workbook_url_id\s+<- 'Workbook URL ID'", out)
    assert re.search(r"count\s+<- 'views'", out)
    assert re.search(r"element_id\s+not present", out)
    assert "usable: yes" in out


def test_check_names_the_missing_required_column(export_dir: ExportDir) -> None:
    export_dir.write("new.csv", "timestamp,user,element_id\n2026-11-25 10:00,a@x.com,el\n")
    result = run_cli("check", "--bucket-uri", export_dir.uri)
    assert result.returncode == 1
    assert re.search(r"workbook_url_id\s+MISSING \(required\)", result.stdout)
    assert "not usable: missing required column(s) workbook_url_id" in result.stdout


def test_check_with_no_files_is_not_usable(export_dir: ExportDir) -> None:
    export_dir.root.mkdir(parents=True, exist_ok=True)
    result = run_cli("check", "--bucket-uri", export_dir.uri)
    assert result.returncode == 1
    assert "no .csv or .csv.gz export in the window" in result.stdout


def test_help_lists_every_option_and_env_var() -> None:
    out = run_cli("load", "--help").stdout
    for option, env in [
        ("--bucket-uri", "SIGMA_IMPRESSIONS_BUCKET_URI"),
        ("--days-back", "SIGMA_IMPRESSIONS_DAYS_BACK"),
        ("--aws-access-key-id", "SIGMA_IMPRESSIONS_AWS_ACCESS_KEY_ID"),
        ("--aws-secret-access-key", "SIGMA_IMPRESSIONS_AWS_SECRET_ACCESS_KEY"),
        ("--aws-session-token", "SIGMA_IMPRESSIONS_AWS_SESSION_TOKEN"),
        ("--aws-region", "SIGMA_IMPRESSIONS_AWS_REGION"),
        ("--endpoint-url", "SIGMA_IMPRESSIONS_S3_ENDPOINT_URL"),
        ("--database", "SIGMA_IMPRESSIONS_DUCKDB_PATH"),
        ("--name", "SIGMA_IMPRESSIONS_NAME"),
    ]:
        assert option in out and env in out.replace("\n", "").replace(" ", ""), option
