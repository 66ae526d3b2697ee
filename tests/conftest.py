"""Shared fixtures: real storage servers on free loopback ports, export writers, a DuckDB reader.

moto_server (S3 over HTTP) and gcp-storage-emulator (GCS JSON API) run as separate processes,
started once per test session and stopped at the end. Nothing is patched in-process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.helpers.exports import ExportDir

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# moto accepts any key pair; these are the only credentials the tests use.
AWS_KEY_ID = "AKIATESTKEY000000001"
AWS_SECRET = "test-secret-Zq8Vx2Lm9Pw4"


# A test that uses one of these fixtures talks to a server the session starts: it is marked
# `emulator` (pyproject.toml's markers), so the edit loop can leave it out.
EMULATOR_FIXTURES = {"moto_endpoint", "gcs_endpoint"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if EMULATOR_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.emulator)


# pytest-xdist (make test: -n 2 --dist loadscope) runs each module on one worker. Modules that
# share a session-scoped build go to the same worker, so it is built once.
SHARED_BUILDS = {
    "tests/functional/test_fixture_marts.py": "the fixture build",
    "tests/functional/test_incremental.py": "the fixture build",
    "tests/e2e/test_make_run_steps.py": "the demo's make run",
    "tests/e2e/test_html_report.py": "the demo's make run",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    class SharedBuildScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return SHARED_BUILDS.get(module, module)

    return SharedBuildScheduling(config, log)


def pytest_report_header(config: pytest.Config) -> str:
    import dbt.version

    return f"duckdb {duckdb.__version__}, dbt-core {dbt.version.__version__}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout}s")


def start_server(args: list[str], port: int, name: str, log: Path) -> subprocess.Popen:
    handle = open(log, "wb")  # noqa: SIM115 - closed when the process is stopped
    process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    process.log_handle = handle  # type: ignore[attr-defined]
    _wait_for_port(port, process, name)
    return process


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    process.log_handle.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="session", autouse=True)
def published_snapshot_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`run` publishes to warehouse/sigma_impressions_marts.duckdb by default: in tests that do
    not choose a snapshot path it goes under the session's tmp folder, never into the checkout."""
    path = tmp_path_factory.mktemp("published") / "sigma_impressions_marts.duckdb"
    patch = pytest.MonkeyPatch()
    patch.setenv("SIGMA_IMPRESSIONS_PUBLISHED_PATH", str(path))
    yield path
    patch.undo()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real moto_server process: an S3 HTTP endpoint on a free loopback port."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    process = start_server([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], port, "moto_server", log)
    yield f"http://127.0.0.1:{port}"
    stop_server(process)


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real gcp-storage-emulator process on a free loopback port (in-memory)."""
    port = free_port()
    log = tmp_path_factory.mktemp("gcs") / "gcs.log"
    args = [
        str(BIN / "gcp-storage-emulator"),
        "start",
        "--host=127.0.0.1",
        f"--port={port}",
        "--in-memory",
        "-q",
    ]
    process = start_server(args, port, "gcp-storage-emulator", log)
    yield f"http://127.0.0.1:{port}"
    stop_server(process)


class S3Bucket:
    """A fresh bucket on moto_server, with helpers to write exports into it."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.name = f"sigma-{uuid.uuid4().hex[:12]}"
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=AWS_KEY_ID,
            aws_secret_access_key=AWS_SECRET,
            region_name="us-east-1",
        )
        self.client.create_bucket(Bucket=self.name)

    def put(self, key: str, body: bytes | str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.name, Key=key)

    def options(self, prefix: str, database: Path, **extra: object) -> dict:
        return {
            "bucket_uri": f"s3://{self.name}/{prefix}",
            "endpoint_url": self.endpoint,
            "aws_access_key_id": AWS_KEY_ID,
            "aws_secret_access_key": AWS_SECRET,
            "aws_region": "us-east-1",
            "database": str(database),
            **extra,
        }


@pytest.fixture
def s3_bucket(moto_endpoint: str) -> S3Bucket:
    return S3Bucket(moto_endpoint)


class GcsBucket:
    """A fresh bucket on the GCS emulator."""

    def __init__(self, endpoint: str) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        self.endpoint = endpoint
        self.name = f"sigma-{uuid.uuid4().hex[:12]}"
        client = storage.Client(
            credentials=AnonymousCredentials(),
            project="test",
            client_options={"api_endpoint": endpoint},
        )
        self.bucket = client.create_bucket(self.name)

    def put(self, key: str, body: bytes | str) -> None:
        self.bucket.blob(key).upload_from_string(body.encode() if isinstance(body, str) else body)

    def delete(self, key: str) -> None:
        self.bucket.blob(key).delete()

    def options(self, prefix: str, database: Path, **extra: object) -> dict:
        return {"bucket_uri": f"gs://{self.name}/{prefix}", "database": str(database), **extra}


@pytest.fixture
def gcs_bucket(gcs_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> GcsBucket:
    # The usual Google client configuration: the emulator host comes from the environment.
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_endpoint)
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    return GcsBucket(gcs_endpoint)


@pytest.fixture
def export_dir(tmp_path: Path) -> ExportDir:
    return ExportDir(tmp_path / "exports")
