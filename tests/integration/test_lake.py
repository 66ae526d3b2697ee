"""The Parquet lake (`load --lake-uri`) on file://, s3:// (moto_server) and gs:// (the GCS emulator):
every record landed or rejected, skip by etag, a changed file replaced, a failed file recorded and
retried, a writer killed mid-file leaves readers seeing nothing of it, column names in lower case,
every folder holding its empty object, and dbt's DuckDB views over the lake (vars.sigma_lake_uri)."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from loader.config import ConfigError, LoadConfig, build_config
from loader.destinations.lake import (
    EMPTY_OBJECT,
    MANIFEST_DIR,
    REJECTS_DIR,
    ROWS_DIR,
    Lake,
    current_entries,
    open_lake,
    read_committed,
    read_manifest,
)
from loader.landing import LoadSummary, run_load
from sigma_impressions.pipeline import RunSettings
from tests.conftest import GcsBucket, S3Bucket
from tests.helpers.accounting import count_records
from tests.helpers.dbt_project import run_dbt
from tests.helpers.exports import ExportDir, query
from tests.helpers.processes import clean_env

HEADER = "request_time,user_email,workbook_url_id,element_id\n"
RUN1 = HEADER + "2026-11-25 10:00,a@x.com,wb1,\n2026-11-25 10:05,b@x.com,wb1,el1\n"
RUN2 = "\ufeffUser Email,Request Time,Workbook URL ID\r\nc@x.com,2026-11-25 11:00,wb2\r\nbroken,line,with,too,many\r\n"
RUN1_CHANGED = RUN1 + "2026-11-25 12:00,d@x.com,wb3,\n"


class Place:
    """Where the exports and the lake live: a folder, an S3 bucket or a GCS bucket."""

    def __init__(self, kind: str, tmp_path: Path, bucket: S3Bucket | GcsBucket | None) -> None:
        self.kind = kind
        self.bucket = bucket
        self.exports = ExportDir(tmp_path / "exports") if bucket is None else None
        self.tmp_path = tmp_path

    def put(self, key: str, body: str | bytes) -> None:
        if self.bucket is None:
            assert self.exports is not None
            self.exports.write(key, body)
        else:
            data = body.encode() if isinstance(body, str) else body
            if key.endswith(".gz") and not data.startswith(b"\x1f\x8b"):
                data = gzip.compress(data)
            self.bucket.put(f"exports/{key}", data)

    @property
    def lake_uri(self) -> str:
        if self.bucket is None:
            return f"file://{self.tmp_path / 'lake'}"
        return f"{self.kind}://{self.bucket.name}/lake"

    def config(self) -> LoadConfig:
        if self.bucket is None:
            assert self.exports is not None
            options = {"bucket_uri": self.exports.uri, "database": str(self.tmp_path / "unused.duckdb")}
        else:
            options = self.bucket.options("exports", self.tmp_path / "unused.duckdb")
        return build_config({**options, "days_back": "6", "lake_uri": self.lake_uri}, env={})

    def load(self) -> LoadSummary:
        summary = run_load(self.config())
        assert not (self.tmp_path / "unused.duckdb").exists(), "a lake load must not touch the DuckDB file"
        return summary

    def lake(self) -> Lake:
        config = self.config()
        assert config.lake is not None
        return open_lake(config, config.lake)


@pytest.fixture(params=["file", "s3", "gs"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "file":
        return Place("file", tmp_path, None)
    bucket = request.getfixturevalue("s3_bucket" if request.param == "s3" else "gcs_bucket")
    return Place(request.param, tmp_path, bucket)


def _rows_by_file(place: Place) -> dict[str, int]:
    table = read_committed(place.lake())
    counts: dict[str, int] = {}
    for uri in table.column("_file_uri").to_pylist():
        counts[uri.rsplit("/", 1)[-1]] = counts.get(uri.rsplit("/", 1)[-1], 0) + 1
    return counts


def test_every_record_lands_or_is_rejected_with_its_line(place: Place) -> None:
    place.put("run1.csv", RUN1)
    place.put("run2.csv.gz", RUN2)
    summary = place.load()
    assert summary.ok and summary.count("loaded") == 2
    assert summary.rows_loaded + summary.rows_rejected == count_records(RUN1.encode()) + count_records(RUN2.encode())
    rows = read_committed(place.lake())
    assert rows.num_rows == summary.rows_loaded == 3
    # One column per header, in lower case, the loader's columns beside them; Parquet schemas merged.
    assert {"request_time", "user email", "request time", "_file_row_number", "_loaded_at"} <= set(rows.column_names)
    assert all(name == name.lower() for name in rows.column_names)
    rejects = read_committed(place.lake(), "rejected_lines").to_pylist()
    assert [(r["line_number"], r["raw_text"]) for r in rejects] == [(3, "broken,line,with,too,many")]
    entries = current_entries(read_manifest(place.lake()))
    assert {e["status"] for e in entries.values()} == {"loaded"}
    assert all(e["etag"] for e in entries.values())
    # The manifest names the columns as written in the data object, the headers as written in the file.
    second = next(e for e in entries.values() if e["file_uri"].endswith("run2.csv.gz"))
    assert (second["headers"], second["columns"]) == (
        ["User Email", "Request Time", "Workbook URL ID"],
        ["user email", "request time", "workbook url id"],
    )


def test_every_folder_holds_its_empty_object_from_the_first_load(place: Place) -> None:
    summary = place.load()  # no export yet
    assert summary.ok and summary.files_seen == 0
    lake = place.lake()
    for folder in (ROWS_DIR, REJECTS_DIR, MANIFEST_DIR):
        names = [p.rsplit("/", 1)[-1] for p in lake.fs.ls(lake.path(folder), detail=False)]
        assert names == [EMPTY_OBJECT], folder
    assert read_manifest(lake).num_rows == 0
    place.put("run2.csv.gz", RUN2)
    place.load()
    entries = list(current_entries(read_manifest(lake)).values())
    for folder, column in ((ROWS_DIR, "rows_file"), (REJECTS_DIR, "rejects_file")):
        with lake.fs.open(lake.path(f"{folder}/{EMPTY_OBJECT}"), "rb") as handle:
            empty = pq.read_schema(handle)
        with lake.fs.open(lake.path(entries[0][column]), "rb") as handle:
            written = pq.read_schema(handle)
        # The same Parquet types as the objects it is unioned with, its columns those of every object.
        assert [written.field(name) for name in empty.names] == list(empty), folder
        names = sorted(p.rsplit("/", 1)[-1] for p in lake.fs.ls(lake.path(folder), detail=False))
        assert names[0] == EMPTY_OBJECT and len(names) == 2  # sorts first, written once


def test_rerun_skips_by_etag_and_commits_nothing(place: Place) -> None:
    place.put("run1.csv", RUN1)
    place.load()
    log_before = read_manifest(place.lake()).num_rows
    again = place.load()
    assert (again.count("loaded"), again.count("skipped")) == (0, 1)
    assert read_manifest(place.lake()).num_rows == log_before
    assert _rows_by_file(place) == {"run1.csv": 2}


def test_changed_file_replaces_its_earlier_version(place: Place) -> None:
    place.put("run1.csv", RUN1)
    place.load()
    if place.exports is not None:  # a local file's etag is size + mtime
        place.exports.write("run1.csv", RUN1_CHANGED, age=timedelta(minutes=1))
    else:
        place.put("run1.csv", RUN1_CHANGED)
    summary = place.load()
    assert summary.count("loaded") == 1
    assert _rows_by_file(place) == {"run1.csv": 3}  # the new version only, never both
    log = read_manifest(place.lake())
    assert log.num_rows == 2  # the log is append-only: the older row stays, the newer one counts


def test_failed_file_is_recorded_and_retried(place: Place) -> None:
    place.put("run1.csv", RUN1)
    place.put("bad.csv.gz", b"\x1f\x8bnot really gzip")
    summary = place.load()
    assert (summary.count("loaded"), summary.count("failed")) == (1, 1)
    entries = {uri.rsplit("/", 1)[-1]: e for uri, e in current_entries(read_manifest(place.lake())).items()}
    assert entries["bad.csv.gz"]["status"] == "failed"
    assert "gzip" in entries["bad.csv.gz"]["error"]
    assert entries["bad.csv.gz"]["rows_file"] is None
    assert _rows_by_file(place) == {"run1.csv": 2}

    if place.exports is not None:
        place.exports.write("bad.csv.gz", gzip.compress(RUN1.encode()), age=timedelta(minutes=1))
    else:
        place.put("bad.csv.gz", gzip.compress(RUN1.encode()))
    retried = place.load()
    assert (retried.count("loaded"), retried.count("skipped"), retried.count("failed")) == (1, 1, 0)
    assert _rows_by_file(place) == {"run1.csv": 2, "bad.csv.gz": 2}


def test_lake_objects_are_zstd_parquet(tmp_path: Path) -> None:
    place = Place("file", tmp_path, None)
    place.put("run1.csv", RUN1)
    place.load()
    (entry,) = current_entries(read_manifest(place.lake())).values()
    metadata = pq.ParquetFile(tmp_path / "lake" / entry["rows_file"]).metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert len(list((tmp_path / "lake" / MANIFEST_DIR).glob("*.parquet"))) == 2  # the empty object, one commit


def test_bad_lake_uri_is_one_clear_line() -> None:
    with pytest.raises(ConfigError, match="--lake-uri must start with s3://, gs:// or file://"):
        build_config({"bucket_uri": "file:///x", "lake_uri": "hdfs://cluster/lake"}, env={})
    with pytest.raises(ConfigError, match="--lake-uri must not be inside --bucket-uri"):
        build_config({"bucket_uri": "s3://b/exports"}, env={"SIGMA_IMPRESSIONS_LAKE_URI": "s3://b/exports/lake"})
    lake = build_config({"bucket_uri": "s3://b/exports"}, env={"SIGMA_IMPRESSIONS_LAKE_URI": "s3://b/lake"}).lake
    assert str(lake) == "s3://b/lake/"


def _write_big(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for start in range(0, rows, 100_000):
            out.write(
                "".join(
                    f"2026-11-25 {i % 24:02d}:{i % 60:02d}:00,user{i % 997}@x.com,wb{i % 101},el{i % 13}\n"
                    for i in range(start, min(start + 100_000, rows))
                )
            )


def test_writer_killed_mid_file_leaves_nothing_readers_see(tmp_path: Path) -> None:
    exports = ExportDir(tmp_path / "exports")
    exports.write("small.csv", RUN1, age=timedelta(hours=2))
    _write_big(exports.root / "big.csv", 2_000_000)
    lake_dir = tmp_path / "lake"
    args = [str(Path(sys.executable).parent / "sigma-impressions"), "load", "--bucket-uri", exports.uri]
    args += ["--days-back", "6", "--lake-uri", f"file://{lake_dir}"]
    process = subprocess.Popen(args, cwd=tmp_path, env=clean_env(), stdout=subprocess.DEVNULL)
    rows_dir = lake_dir / ROWS_DIR
    deadline = time.monotonic() + 120
    # Kill once the big file's data object is being written (a hidden temp object in the folder).
    while time.monotonic() < deadline and process.poll() is None:
        if rows_dir.exists() and any(name.startswith(".") for name in os.listdir(rows_dir)):
            break
        time.sleep(0.005)
    assert process.poll() is None, "the writer finished before it could be killed: make the file bigger"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    config = build_config({"bucket_uri": exports.uri, "days_back": "6", "lake_uri": f"file://{lake_dir}"}, env={})
    assert config.lake is not None
    lake = open_lake(config, config.lake)
    # small.csv and big.csv are one batch: neither is committed, so readers see no record of either.
    assert current_entries(read_manifest(lake)) == {}
    assert read_committed(lake).num_rows == 0

    rerun = subprocess.run([*args], cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "loaded=2" in rerun.stdout
    assert read_committed(lake).num_rows == 2_000_002


def test_run_with_a_lake_builds_the_duckdb_marts_from_it(tmp_path: Path) -> None:
    exports = ExportDir(tmp_path / "exports")
    exports.write("run1.csv", RUN1)
    lake_uri = f"file://{tmp_path / 'lake'}"
    settings = RunSettings.from_options({"bucket_uri": exports.uri, "lake_uri": lake_uri, "vars": "{a: 1}"}, env={})
    assert settings.load.lake is not None
    assert '"sigma_lake_uri": "' + lake_uri + '/"' in (settings.dbt.vars or "")
    assert '"a": 1' in (settings.dbt.vars or "")

    database = tmp_path / "reader.duckdb"
    args = [str(Path(sys.executable).parent / "sigma-impressions"), "run", "--bucket-uri", exports.uri]
    args += ["--lake-uri", lake_uri, "--database", str(database)]
    env = clean_env(DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"))
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "loaded=1" in done.stdout
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("select count(*) from marts.fct_sigma_impressions").fetchone()
        view = con.execute(
            "select table_type from information_schema.tables "
            "where table_schema = 'sigma_raw' and table_name = 'impression_rows'"
        ).fetchone()
    assert rows == (2,)
    assert view == ("VIEW",)  # the raw relations are views over the lake, not landed tables


STAGING = ["run", "--select", "stg_sigma__impression_rows", "stg_sigma__rejected_lines", "stg_sigma__loaded_files"]


def _view_columns(database: Path, view: str) -> list[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return [row[0] for row in con.execute(f"describe sigma_raw.{view}").fetchall()]


@pytest.mark.dbt
def test_duckdb_reads_the_lake_through_static_views(tmp_path: Path) -> None:
    """A lake with no file yet, then files spelling a header in other cases, read by dbt on DuckDB."""
    place = Place("file", tmp_path, None)
    assert place.exports is not None
    place.load()  # nothing exported yet: the folders hold their empty objects only
    reader = tmp_path / "reader.duckdb"
    dbt_vars = {"sigma_lake_uri": place.lake_uri}
    run_dbt(STAGING, reader, tmp_path / "dbt", vars=dbt_vars)
    metadata = ["_file_uri", "_file_row_number", "_loaded_at", "_integration_name"]
    assert _view_columns(reader, "impression_rows") == metadata
    assert query(reader, "select count(*) from staging.stg_sigma__impression_rows") == [(0,)]

    place.exports.write(
        "first.csv", "Request_Time,User_Email,Workbook_URL_ID\n2026-11-25 10:00,a@x.com,wb1\n", age=timedelta(hours=3)
    )
    place.load()
    place.exports.write(
        "later.csv",
        "request_time,user_email,workbook_url_id\n2026-11-25 11:00,b@x.com,wb2\nx,y\n",
        age=timedelta(hours=2),
    )
    place.exports.write(
        "first.csv", "Request_Time,User_Email,Workbook_URL_ID\n2026-11-25 10:30,c@x.com,wb1\n", age=timedelta(hours=1)
    )
    place.load()
    lake = tmp_path / "lake"
    # An object no manifest row names (a killed writer's, under a committed-looking name): never read.
    (entry,) = [e for e in current_entries(read_manifest(place.lake())).values() if e["file_uri"].endswith("later.csv")]
    (lake / ROWS_DIR / "99999999T999999999999Z-left.parquet").write_bytes((lake / entry["rows_file"]).read_bytes())

    run_dbt(STAGING, reader, tmp_path / "dbt", vars=dbt_vars)
    assert _view_columns(reader, "impression_rows") == [*metadata, "request_time", "user_email", "workbook_url_id"]
    staged = query(
        reader,
        "select _file_uri, request_time, user_email, rejection_reason "
        "from staging.stg_sigma__impression_rows order by request_time",
    )
    assert [(uri.rsplit("/", 1)[-1], str(at), email, reason) for uri, at, email, reason in staged] == [
        ("first.csv", "2026-11-25 10:30:00", "c@x.com", None),  # the replaced version is not read
        ("later.csv", "2026-11-25 11:00:00", "b@x.com", None),  # one request_time column feeds both
    ]
    assert query(reader, "select line_number, raw_text from staging.stg_sigma__rejected_lines") == [(3, "x,y")]
    files = query(reader, "select file_uri, headers, rows_loaded from sigma_raw.loaded_files order by 1")
    assert [(uri.rsplit("/", 1)[-1], headers, loaded) for uri, headers, loaded in files] == [
        ("first.csv", ["Request_Time", "User_Email", "Workbook_URL_ID"], 1),
        ("later.csv", ["request_time", "user_email", "workbook_url_id"], 1),
    ]
