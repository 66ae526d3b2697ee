"""Load settings: one validated, immutable object built from CLI options and environment.

Everything here runs before any I/O. A bad value raises ConfigError with one line that says
what to fix; the CLI prints it and exits 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

ALLOWED_SCHEMES = ("s3", "gs", "file")
MAX_DAYS_BACK = 6
DEFAULT_DAYS_BACK = 3
DEFAULT_DATABASE = "warehouse/sigma_impressions.duckdb"
DEFAULT_NAME = "sigma_impressions"

# option name -> environment variable. The env var is the fallback when the option is absent.
ENV_VARS = {
    "bucket_uri": "SIGMA_IMPRESSIONS_BUCKET_URI",
    "days_back": "SIGMA_IMPRESSIONS_DAYS_BACK",
    "aws_access_key_id": "SIGMA_IMPRESSIONS_AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "SIGMA_IMPRESSIONS_AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "SIGMA_IMPRESSIONS_AWS_SESSION_TOKEN",
    "aws_region": "SIGMA_IMPRESSIONS_AWS_REGION",
    "endpoint_url": "SIGMA_IMPRESSIONS_S3_ENDPOINT_URL",
    "database": "SIGMA_IMPRESSIONS_DUCKDB_PATH",
    "lake_uri": "SIGMA_IMPRESSIONS_LAKE_URI",
    "name": "SIGMA_IMPRESSIONS_NAME",
    "memory_limit": "SIGMA_IMPRESSIONS_MEMORY_LIMIT",
    "threads": "SIGMA_IMPRESSIONS_THREADS",
}


class ConfigError(ValueError):
    """A setting is missing or invalid. The message is one line that says what to fix."""


@dataclass(frozen=True)
class AwsCredentials:
    """Explicit AWS credentials. repr() never shows the secret parts."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def secrets(self) -> list[str]:
        return [s for s in (self.secret_access_key, self.session_token) if s]


@dataclass(frozen=True)
class BucketUri:
    """A normalized storage prefix: scheme, bucket (empty for file://) and a prefix ending in '/'."""

    scheme: str
    bucket: str
    prefix: str

    def __str__(self) -> str:
        if self.scheme == "file":
            return f"file://{self.prefix}"
        return f"{self.scheme}://{self.bucket}/{self.prefix}"

    @property
    def fs_path(self) -> str:
        """The prefix as fsspec paths spell it: 'bucket/prefix/' or '/abs/dir/'."""
        return self.prefix if self.scheme == "file" else f"{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class LoadConfig:
    bucket: BucketUri
    days_back: int = DEFAULT_DAYS_BACK
    database: str = DEFAULT_DATABASE
    name: str = DEFAULT_NAME
    aws: AwsCredentials | None = None
    aws_region: str | None = None
    endpoint_url: str | None = None
    memory_limit: str | None = None
    threads: int | None = None
    lake: BucketUri | None = None  # land into this Parquet lake instead of the DuckDB file

    def secrets(self) -> list[str]:
        """Every secret value, so that output can be scrubbed of them."""
        return self.aws.secrets() if self.aws else []


def parse_bucket_uri(raw: str | None) -> BucketUri:
    """Validate and normalize a storage prefix.

    Trimmed, scheme lower-cased, duplicate slashes collapsed, exactly one trailing '/', so that
    's3://b/exports' never matches 's3://b/exports-old/...'.
    """
    if raw is None or not raw.strip():
        raise ConfigError(
            "--bucket-uri is required (or SIGMA_IMPRESSIONS_BUCKET_URI): "
            "use s3://bucket/prefix, gs://bucket/prefix or file:///absolute/dir"
        )
    text = raw.strip()
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", text)
    scheme = match.group(1).lower() if match else ""
    if scheme not in ALLOWED_SCHEMES:
        raise ConfigError(f"--bucket-uri must start with s3://, gs:// or file:// (got {_shown(text)!r})")
    rest = match.group(2)
    if "\x00" in rest:
        raise ConfigError("--bucket-uri must not contain NUL characters")
    if scheme == "file":
        if not rest.startswith("/"):
            raise ConfigError("file:// URIs need an absolute path with three slashes: file:///absolute/dir")
        path = re.sub(r"/+", "/", rest)
        if any(part == ".." for part in path.split("/")):
            raise ConfigError("--bucket-uri must not contain '..' path segments")
        return BucketUri("file", "", path.rstrip("/") + "/")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ConfigError(f"--bucket-uri must name a bucket: {scheme}://bucket/prefix")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", bucket):
        raise ConfigError(
            f"--bucket-uri bucket name {_shown(bucket)!r} is not valid: use letters, digits, '.', '-' and '_' only"
        )
    prefix = re.sub(r"/+", "/", prefix).strip("/")
    return BucketUri(scheme, bucket, f"{prefix}/" if prefix else "")


