"""The published snapshot under real processes: a reader asking in a tight loop while `run`
executes with new exports in between, `kill -9` in the middle of a run's publish step, and the
report while a run holds the working file.

One scenario (module fixture), in a tmp folder, through the installed `sigma-impressions`:
run 1 -> reader starts -> new export -> run 2 -> a large extra mart and a new export -> run 3,
killed -9 while it writes the snapshot -> run 4 (reports asked while it runs) -> reader stops.
The expected answers are computed from each snapshot after its run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from sigma_impressions.demo import write_demo
from tests.helpers.exports import ExportDir
from tests.helpers.processes import clean_env
from tests.helpers.snapshots import answers_of

pytestmark = [pytest.mark.dbt, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKBOOK = "Revenue-Overview-4kTq8ZpL2mWx9RbN"
ELEMENT = "rvKpiT0tal"


def _export(rows: int, tag: str) -> str:
    """A new export file: `rows` impressions of an inventory workbook in the last hours."""
    now = datetime.now(UTC)
    lines = ["request_time,user_email,workbook_url_id,element_id,count"]
    for i in range(rows):
        when = (now - timedelta(hours=2, minutes=i)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{when},{tag}{i % 4}@acme.example,{WORKBOOK},{ELEMENT},{1 + i % 3}")
    return "\n".join(lines) + "\n"


class Scenario:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.exports = ExportDir(root / "exports")
        self.working = root / "warehouse" / "sigma_impressions.duckdb"
        self.snapshot = root / "published" / "sigma_impressions_marts.duckdb"
        self.env = clean_env(
            DBT_TARGET_PATH=str(root / "target"),
            DBT_LOG_PATH=str(root / "logs"),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            DBT_LOG_LEVEL="warn",
            PYTHONUNBUFFERED="1",
            SIGMA_IMPRESSIONS_PUBLISHED_PATH=str(self.snapshot),
        )
        self.runs = 0

    def start_run(self) -> tuple[subprocess.Popen, Path]:
        self.runs += 1
        log = self.root / f"run-{self.runs}.log"
        argv = [
            str(BIN / "sigma-impressions"),
            "run",
            "--bucket-uri",
            self.exports.uri,
            "--database",
            str(self.working),
            "--days-back",
            "6",
        ]
        with open(log, "w") as sink:
            process = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=sink, stderr=subprocess.STDOUT)
        return process, log

    def run(self) -> str:
        process, log = self.start_run()
        assert process.wait(timeout=300) == 0, log.read_text()
        return log.read_text()

    def report(self, *extra: str) -> subprocess.CompletedProcess:
        argv = [str(BIN / "sigma-impressions"), "report", "--format", "json", "--limit", "1000", *extra]
        return subprocess.run(argv, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=120)

    def temp_files(self) -> list[Path]:
        return list(self.snapshot.parent.glob(self.snapshot.name + ".tmp-*"))


def _marts(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            n
            for (n,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = current_database() and table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {n: con.execute(f'select * from marts."{n}" order by all').fetchall() for n in names}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    s = Scenario(tmp_path_factory.mktemp("published"))
    write_demo(s.exports.root)
    out: dict = {"scenario": s, "logs": [s.run()]}
    expected = [answers_of(str(s.snapshot))]

    stop = s.root / "stop-reader"
    reader_out = s.root / "reader.jsonl"
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.snapshots", str(s.snapshot), str(reader_out), str(stop)],
        cwd=REPO,
        env=s.env,
    )
    try:
        s.exports.write("sigma_audit_extra-1.csv", _export(40, "first"))
        out["logs"].append(s.run())
        expected.append(answers_of(str(s.snapshot)))
        out["after_run_2"] = _marts(s.snapshot)

        # A large extra mart, so that the publish step of the next run takes long enough to kill.
        with duckdb.connect(str(s.working)) as con:
            con.execute("create table marts.zz_large as select i, md5(i::varchar) as h from range(2500000) t(i)")
        s.exports.write("sigma_audit_extra-2.csv", _export(25, "second"))
        process, log = s.start_run()
        deadline = time.monotonic() + 300
        while not s.temp_files() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        out["killed"] = (process.returncode, log.read_text(), [p.name for p in s.temp_files()])
        out["after_kill"] = _marts(s.snapshot)
        with duckdb.connect(str(s.working)) as con:
            con.execute("drop table marts.zz_large")

        # The next run publishes; reports are asked while it holds the working file.
        process, log = s.start_run()
        reports = []
        while process.poll() is None:
            if "summary files_seen=" in log.read_text() and len(reports) < 3:
                reports.append((s.report(), process.poll() is None))
            time.sleep(0.2)
        assert process.returncode == 0, log.read_text()
        out["logs"].append(log.read_text())
        out["reports_during_run"] = reports
        expected.append(answers_of(str(s.snapshot)))
        out["temp_after_next_run"] = [p.name for p in s.temp_files()]
    finally:
        stop.touch()
        reader.wait(timeout=60)
    out["expected"] = expected
    out["reader"] = [json.loads(line) for line in reader_out.read_text().splitlines()]
    return out


def test_a_concurrent_reader_never_fails_and_sees_one_whole_snapshot_at_a_time(scenario: dict) -> None:
    answers = scenario["reader"]
    errors = [a["error"] for a in answers if "error" in a]
    assert errors == []
    expected = scenario["expected"]
    assert len({json.dumps(e, sort_keys=True) for e in expected}) == 3, "each run changed the marts"
    seen = [expected.index(a["answers"]) if a["answers"] in expected else None for a in answers]
    assert None not in seen, "a reader saw marts that are no published snapshot"
    assert seen == sorted(seen), "a reader went back to an older snapshot"
    assert seen[0] == 0 and seen[-1] == 2 and 1 in seen, "the reader ran across every publish"


def test_kill_9_during_the_publish_step_keeps_the_previous_snapshot(scenario: dict) -> None:
    returncode, log, temp = scenario["killed"]
    assert returncode == -signal.SIGKILL
    assert "dbt build:" in log and "publish:" not in log, "killed during the publish step"
    assert temp, "the killed publish had started its temporary file"
    assert scenario["after_kill"] == scenario["after_run_2"]
    assert "zz_large" not in scenario["after_kill"]


def test_the_next_run_publishes_and_removes_the_killed_runs_temp_file(scenario: dict) -> None:
    s: Scenario = scenario["scenario"]
    assert scenario["temp_after_next_run"] == []
    assert f"publish: {len(_marts(s.working))} marts" in scenario["logs"][-1]
    assert _marts(s.snapshot) == _marts(s.working)
    second = [r for r in _marts(s.snapshot)["fct_sigma_impressions"] if "second" in repr(r)]
    assert len(second) == 25, "the export landed by the killed run is in the new snapshot"
    with duckdb.connect(str(s.snapshot), read_only=True) as con:
        info = con.execute("select source_database, total_rows, load_summary, dbt_result from snapshot_info").fetchall()
    total = sum(len(rows) for rows in _marts(s.snapshot).values())
    assert info == [(str(s.working), total, info[0][2], info[0][3])]
    assert info[0][2].startswith("files_seen=") and info[0][3].startswith("dbt build: ")


def test_every_run_prints_a_publish_line(scenario: dict) -> None:
    s: Scenario = scenario["scenario"]
    assert len(scenario["logs"]) == 3
    for log in scenario["logs"]:
        published = [line for line in log.splitlines() if line.startswith("publish: ")]
        assert len(published) == 1 and published[0].endswith(f"-> {s.snapshot}"), log


def test_the_report_reads_the_snapshot_while_a_run_holds_the_working_file(scenario: dict) -> None:
    reports = scenario["reports_during_run"]
    assert reports, "no report was asked while the run was in progress"
    assert any(during for _, during in reports)
    for done, _ in reports:
        assert done.returncode == 0, done.stderr
        assert "popular" in json.loads(done.stdout)
