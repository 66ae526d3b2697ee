"""The loader process under duress: SIGKILL mid-file, two loads at once, a full disk, a read-only path.

Each case runs the real `sigma-impressions load` executable. After a kill, the database holds
whole files only; the next run finishes the job and the raw tables equal an undisturbed run's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest

from tests.helpers.exports import ExportDir
from tests.helpers.processes import (
    assert_no_partial_file,
    clean_env,
    file_size_limit,
    load_argv,
    raw_snapshot,
    without_root_overrides,
)

HEADER = "request_time,user_email,workbook_url_id,element_id,count\n"


def write_big(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for start in range(0, rows, 100_000):
            out.write(
                "".join(
                    f"2026-11-25 {i % 24:02d}:{i % 60:02d}:00,user{i % 997}@x.com,wb{i % 101},el{i % 13},1\n"
                    for i in range(start, min(start + 100_000, rows))
                )
            )
        out.write("broken,line\n")


def export_folder(tmp_path: Path, rows: int) -> ExportDir:
    """small_a (oldest), big (rows records + 1 rejected), small_b (newest): landed in that order."""
    folder = ExportDir(tmp_path / "exports")
    folder.write("small_a.csv", HEADER + "2026-11-25 01:00:00,a@x.com,wb1,,1\n", age=timedelta(hours=3))
    folder.write("big.csv", "", age=timedelta(hours=2))
    write_big(folder.root / "big.csv", rows)
    stamp = time.time() - 7200
    os.utime(folder.root / "big.csv", (stamp, stamp))
    folder.write("small_b.csv", HEADER + "2026-11-25 02:00:00,b@x.com,wb2,,1\n", age=timedelta(hours=1))
    return folder


def time_on_big_file(argv: list[str], big: Path, kill_after: float | None = None) -> tuple[float, int]:
    """Run load; from the moment it opens `big`, wait `kill_after` s and SIGKILL it (None: let it finish).
    Returns (seconds from opening `big` to the end, exit code)."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=clean_env())
    watched = psutil.Process(process.pid)
    opened_at = None
    deadline = time.monotonic() + 120
    while opened_at is None and process.poll() is None and time.monotonic() < deadline:
        try:
            if any(f.path == str(big) for f in watched.open_files()):
                opened_at = time.monotonic()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            break
        time.sleep(0.005)
    assert opened_at is not None, "the loader never opened the big file"
    if kill_after is not None:
        time.sleep(kill_after)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
    code = process.wait(timeout=300)
    process.stderr.close()
    return time.monotonic() - opened_at, code


def kill_and_resume(tmp_path: Path, rows: int, fractions: list[float]) -> int:
    folder = export_folder(tmp_path, rows)
    big = folder.root / "big.csv"
    reference = tmp_path / "reference.duckdb"
    seconds, code = time_on_big_file(load_argv(folder.uri, reference), big)
    assert code == 0
    expected = raw_snapshot(reference)
    assert len(expected["impression_rows"]) == rows + 2
    compared = 0
    kills = 0
    for fraction in fractions:
        db = tmp_path / f"killed-{fraction}.duckdb"
        delay = seconds * fraction
        for _ in range(4):  # on a busy machine the run may finish first: kill earlier, on a fresh file
            _, code = time_on_big_file(load_argv(folder.uri, db), big, kill_after=delay)
            if code == -signal.SIGKILL:
                break
            db.unlink()
            Path(f"{db}.wal").unlink(missing_ok=True)
            delay /= 2
        kills += code == -signal.SIGKILL
        assert_no_partial_file(db)
        done = subprocess.run(load_argv(folder.uri, db), capture_output=True, text=True, env=clean_env(), timeout=300)
        assert done.returncode == 0, done.stderr
        assert_no_partial_file(db)
        assert raw_snapshot(db) == expected
        compared += len(expected["impression_rows"])
    assert kills == len(fractions), "every run was killed in the middle of the big file"
    return compared


def test_sigkill_in_the_middle_of_a_large_file_then_rerun(tmp_path: Path) -> None:
    kill_and_resume(tmp_path, rows=300_000, fractions=[0.3, 0.75])


@pytest.mark.slow
def test_sigkill_at_many_points_of_a_3m_row_file(tmp_path: Path) -> None:
    kill_and_resume(tmp_path, rows=3_000_000, fractions=[0.05, 0.2, 0.4, 0.6, 0.8, 0.95])


def test_two_loads_at_once_one_lands_the_other_says_in_use(tmp_path: Path) -> None:
    folder = export_folder(tmp_path, rows=150_000)
    db = tmp_path / "w.duckdb"
    processes = [
        subprocess.Popen(
            load_argv(folder.uri, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
        )
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes in ([0, 0], [0, 3]), outcomes
    for code, out, err in outcomes:
        assert "Traceback" not in out + err
        if code == 3:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and "is in use by another process" in lines[0], err
    assert_no_partial_file(db)
    snapshot = raw_snapshot(db)
    assert len(snapshot["impression_rows"]) == 150_000 + 2
    assert [row[6] for row in snapshot["loaded_files"]] == ["loaded"] * 3


@pytest.mark.parametrize("limit", [64 * 1024, 3 * 1024 * 1024])
def test_disk_full_is_one_clear_line_and_a_rerun_finishes(tmp_path: Path, limit: int) -> None:
    """RLIMIT_FSIZE makes every write past `limit` bytes fail with EFBIG, as a full disk would."""
    folder = export_folder(tmp_path, rows=100_000)
    db = tmp_path / "w.duckdb"
    done = subprocess.run(
        load_argv(folder.uri, db),
        capture_output=True,
        text=True,
        env=clean_env(),
        preexec_fn=file_size_limit(limit),
        timeout=300,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "the disk is full" in lines[0], done.stderr
    again = subprocess.run(load_argv(folder.uri, db), capture_output=True, text=True, env=clean_env(), timeout=300)
    assert again.returncode == 0, again.stderr
    assert_no_partial_file(db)
    assert len(raw_snapshot(db)["impression_rows"]) == 100_000 + 2


def test_read_only_database_path_is_one_clear_line(tmp_path: Path) -> None:
    folder = export_folder(tmp_path, rows=10)
    locked = tmp_path / "locked"
    locked.mkdir()
    existing = tmp_path / "locked" / "existing.duckdb"
    first = subprocess.run(load_argv(folder.uri, existing), capture_output=True, env=clean_env(), timeout=120)
    assert first.returncode == 0
    existing.chmod(0o444)
    locked.chmod(0o555)
    try:
        for database in (locked / "new.duckdb", existing, locked / "sub" / "new.duckdb"):
            done = subprocess.run(
                load_argv(folder.uri, database),
                capture_output=True,
                text=True,
                env=clean_env(),
                preexec_fn=without_root_overrides,
                timeout=120,
            )
            assert done.returncode == 3, (database, done.stdout, done.stderr)
            assert "Traceback" not in done.stdout + done.stderr
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and str(database) in lines[0], done.stderr
            assert "read-only" in lines[0] or "cannot create the folder" in lines[0], lines[0]
    finally:
        locked.chmod(0o755)
        existing.chmod(0o644)
