"""Storage faults for real: a fault-injecting proxy on loopback between the loader and the servers.

The loader reaches moto_server through the proxy (`endpoint_url`) and the GCS emulator through it
(`STORAGE_EMULATOR_HOST`). Transient faults are retried (botocore standard mode, s3fs's and gcsfs's
own loops, tenacity around a whole download: all bounded) and the file lands; a file that keeps
failing is marked failed while the others land; a later run without faults lands it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from loader import storage
from loader.config import build_config
from loader.landing import run_load
from tests.conftest import AWS_KEY_ID, AWS_SECRET, GcsBucket, S3Bucket
from tests.helpers.accounting import count_records
from tests.helpers.fault_proxy import FaultProxy

BIN = Path(sys.executable).parent
HEADER = "request_time,user_email,workbook_url_id\n"
FILES = {
    f"exports/f{i}.csv": HEADER + "".join(f"2026-11-25 10:0{j},u{j}@x.com,wb{i}\n" for j in range(i + 2))
    for i in range(3)
}
# Upper bound of GET attempts for one object: botocore standard mode (3) x s3fs's loop x tenacity (3).
MAX_S3_ATTEMPTS = 4 * storage.SDK_ATTEMPTS * storage.DOWNLOAD_ATTEMPTS


def assert_all_accounted(db: Path, bucket_name: str, expect_failed: set[str] = frozenset()) -> int:
    """Every file of FILES loaded with its records, except `expect_failed` (failed, nothing landed)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select file_uri, status, rows_loaded, rows_rejected, error, "
            "(select count(*) from sigma_raw.impression_rows r where r._file_uri = f.file_uri) "
            "from sigma_raw.loaded_files f"
        ).fetchall()
    got = {uri.split(f"{bucket_name}/", 1)[1]: rest for uri, *rest in rows}
    assert set(got) == set(FILES)
    compared = 0
    for key, (status, loaded, rejected, error, landed) in got.items():
        if key in expect_failed:
            assert (status, landed) == ("failed", 0) and error and "\n" not in error, (key, error)
        else:
            assert status == "loaded", (key, error)
            assert (loaded, rejected, landed) == (count_records(FILES[key].encode()), 0, loaded)
            compared += loaded
    return compared


@pytest.fixture
def s3_proxy(s3_bucket: S3Bucket) -> Iterator[tuple[S3Bucket, FaultProxy]]:
    for key, body in FILES.items():
        s3_bucket.put(key, body)
    proxy = FaultProxy(s3_bucket.endpoint, flavor="s3").start()
    yield s3_bucket, proxy
    proxy.stop()


@pytest.fixture
def gcs_proxy(gcs_bucket: GcsBucket, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GcsBucket, FaultProxy]]:
    for key, body in FILES.items():
        gcs_bucket.put(key, body)
    proxy = FaultProxy(gcs_bucket.endpoint, flavor="gcs").start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
    yield gcs_bucket, proxy
    proxy.stop()


def s3_config(bucket: S3Bucket, proxy: FaultProxy, db: Path):
    return build_config({**bucket.options("exports", db), "endpoint_url": proxy.url}, env={})


@pytest.mark.parametrize("mode", ["500", "503", "slowdown", "reset"])
def test_s3_transient_faults_are_retried_and_every_file_lands(s3_proxy, tmp_path: Path, mode: str) -> None:
    bucket, proxy = s3_proxy
    proxy.add(mode, match="/exports/f1.csv", method="GET", times=2)
    proxy.add(mode, match="list-type=2", method="GET", times=1)
    db = tmp_path / "w.duckdb"
    summary = run_load(s3_config(bucket, proxy, db))
    assert summary.ok, [r.error for r in summary.results]
    assert proxy.injected(mode) == 3
    assert proxy.requests("/exports/f1.csv", "GET") == 3, "two faults, then the retry that got the body"
    assert proxy.requests("list-type=2") == 2
    assert assert_all_accounted(db, bucket.name) == 2 + 3 + 4


def test_s3_stall_past_the_read_timeout_is_retried(
    s3_proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, time_limit: type
) -> None:
    bucket, proxy = s3_proxy
    monkeypatch.setattr(storage, "READ_TIMEOUT", 1)
    proxy.add("stall", match="/exports/f2.csv", method="GET", times=1, stall_seconds=8)
    db = tmp_path / "w.duckdb"
    started = time.monotonic()
    with time_limit(60):
        summary = run_load(s3_config(bucket, proxy, db))
    assert summary.ok, [r.error for r in summary.results]
    assert time.monotonic() - started < 8, "the read timed out and was retried; it did not wait for the stall"
    assert proxy.injected("stall") == 1 and proxy.requests("/exports/f2.csv", "GET") == 2
    assert_all_accounted(db, bucket.name)


