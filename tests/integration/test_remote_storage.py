"""The loader against real storage servers: moto_server (s3://) and gcp-storage-emulator (gs://)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loader.check import run_check
from loader.config import build_config
from loader.destinations.duckdb import open_database
from loader.landing import land_file, run_load
from loader.storage import list_exports, make_filesystem
from tests.conftest import AWS_KEY_ID, AWS_SECRET, GcsBucket, S3Bucket
from tests.helpers.accounting import count_records
from tests.helpers.exports import query

HEADER = "request_time,user_email,workbook_url_id,element_id\n"
EXPORTS = {
    "exports/2026/11/25/run1.csv": (HEADER + "2026-11-25 10:00,a@x.com,wb1,\n2026-11-25 10:05,b@x.com,wb1,el1\n"),
    "exports/run2.csv.gz": gzip.compress(
        (
            "\ufeffUser Email,Request Time,Workbook URL ID\r\n"
            "c@x.com,2026-11-25 11:00,wb2\r\nbroken,line,with,too,many\r\n"
        ).encode()
    ),
    "exports/_SUCCESS": "",
    "exports/manifest.json": "{}",
    "exports-old/stale.csv": HEADER + "2020-01-01 00:00,z@x.com,wb0,\n",
}


def fill(bucket: S3Bucket | GcsBucket) -> None:
    for key, body in EXPORTS.items():
        bucket.put(key, body)


def as_bytes(body: str | bytes) -> bytes:
    return body.encode() if isinstance(body, str) else body


@pytest.fixture(params=["s3", "gs"])
def bucket(request: pytest.FixtureRequest) -> S3Bucket | GcsBucket:
    return request.getfixturevalue("s3_bucket" if request.param == "s3" else "gcs_bucket")


def test_lands_the_prefix_with_every_record_accounted(bucket: S3Bucket | GcsBucket, tmp_path: Path) -> None:
    fill(bucket)
    db = tmp_path / "w.duckdb"
    summary = run_load(build_config(bucket.options("exports", db), env={}))
    assert summary.ok
    scheme = "s3" if isinstance(bucket, S3Bucket) else "gs"
    landed = {r.uri: r for r in summary.results}
    assert set(landed) == {
        f"{scheme}://{bucket.name}/exports/2026/11/25/run1.csv",
        f"{scheme}://{bucket.name}/exports/run2.csv.gz",
    }
    assert summary.ignored_objects == 2
    manifest = query(
        db,
        "select file_uri, status, rows_loaded, rows_rejected, etag, size_bytes, last_modified "
        "from sigma_raw.loaded_files order by file_uri",
    )
    for uri, status, loaded, rejected, etag, size, modified in manifest:
        key = uri.split(f"{bucket.name}/", 1)[1]
        data = as_bytes(EXPORTS[key])
        assert status == "loaded"
        assert loaded + rejected == count_records(data, key.endswith(".gz"))
        assert size == len(data)
        assert etag
        assert abs(modified - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=10)
    assert query(db, 'select count(*), count("User Email") from sigma_raw.impression_rows') == [(3, 1)]


def test_window_idempotency_and_replacement(bucket: S3Bucket | GcsBucket, tmp_path: Path) -> None:
    fill(bucket)
    db = tmp_path / "w.duckdb"
    config = build_config(bucket.options("exports/", db), env={})
    future = datetime.now(UTC) + timedelta(days=3, hours=1)
    assert run_load(config, now=future).files_seen == 0, "objects older than days_back x 24h are not taken"
    assert run_load(config).count("loaded") == 2
    again = run_load(config)
    assert (again.count("loaded"), again.count("skipped")) == (0, 2)
    bucket.put("exports/run2.csv.gz", gzip.compress(b"request_time,user_email,workbook_url_id\nt,u,w\n"))
    third = run_load(config)
    assert (third.count("loaded"), third.count("skipped")) == (1, 1)
    assert query(db, "select count(*) from sigma_raw.impression_rows") == [(3,)]
    assert query(db, "select count(*) from sigma_raw.rejected_lines") == [(0,)]


def test_check_against_the_server(bucket: S3Bucket | GcsBucket, tmp_path: Path) -> None:
    fill(bucket)
    report = run_check(build_config(bucket.options("exports", tmp_path / "w.duckdb"), env={}))
    assert report.files_in_window == 2
    assert report.usable
    assert report.newest is not None and report.newest.uri.endswith("run2.csv.gz")
    assert report.mapping["user_email"] == ["User Email"]
    assert report.mapping["element_id"] == []


def test_object_deleted_after_listing_is_reported_not_fatal(bucket: S3Bucket | GcsBucket, tmp_path: Path) -> None:
    fill(bucket)
    config = build_config(bucket.options("exports", tmp_path / "w.duckdb"), env={})
    fs = make_filesystem(config)
    listing = list_exports(fs, config.bucket, config.days_back)
    bucket.delete("exports/run2.csv.gz")  # the object vanishes between list and read
    with open_database(config) as con:
        results = {obj.uri.rsplit("/", 1)[-1]: land_file(con, fs, obj, config) for obj in listing.in_window}
    assert results["run1.csv"].status == "loaded"
    assert results["run2.csv.gz"].status == "failed"
    assert "not found" in (results["run2.csv.gz"].error or "")
    assert query(tmp_path / "w.duckdb", "select status, rows_loaded from sigma_raw.loaded_files order by file_uri") == [
        ("loaded", 2),
        ("failed", 0),
    ]


def test_explicit_s3_keys_never_reach_output_or_the_database(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    fill(s3_bucket)
    s3_bucket.put("exports/bad.csv.gz", b"not gzip at all")
    db = tmp_path / "w.duckdb"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SIGMA_IMPRESSIONS_"))}
    cli = str(Path(sys.executable).parent / "sigma-impressions")
    outputs = []
    for command in ("check", "load"):
        result = subprocess.run(
            [
                cli,
                command,
                "--bucket-uri",
                f"s3://{s3_bucket.name}/exports",
                "--endpoint-url",
                s3_bucket.endpoint,
                "--aws-access-key-id",
                AWS_KEY_ID,
                "--aws-secret-access-key",
                AWS_SECRET,
                "--aws-region",
                "us-east-1",
                "--database",
                str(db),
            ],
            capture_output=True,
            text=True,
            env=clean,
            timeout=120,
        )
        outputs.append(result.stdout + result.stderr)
        assert "Traceback" not in outputs[-1]
    assert "failed=1" in outputs[1]
    for text in outputs:
        assert AWS_SECRET not in text
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("w.duckdb*"))
    assert AWS_SECRET.encode() not in blob
    assert query(db, "select count(*) from duckdb_secrets()") == [(0,)]


def test_s3_ambient_credential_chain(s3_bucket: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(s3_bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    options = s3_bucket.options("exports", tmp_path / "w.duckdb")
    del options["aws_access_key_id"], options["aws_secret_access_key"]
    summary = run_load(build_config(options, env={}))
    assert summary.ok and summary.count("loaded") == 2


def test_unreachable_endpoint_is_one_clear_line(tmp_path: Path) -> None:
    from tests.conftest import free_port

    cli = str(Path(sys.executable).parent / "sigma-impressions")
    result = subprocess.run(
        [
            cli,
            "load",
            "--bucket-uri",
            "s3://nobucket/exports",
            "--endpoint-url",
            f"http://127.0.0.1:{free_port()}",
            "--aws-access-key-id",
            AWS_KEY_ID,
            "--aws-secret-access-key",
            AWS_SECRET,
            "--database",
            str(tmp_path / "w.db"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("SIGMA_IMPRESSIONS_")},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("sigma-impressions: error: cannot list s3://nobucket/exports/")
    assert AWS_SECRET not in result.stderr
