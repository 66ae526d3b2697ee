"""Storage: list an export prefix and fetch objects, for s3://, gs:// and file://.

One fsspec filesystem per scheme (s3fs, gcsfs, the local filesystem). Credentials are passed to
the filesystem object, never written into the environment. Remote reads are retried with
bounded exponential backoff (tenacity) on errors that can pass; a missing object is not retried.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from loader.config import BucketUri, LoadConfig

EXPORT_NAME = re.compile(r"\.csv(\.gz)?$", re.IGNORECASE)
# Bounded retries, one layer each: botocore's standard mode (exponential backoff with jitter on
# 500/503/SlowDown/connection errors) and s3fs's own loop for S3; gcsfs's fixed loop (6) for GCS; and
# tenacity around a whole-file download, for a body cut off mid-transfer.
SDK_ATTEMPTS = 3
DOWNLOAD_ATTEMPTS = 3
CONNECT_TIMEOUT = 10  # seconds
READ_TIMEOUT = 60  # seconds without a byte from the server: the request is retried


class StorageError(RuntimeError):
    """Listing or reading the prefix failed; the message says what to check."""


@dataclass(frozen=True)
class ExportObject:
    """One export file found under the prefix."""

    uri: str  # full URI: s3://b/k, gs://b/k, file:///p
    path: str  # the path the filesystem understands
    etag: str  # S3 ETag, GCS generation, local size+mtime
    size_bytes: int
    last_modified: datetime  # UTC, timezone-aware

    @property
    def is_gzip(self) -> bool:
        return self.uri.lower().endswith(".gz")


@dataclass(frozen=True)
class Listing:
    """What the prefix holds: the export files in the window, and what was passed over."""

    in_window: list[ExportObject]
    older: int  # export files outside the window
    ignored: int  # objects that are not .csv / .csv.gz
    unsafe: list[str]  # local entries that point outside the prefix (symlinks), never read
    newest_at: datetime | None = None  # the newest export file's last_modified, in the window or not


def make_filesystem(config: LoadConfig) -> Any:
    """The fsspec filesystem for the prefix's scheme, with explicit credentials if given."""
    scheme = config.bucket.scheme
    if scheme == "file":
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()
    if scheme == "s3":
        import s3fs

        client_kwargs: dict[str, Any] = {}
        if config.aws_region:
            client_kwargs["region_name"] = config.aws_region
        if config.endpoint_url:
            client_kwargs["endpoint_url"] = config.endpoint_url
        kwargs: dict[str, Any] = {
            "client_kwargs": client_kwargs,
            "config_kwargs": {
                "retries": {"max_attempts": SDK_ATTEMPTS, "mode": "standard"},
                "connect_timeout": CONNECT_TIMEOUT,
                "read_timeout": READ_TIMEOUT,
            },
            "use_listings_cache": False,
            "skip_instance_cache": True,
        }
        if config.aws:
            kwargs.update(
                key=config.aws.access_key_id,
                secret=config.aws.secret_access_key,
                token=config.aws.session_token,
            )
        fs = s3fs.S3FileSystem(**kwargs)
        fs.retries = SDK_ATTEMPTS  # s3fs's own loop around each call (a class attribute)
        return fs
    # gs://: the core GCSFileSystem, named directly. gcsfs's default class (chosen by the env var
    # GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT) probes an experimental gRPC path that waits a minute
    # when it cannot connect; naming the class avoids it without touching the environment.
    from gcsfs.core import GCSFileSystem

    token = "anon" if os.environ.get("STORAGE_EMULATOR_HOST") else None
    return GCSFileSystem(token=token, skip_instance_cache=True, use_listings_cache=False)


def list_exports(fs: Any, bucket: BucketUri, days_back: int, now: datetime | None = None) -> Listing:
    """List the prefix recursively as a folder and keep the exports modified in the window."""
    now = now or datetime.now(UTC)
    since = now - timedelta(hours=24 * days_back)
    objects, unsafe = _list_local(bucket) if bucket.scheme == "file" else _list_remote(fs, bucket)
    in_window: list[ExportObject] = []
    older = ignored = 0
    newest_at: datetime | None = None
    for obj in objects:
        if not EXPORT_NAME.search(obj.uri):
            ignored += 1
            continue
        newest_at = obj.last_modified if newest_at is None else max(newest_at, obj.last_modified)
        if obj.last_modified >= since:
            in_window.append(obj)
        else:
            older += 1
    in_window.sort(key=lambda o: (o.last_modified, o.uri))
    return Listing(in_window, older, ignored, unsafe, newest_at)


def _list_remote(fs: Any, bucket: BucketUri) -> tuple[list[ExportObject], list[str]]:
    root = bucket.fs_path
    try:
        found = fs.find(root, detail=True, withdirs=False)
    except FileNotFoundError:
        return [], []
    except Exception as exc:
        raise StorageError(f"cannot list {bucket}: {describe_error(exc, bucket.scheme)}") from exc
    objects = []
    for path, info in found.items():
        if info.get("type") == "directory" or path.endswith("/"):
            continue
        if not path.startswith(root):  # belongs to a sibling prefix such as exports-old/
            continue
        objects.append(
            ExportObject(
                uri=f"{bucket.scheme}://{path}",
                path=path,
                etag=_remote_etag(info),
                size_bytes=int(info.get("size") or 0),
                last_modified=_remote_mtime(info),
            )
        )
    return objects, []