def test_s3_file_that_keeps_failing_is_failed_the_others_land_and_a_rerun_lands_it(s3_proxy, tmp_path: Path) -> None:
    """Through the real `sigma-impressions load` process: exit 1, one line per failed file, no traceback."""
    bucket, proxy = s3_proxy
    proxy.add("500", match="/exports/f1.csv", method="GET", times=None)
    db = tmp_path / "w.duckdb"
    argv = [
        str(BIN / "sigma-impressions"),
        "load",
        "--bucket-uri",
        f"s3://{bucket.name}/exports",
        "--endpoint-url",
        proxy.url,
        "--aws-access-key-id",
        AWS_KEY_ID,
        "--aws-secret-access-key",
        AWS_SECRET,
        "--aws-region",
        "us-east-1",
        "--database",
        str(db),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGMA_IMPRESSIONS_", "AWS_"))}
    first = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)
    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stdout + first.stderr
    assert "summary files_seen=3 loaded=2 skipped=0 failed=1" in first.stdout
    failed = [line for line in first.stdout.splitlines() if line.startswith("failed ")]
    assert failed and all("f1.csv" in line and "internal error" in line.lower() for line in failed)
    assert AWS_SECRET not in first.stdout + first.stderr
    attempts = proxy.requests("/exports/f1.csv", "GET")
    assert 3 <= attempts <= MAX_S3_ATTEMPTS, f"{attempts} attempts: retried, and bounded"
    assert proxy.injected("500") == attempts
    assert_all_accounted(db, bucket.name, expect_failed={"exports/f1.csv"})

    proxy.clear()  # the store recovers; a later run lands the file
    second = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "summary files_seen=3 loaded=1 skipped=2 failed=0" in second.stdout
    assert assert_all_accounted(db, bucket.name) == 9


def test_s3_listing_that_keeps_failing_is_one_clear_line(s3_proxy, tmp_path: Path) -> None:
    bucket, proxy = s3_proxy
    proxy.add("503", match="list-type=2", times=None)
    argv = [
        str(BIN / "sigma-impressions"),
        "load",
        "--bucket-uri",
        f"s3://{bucket.name}/exports",
        "--endpoint-url",
        proxy.url,
        "--aws-access-key-id",
        AWS_KEY_ID,
        "--aws-secret-access-key",
        AWS_SECRET,
        "--database",
        str(tmp_path / "w.duckdb"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGMA_IMPRESSIONS_", "AWS_"))}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sigma-impressions: error: cannot list s3://"), done.stderr
    assert 2 <= proxy.injected("503") <= MAX_S3_ATTEMPTS


@pytest.mark.parametrize("mode", ["503", "reset"])
def test_gcs_transient_faults_are_retried_and_every_file_lands(gcs_proxy, tmp_path: Path, mode: str) -> None:
    bucket, proxy = gcs_proxy
    proxy.add(mode, match="exports%2Ff1.csv?alt=media", method="GET", times=2)
    db = tmp_path / "w.duckdb"
    summary = run_load(build_config(bucket.options("exports", db), env={}))
    assert summary.ok, [r.error for r in summary.results]
    assert proxy.injected(mode) == 2
    assert assert_all_accounted(db, bucket.name) == 9


@pytest.mark.slow
def test_gcs_file_that_keeps_failing_is_failed_and_the_others_land(gcs_proxy, tmp_path: Path) -> None:
    """gcsfs's own loop backs off 1, 2, 4, 8, 16 s per call: this takes minutes, so it is slow."""
    bucket, proxy = gcs_proxy
    proxy.add("503", match="exports%2Ff1.csv?alt=media", method="GET", times=None)
    db = tmp_path / "w.duckdb"
    summary = run_load(build_config(bucket.options("exports", db), env={}))
    assert summary.count("failed") == 1 and summary.count("loaded") == 2
    assert_all_accounted(db, bucket.name, expect_failed={"exports/f1.csv"})
    assert proxy.injected("503") >= 2
    proxy.clear()
    assert run_load(build_config(bucket.options("exports", db), env={})).ok
    assert_all_accounted(db, bucket.name)
