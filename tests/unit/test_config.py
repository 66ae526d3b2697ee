"""Option validation: every rule fails before any I/O with one line that says what to fix."""

from __future__ import annotations

import pytest

from loader.config import ConfigError, build_config, parse_bucket_uri, parse_days_back


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("s3://bucket/exports", "s3://bucket/exports/"),
        ("  S3://bucket//exports///daily/  ", "s3://bucket/exports/daily/"),
        ("gs://bucket", "gs://bucket/"),
        ("GS://bucket/a/b/", "gs://bucket/a/b/"),
        ("file:///tmp//x/", "file:///tmp/x/"),
        ("file:///", "file:///"),
    ],
)
def test_bucket_uri_is_normalized(raw: str, expected: str) -> None:
    assert str(parse_bucket_uri(raw)) == expected


def test_prefix_never_matches_a_sibling_prefix() -> None:
    uri = parse_bucket_uri("s3://b/exports")
    assert not "b/exports-old/file.csv".startswith(uri.fs_path)
    assert "b/exports/file.csv".startswith(uri.fs_path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("http://bucket/x", "must start with s3://, gs:// or file://"),
        ("bucket/x", "must start with s3://, gs:// or file://"),
        ("azure://bucket/x", "must start with s3://, gs:// or file://"),
        ("s3://", "must name a bucket"),
        ("gs:///prefix", "must name a bucket"),
        ("file://relative/dir", "absolute path"),
        ("file:///tmp/../etc", "'..'"),
        ("", "--bucket-uri is required"),
        ("s3://bad bucket/x", "not valid"),
    ],
)
def test_bad_bucket_uri(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("|", r"\|")) as info:
        parse_bucket_uri(raw)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("raw", ["0", "7", "-1", "100"])
def test_days_back_outside_range(raw: str) -> None:
    with pytest.raises(ConfigError, match="maximum is 6"):
        parse_days_back(raw)


@pytest.mark.parametrize("raw", ["three", "2.5", "1e1"])
def test_days_back_not_a_number(raw: str) -> None:
    with pytest.raises(ConfigError, match="from 1 to 6"):
        parse_days_back(raw)


@pytest.mark.parametrize(("raw", "expected"), [(None, 3), ("", 3), ("1", 1), (" 6 ", 6), (4, 4)])
def test_days_back_accepted(raw: object, expected: int) -> None:
    assert parse_days_back(raw) == expected


@pytest.mark.parametrize(
    "options",
    [
        {"aws_access_key_id": "AKIA123"},
        {"aws_secret_access_key": "s3cr3t-value"},
    ],
)
def test_half_an_aws_key_pair(options: dict) -> None:
    with pytest.raises(ConfigError, match="provide both") as info:
        build_config({"bucket_uri": "s3://b/p", **options}, env={})
    assert "s3cr3t-value" not in str(info.value)


def test_options_win_over_environment() -> None:
    env = {
        "SIGMA_IMPRESSIONS_BUCKET_URI": "s3://from-env/x",
        "SIGMA_IMPRESSIONS_DAYS_BACK": "5",
        "SIGMA_IMPRESSIONS_NAME": "env-name",
    }
    config = build_config({"bucket_uri": "gs://from-cli/y", "days_back": None}, env=env)
    assert str(config.bucket) == "gs://from-cli/y/"
    assert config.days_back == 5
    assert config.name == "env-name"
    assert config.database == "warehouse/sigma_impressions.duckdb"


def test_environment_credentials_and_repr_hides_secrets() -> None:
    env = {
        "SIGMA_IMPRESSIONS_BUCKET_URI": "s3://b/x",
        "SIGMA_IMPRESSIONS_AWS_ACCESS_KEY_ID": "AKIAENV",
        "SIGMA_IMPRESSIONS_AWS_SECRET_ACCESS_KEY": "env-secret-value",
        "SIGMA_IMPRESSIONS_AWS_SESSION_TOKEN": "env-token-value",
    }
    config = build_config({}, env=env)
    assert config.aws is not None and config.aws.access_key_id == "AKIAENV"
    assert "env-secret-value" not in repr(config)
    assert "env-token-value" not in repr(config)
    assert set(config.secrets()) == {"env-secret-value", "env-token-value"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"endpoint_url": "localhost:9000"}, "http:// or https://"),
        ({"memory_limit": "lots"}, "512MB"),
        ({"threads": "0"}, "at least 1"),
        ({"aws_session_token": "tok"}, "needs --aws-access-key-id"),
    ],
)
def test_other_options_validated(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config({"bucket_uri": "s3://b/p", **options}, env={})