def _remote_etag(info: dict) -> str:
    for key in ("ETag", "etag", "generation", "md5Hash"):
        if info.get(key):
            return str(info[key]).strip('"')
    return f"{info.get('size')}-{info.get('LastModified') or info.get('updated')}"


def _remote_mtime(info: dict) -> datetime:
    value = info.get("LastModified") or info.get("updated") or info.get("mtime")
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, int | float):
        stamp = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise StorageError(f"object {info.get('name')!r} has no last-modified time")
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _list_local(bucket: BucketUri) -> tuple[list[ExportObject], list[str]]:
    root = Path(bucket.prefix)
    if not root.exists():
        return [], []
    if not root.is_dir():
        raise StorageError(f"{bucket} is not a folder: point --bucket-uri at the export folder")
    real_root = Path(os.path.realpath(root))
    objects: list[ExportObject] = []
    unsafe: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            real = Path(os.path.realpath(path))
            if real != real_root and real_root not in real.parents:
                unsafe.append(f"file://{path}")
                continue
            try:
                stat = path.stat()
            except OSError:
                continue  # vanished while listing, or a dangling symlink
            objects.append(
                ExportObject(
                    uri=f"file://{path}",
                    path=str(path),
                    etag=f"{stat.st_size}-{stat.st_mtime_ns}",
                    size_bytes=stat.st_size,
                    last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                )
            )
    return objects, unsafe


@contextlib.contextmanager
def local_copy(fs: Any, obj: ExportObject, scheme: str, workdir: str | None = None) -> Iterator[str]:
    """Yield a local path holding the object's bytes; remote objects are downloaded first."""
    if scheme == "file":
        _check_unchanged(obj)
        yield obj.path
        return
    suffix = ".csv.gz" if obj.is_gzip else ".csv"
    handle, local = tempfile.mkstemp(prefix="sigma-export-", suffix=suffix, dir=workdir)
    os.close(handle)
    try:
        try:
            _with_retry(_download)(fs, obj.path, local, obj.size_bytes)
        except Exception as exc:  # any client's error type (aiohttp, botocore, gcsfs): one line
            raise StorageError(f"cannot read the object: {describe_error(exc, scheme)}") from exc
        yield local
    finally:
        with contextlib.suppress(OSError):
            os.remove(local)


class IncompleteDownload(OSError):
    """Fewer bytes arrived than the listing announced: cut off, or the object changed."""


def _check_unchanged(obj: ExportObject) -> None:
    """A local file must still be what was listed (size and mtime, following links): a file being
    written, or swapped for a symlink to a file outside the prefix after listing, is not read."""
    try:
        stat = os.stat(obj.path)
    except OSError as exc:
        raise StorageError(f"cannot read the file: {describe_error(exc, 'file')}") from exc
    if f"{stat.st_size}-{stat.st_mtime_ns}" != obj.etag:
        raise StorageError("the file changed after it was listed (still being written?): the next run reads it")


def _download(fs: Any, remote: str, local: str, size_bytes: int | None = None) -> None:
    with fs.open(remote, "rb", block_size=8 * 1024 * 1024) as src, open(local, "wb") as dst:
        shutil.copyfileobj(src, dst, length=8 * 1024 * 1024)
    got = os.path.getsize(local)
    # Fewer bytes than listed: a body cut off, or the object replaced while reading. (More bytes is
    # allowed: GCS serves objects stored with Content-Encoding: gzip decompressed.)
    if size_bytes is not None and got < size_bytes:
        raise IncompleteDownload(
            f"read {got} of the {size_bytes} bytes listed: the object was cut off or replaced while reading"
        )


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, FileNotFoundError | PermissionError):
        return False
    text = f"{type(exc).__name__} {exc}".lower()
    if any(word in text for word in ("accessdenied", "forbidden", "403", "nosuchbucket")):
        return False
    return isinstance(exc, OSError | TimeoutError | ConnectionError) or any(
        word in text
        for word in (
            "timeout",
            "timed out",
            "slowdown",
            "503",
            "500",
            "reset",
            "connection",
            "throttl",
            "payload",  # aiohttp's ClientPayloadError: a body cut off
            "disconnected",
            "incomplete",
        )
    )


def _with_retry(func: Any) -> Any:
    return retry(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(DOWNLOAD_ATTEMPTS),
        wait=wait_exponential(multiplier=0.2, max=5),
        reraise=True,
    )(func)


# What read access is called in each scheme's words, for "access denied".
ACCESS_NEEDED = {
    "s3": "the credentials need s3:ListBucket on the bucket and s3:GetObject on the prefix",
    "gs": "the credentials need storage.objects.list and storage.objects.get on the bucket",
    "file": "the user running the loader needs read permission on the folder and its files",
}


def describe_error(exc: BaseException, scheme: str) -> str:
    """One readable line for a storage error of an s3://, gs:// or file:// source, without a traceback."""
    if isinstance(exc, FileNotFoundError):
        return "object not found (deleted or moved after listing?)"
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return (
            "no AWS credentials found: pass --aws-access-key-id and --aws-secret-access-key, "
            "or configure the AWS credential chain (env, profile, instance role)"
        )
    if name == "DefaultCredentialsError":
        return (
            "no Google credentials found: run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS"
        )
    denied = isinstance(exc, PermissionError) or (
        scheme != "file" and ("AccessDenied" in str(exc) or "403" in str(exc))
    )
    if denied:
        needed = ACCESS_NEEDED.get(scheme, "check read permission on the source")
        return f"{'permission denied' if scheme == 'file' else 'access denied'}: {needed}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
