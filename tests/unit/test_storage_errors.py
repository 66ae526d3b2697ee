"""Storage errors are explained in the words of the source's scheme."""

from __future__ import annotations

import pytest

from loader.storage import describe_error


class ClientError(Exception):
    """Stands for botocore's error type: only its name and text matter to describe_error."""


def test_access_denied_in_each_schemes_words() -> None:
    denied = PermissionError(13, "Permission denied")
    s3 = describe_error(ClientError("An error occurred (AccessDenied) when calling ListObjectsV2"), "s3")
    gs = describe_error(ClientError("403 Forbidden: caller does not have storage.objects.list"), "gs")
    local = describe_error(denied, "file")
    assert "s3:ListBucket" in s3 and "s3:GetObject" in s3 and "storage." not in s3
    assert "storage.objects.list" in gs and "s3:" not in gs
    assert local.startswith("permission denied") and "s3:" not in local and "storage.objects" not in local


@pytest.mark.parametrize("scheme", ["s3", "gs", "file"])
def test_not_found_and_other_errors_are_one_line(scheme: str) -> None:
    assert describe_error(FileNotFoundError("x"), scheme).startswith("object not found")
    assert "\n" not in describe_error(OSError("disk\nerror"), scheme)


def test_a_file_named_403_is_not_access_denied() -> None:
    text = describe_error(OSError("cannot open /exports/403/a.csv"), "file")
    assert "denied" not in text