def parse_lake_uri(raw: str | None) -> BucketUri:
    """Validate and normalize --lake-uri (s3://, gs:// or file:///abs/dir), as --bucket-uri."""
    if raw is None or not raw.strip():
        raise ConfigError(
            "--lake-uri is empty (or SIGMA_IMPRESSIONS_LAKE_URI): "
            "use s3://bucket/prefix, gs://bucket/prefix or file:///absolute/dir"
        )
    try:
        return parse_bucket_uri(raw)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("--bucket-uri", "--lake-uri")) from None


def parse_days_back(raw: object) -> int:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_DAYS_BACK
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(
            f"--days-back must be a whole number from 1 to {MAX_DAYS_BACK} (got {_shown(raw)!r})"
        ) from None
    if not 1 <= value <= MAX_DAYS_BACK:
        raise ConfigError(
            f"--days-back must be from 1 to {MAX_DAYS_BACK}: the maximum is {MAX_DAYS_BACK} (got {value})"
        )
    return value


def parse_threads(raw: object) -> int | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"--threads must be a whole number of at least 1 (got {_shown(raw)!r})")
    return value


def parse_memory_limit(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", text, re.IGNORECASE):
        raise ConfigError(f"--memory-limit must look like 512MB or 2GiB (got {_shown(text)!r})")
    return text


def _shown(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def resolve(options: Mapping[str, object], env: Mapping[str, str] | None = None) -> dict:
    """Merge CLI options over environment variables (option wins when it is not None)."""
    env = os.environ if env is None else env
    merged: dict[str, object] = {}
    for key, var in ENV_VARS.items():
        value = options.get(key)
        if value is None:
            value = env.get(var) or None
        merged[key] = value
    return merged


def build_config(options: Mapping[str, object], env: Mapping[str, str] | None = None) -> LoadConfig:
    """Validate everything before any I/O; raise ConfigError with one line on the first problem."""
    values = resolve(options, env)
    bucket = parse_bucket_uri(values["bucket_uri"])  # type: ignore[arg-type]
    days_back = parse_days_back(values["days_back"])
    key_id = _clean(values["aws_access_key_id"])
    secret = _clean(values["aws_secret_access_key"])
    token = _clean(values["aws_session_token"])
    if bool(key_id) != bool(secret):
        raise ConfigError(
            "AWS credentials are half set: provide both --aws-access-key-id and "
            "--aws-secret-access-key, or neither to use the ambient AWS credential chain"
        )
    if token and not key_id:
        raise ConfigError("--aws-session-token needs --aws-access-key-id and --aws-secret-access-key too")
    endpoint = _clean(values["endpoint_url"])
    if endpoint and not re.match(r"^https?://[^\s/]+", endpoint):
        raise ConfigError(f"--endpoint-url must be an http:// or https:// URL (got {_shown(endpoint)!r})")
    database = _clean(values["database"]) or DEFAULT_DATABASE
    name = _clean(values["name"]) or DEFAULT_NAME
    lake_uri = _clean(values["lake_uri"])
    lake = parse_lake_uri(lake_uri) if lake_uri else None
    if lake is not None and lake.fs_path.startswith(bucket.fs_path) and lake.scheme == bucket.scheme:
        raise ConfigError("--lake-uri must not be inside --bucket-uri: the lake's files would be listed as exports")
    return LoadConfig(
        bucket=bucket,
        days_back=days_back,
        database=database,
        name=name,
        aws=AwsCredentials(key_id, secret, token) if key_id and secret else None,
        aws_region=_clean(values["aws_region"]),
        endpoint_url=endpoint.rstrip("/") if endpoint else None,
        memory_limit=parse_memory_limit(_clean(values["memory_limit"])),
        threads=parse_threads(values["threads"]),
        lake=lake,
    )


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
