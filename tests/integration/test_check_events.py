"""`sigma-impressions check` prints the newest export file's event mix: each (event name, status) with its
rows and whether it counts, and says when no row would count (the source is then not usable, exit 1).

Against a folder (file://) and moto_server (s3://), with a raw audit-log export (every event, Title Case
headers) and the classic shape (impressions only, no event columns)."""

from __future__ import annotations

import gzip
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from loader.check import CheckReport, run_check
from loader.config import build_config
from tests.conftest import BIN, S3Bucket
from tests.helpers.exports import ExportDir
from tests.helpers.processes import clean_env

CLI = str(BIN / "sigma-impressions")
RAW_HEADER = '"Event Name","Event Status","User Email","Timestamp","Workbook URL ID"\n'
RAW = RAW_HEADER + (
    "Open Workbook,Success,a@x.com,2026-11-25 10:00,wb1\n"
    "open workbook , SUCCESS\t,b@x.com,2026-11-25 10:01,wb1\n"
    "View Element,,c@x.com,2026-11-25 10:02,wb2\n"
    "Sign In,Success,a@x.com,2026-11-25 09:59,\n"
    "Sign In,Success,b@x.com,2026-11-25 09:58,\n"
    "Export Data,Failed,a@x.com,2026-11-25 10:03,wb1\n"
    "Open Workbook,successful,d@x.com,2026-11-25 10:04,wb1\n"
    "too,few,fields\n"  # rejected by `load`: not a row of the mix
)
NO_VIEWS = RAW_HEADER + "Sign In,Success,a@x.com,2026-11-25 09:59,\nExport Data,Success,a@x.com,2026-11-25 10:03,wb1\n"
CLASSIC = "request_time,user_email,workbook_url_id,element_id\n2026-11-25 10:00,a@x.com,wb1,el1\n"
PATTERNS = "vars.sigma_view_event_pattern ('view|open') / vars.sigma_success_status_pattern ('success|succeeded|ok')"


class Source:
    """Where the exports are: a folder or an S3 bucket on moto_server."""

    def __init__(self, tmp_path: Path, bucket: S3Bucket | None) -> None:
        self.tmp_path, self.bucket = tmp_path, bucket
        self.folder = ExportDir(tmp_path / "exports")

    def put(self, name: str, body: str, age: timedelta = timedelta(hours=1)) -> str:
        """Write an export (gzip when the name says so); its URI."""
        if self.bucket is None:
            self.folder.write(name, body, age=age)
            return f"{self.folder.uri}/{name}"
        data = gzip.compress(body.encode()) if name.endswith(".gz") else body.encode()
        self.bucket.put(f"exports/{name}", data)
        return f"s3://{self.bucket.name}/exports/{name}"

    def options(self) -> dict:
        if self.bucket is None:
            return {"bucket_uri": self.folder.uri, "database": str(self.tmp_path / "w.duckdb")}
        return self.bucket.options("exports", self.tmp_path / "w.duckdb")

    def check(self) -> CheckReport:
        return run_check(build_config(self.options(), env={}))

    def cli(self) -> subprocess.CompletedProcess[str]:
        args = [CLI, "check"]
        for key, value in self.options().items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        return subprocess.run(args, capture_output=True, text=True, env=clean_env(), timeout=120)


@pytest.fixture(params=["file", "s3"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Source:
    return Source(tmp_path, request.getfixturevalue("s3_bucket") if request.param == "s3" else None)


def test_the_event_mix_of_a_raw_audit_log_export(source: Source) -> None:
    # Older (or, on S3 within the same second, sorting first by name): not the file `check` reads.
    source.put("0-classic.csv", CLASSIC, age=timedelta(hours=2))
    uri = source.put("audit.csv.gz", RAW)
    report = source.check()
    assert report.usable, report.lines()
    assert report.mapping["event_name"] == ["Event Name"] and report.mapping["event_status"] == ["Event Status"]
    assert report.mapping["request_time"] == ["Timestamp"]
    lines = report.lines()
    start = lines.index(f"events in {uri} (event name / status: rows): 3 of 7 rows counted")
    assert lines[start + 1 : start + 7] == [
        "  'Sign In' / 'Success': 2 rows, not counted",
        "  'Export Data' / 'Failed': 1 row, not counted",
        "  'Open Workbook' / 'Success': 1 row, counted",
        "  'Open Workbook' / 'successful': 1 row, not counted",
        "  'View Element' / '': 1 row, counted",
        "  'open workbook' / 'SUCCESS': 1 row, counted",
    ]
    assert lines[-1] == "usable: yes"
    assert not [line for line in lines if "no view events" in line]


def test_no_view_events_makes_the_source_unusable(source: Source) -> None:
    uri = source.put("audit.csv", NO_VIEWS)
    report = source.check()
    assert not report.usable and not report.missing_required
    assert report.lines()[-1] == (
        f"not usable: no view events in {uri}: no row matches {PATTERNS}; "
        "set them in dbt_project.yml to your export's event names"
    )
    result = source.cli()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(r"^not usable: no view events in \S+audit\.csv: no row matches vars\.", result.stdout, re.M)
    assert "usable: yes" not in result.stdout


def test_the_classic_shape_counts_every_row(source: Source) -> None:
    uri = source.put("classic.csv.gz", CLASSIC)
    report = source.check()
    assert report.usable
    lines = report.lines()
    assert f"events in {uri}: no event name or status column: every row counts" in lines
    assert re.search(r"event_name\s+not present \(optional: every row is a view\)", "\n".join(lines))
    result = source.cli()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every row counts" in result.stdout and "usable: yes" in result.stdout


def test_a_gzip_cut_off_after_its_header_is_what_load_would_fail(export_dir: ExportDir, tmp_path: Path) -> None:
    body = RAW_HEADER + "".join(f"Open Workbook,Success,u{n}@x.com,2026-11-25 10:00,wb{n % 7}\n" for n in range(20_000))
    data = gzip.compress(body.encode())
    export_dir.write("audit.csv.gz", data[: len(data) // 2])
    report = run_check(build_config({"bucket_uri": export_dir.uri, "database": str(tmp_path / "w.duckdb")}, env={}))
    assert not report.usable
    assert report.problem is not None
    assert report.problem.startswith("`load` would mark the newest file failed: not a readable gzip file")


def test_a_bad_pattern_var_is_one_line(export_dir: ExportDir, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    text = (Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text()
    assert 'sigma_view_event_pattern: "view|open"' in text
    (project / "dbt_project.yml").write_text(text.replace('pattern: "view|open"', "pattern: '(view'"))
    export_dir.write("audit.csv", RAW)
    args = [CLI, "check", "--bucket-uri", export_dir.uri]
    result = subprocess.run(
        args, capture_output=True, text=True, env=clean_env(SIGMA_IMPRESSIONS_PROJECT_DIR=str(project)), timeout=120
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.search(
        r"^not usable: .*vars\.sigma_view_event_pattern is not a valid regular expression", result.stdout, re.M
    )
