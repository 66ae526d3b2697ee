"""`sigma-impressions publish` and `report` on the snapshot, as real processes: exit codes, one
line per error, the default paths, the report while another process holds the working file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.unit.test_report import MARTS_DDL

CLI = str(Path(sys.executable).parent / "sigma-impressions")


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGMA_IMPRESSIONS_")}
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, cwd=cwd, env={**clean, **(env or {})}, timeout=120
    )


def one_line_error(result: subprocess.CompletedProcess, code: int, fragment: str) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def working(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse" / "sigma_impressions.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute(MARTS_DDL)
        con.execute("create schema staging")
        con.execute("create table staging.not_published as select 1 as x")
    return path


@pytest.fixture
def holder(working: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the working file for writing, as a load or dbt build does."""
    script = f"import duckdb, time; c = duckdb.connect({str(working)!r}); print('held', flush=True); time.sleep(120)"
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.wait()


def test_publish_and_report_use_the_default_paths(tmp_path: Path, working: Path) -> None:
    missing = cli("report", cwd=tmp_path)
    line = one_line_error(missing, 1, "no published snapshot at warehouse/sigma_impressions_marts.duckdb")
    assert "sigma-impressions publish" in line and "sigma-impressions run" in line

    done = cli("publish", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    snapshot = tmp_path / "warehouse" / "sigma_impressions_marts.duckdb"
    assert done.stdout.strip().splitlines() == [
        f"publish: {_marts(working)} marts, {_rows(working)} rows, as of 2026-11-26"
        " -> warehouse/sigma_impressions_marts.duckdb"
    ]
    with duckdb.connect(str(snapshot), read_only=True) as con:
        schemas = sorted({s for (s,) in con.execute("select table_schema from information_schema.tables").fetchall()})
        info = con.execute("select source_database, load_summary, dbt_result from snapshot_info").fetchall()
    assert schemas == ["main", "marts", "sigma_raw"]
    assert info == [(str(working), None, None)]

    from_snapshot = cli("report", "--format", "json", cwd=tmp_path)
    from_working = cli("report", "--format", "json", "--database", str(working), cwd=tmp_path)
    assert from_snapshot.returncode == from_working.returncode == 0, from_snapshot.stderr + from_working.stderr
    assert json.loads(from_snapshot.stdout) == json.loads(from_working.stdout)
    assert json.loads(from_snapshot.stdout)["files"], "the files section reads the ledger in the snapshot"


def test_the_env_var_and_the_option_choose_the_snapshot(tmp_path: Path, working: Path) -> None:
    by_env = tmp_path / "by-env" / "snap.duckdb"
    by_option = tmp_path / "by-option" / "snap.duckdb"
    env = {"SIGMA_IMPRESSIONS_PUBLISHED_PATH": str(by_env), "SIGMA_IMPRESSIONS_DUCKDB_PATH": str(working)}
    assert cli("publish", cwd=tmp_path, env=env).returncode == 0
    assert by_env.is_file() and not (tmp_path / "warehouse" / "sigma_impressions_marts.duckdb").exists()
    assert cli("publish", "--published-database", str(by_option), cwd=tmp_path, env=env).returncode == 0
    assert by_option.is_file()
    assert cli("report", "--section", "users", "--format", "csv", cwd=tmp_path, env=env).returncode == 0
    by_option.unlink()
    one_line_error(
        cli("report", "--published-database", str(by_option), cwd=tmp_path, env=env), 1, "no published snapshot"
    )


def test_publish_while_the_working_file_is_held_exits_3_and_writes_nothing(
    tmp_path: Path, working: Path, holder: subprocess.Popen
) -> None:
    snapshot = tmp_path / "snap.duckdb"
    in_use = cli("publish", "--database", str(working), "--published-database", str(snapshot), cwd=tmp_path)
    one_line_error(in_use, 3, "is in use by another process")
    assert not snapshot.exists() and list(tmp_path.glob("snap.duckdb*")) == []
    holder.kill()
    holder.wait()
    assert (
        cli("publish", "--database", str(working), "--published-database", str(snapshot), cwd=tmp_path).returncode == 0
    )


def test_a_held_working_file_blocks_only_its_own_readers(tmp_path: Path, working: Path) -> None:
    snapshot = tmp_path / "snap.duckdb"
    assert (
        cli("publish", "--database", str(working), "--published-database", str(snapshot), cwd=tmp_path).returncode == 0
    )
    script = f"import duckdb, time; c = duckdb.connect({str(working)!r}); print('held', flush=True); time.sleep(120)"
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        for fmt in ("table", "markdown", "json", "csv"):
            done = cli("report", "--format", fmt, "--published-database", str(snapshot), cwd=tmp_path)
            assert done.returncode == 0 and done.stdout, done.stderr
        line = one_line_error(
            cli("report", "--database", str(working), cwd=tmp_path), 1, "is in use by another process"
        )
        assert "read the published snapshot instead" in line
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--published-database", "{tmp}/marts.duckdb"], 2, "something other than marts.duckdb"),
        (["--published-database", "{working}"], 2, "must not be the working database"),
        (["--database", "{tmp}/absent.duckdb"], 1, "no database at"),
        (["--database", "{tmp}/empty.duckdb"], 1, "has no marts: run dbt build first"),
    ],
)
def test_publish_errors_are_one_line_and_change_nothing(
    tmp_path: Path, working: Path, args: list[str], code: int, fragment: str
) -> None:
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    snapshot = tmp_path / "snap.duckdb"
    base = ["--database", str(working), "--published-database", str(snapshot)]
    assert cli("publish", *base, cwd=tmp_path).returncode == 0
    before = snapshot.read_bytes()
    filled = [a.format(tmp=tmp_path, working=working) for a in args]
    line = one_line_error(cli("publish", *base, *filled, cwd=tmp_path), code, fragment)
    if code == 1:
        assert line.startswith("sigma-impressions: error: publish failed, the previous snapshot is unchanged: ")
    assert snapshot.read_bytes() == before
    assert not (tmp_path / "marts.duckdb").exists()


def _marts(working: Path) -> int:
    with duckdb.connect(str(working), read_only=True) as con:
        query = "select count(*) from information_schema.tables where table_schema = 'marts'"
        return con.execute(query).fetchone()[0]


def _rows(working: Path) -> int:
    with duckdb.connect(str(working), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables where table_schema = 'marts'").fetchall()
        return sum(con.execute(f"select count(*) from marts.{t}").fetchone()[0] for (t,) in tables)
