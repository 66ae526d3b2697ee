"""The API client's fault handling, in-process against the stand-in (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from loader.sigma_api.client import AuthError, NotAccessible, SigmaApiError, SigmaClient
from loader.sigma_api.config import build_api_settings
from loader.sigma_api.inventory import check_api, sync_inventory
from sigma_impressions.demo.sigma_api_server import SigmaApiServer
from tests.sigma_api.conftest import CLIENT_ID, api_settings


def _token_requests(server: SigmaApiServer) -> int:
    return len(server.state.paths("POST"))


def test_paging_follows_opaque_tokens_over_short_pages(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.page_size = 1
    with SigmaClient(api_settings(sigma_api, tmp_path, page_size=3)) as client:
        entries = client.list_entries("workbooks")
    assert [e["workbookId"] for e in entries] == [f"wb-{n:04d}" for n in range(1, 6)]
    assert sigma_api.state.paths().count("/v2/workbooks") == 5


def test_expired_token_gets_one_new_token_and_one_retry(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.token_max_uses = 3
    report = sync_inventory(api_settings(sigma_api, tmp_path))
    assert report.ok, report.error
    assert report.elements_fetched == 20
    # Every 3 requests the token expires: the 401 is answered by a new token, not by failing.
    assert _token_requests(sigma_api) >= 5
    statuses = [status for method, _, status in sigma_api.state.requests if method == "GET"]
    assert statuses.count(401) == _token_requests(sigma_api) - 1


def test_a_second_401_is_an_auth_error(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.inject(r"^/v2/workbooks$", 401, times=2)
    with (
        SigmaClient(api_settings(sigma_api, tmp_path)) as client,
        pytest.raises(AuthError, match="401 even with a new"),
    ):
        client.list_entries("workbooks")
    assert _token_requests(sigma_api) == 2


def test_wrong_secret_is_one_clear_line(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    settings = build_api_settings(
        {"sigma_api_url": sigma_api.url, "sigma_client_id": CLIENT_ID, "sigma_client_secret": "nope-nope"}, env={}
    )
    ok, line = check_api(settings)
    assert not ok and "refused the client id and secret" in line and "nope-nope" not in line


def test_check_reads_one_page(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    assert check_api(api_settings(sigma_api, tmp_path)) == (True, "sigma api: ok, 5 workbooks visible")
    assert sigma_api.state.paths() == ["/v2/workbooks"]


def test_429_honours_retry_after(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.inject(r"^/v2/members$", 429, times=2, retry_after="1")
    with SigmaClient(api_settings(sigma_api, tmp_path)) as client:
        started = time.monotonic()
        assert len(client.list_entries("members")) == 3
        assert time.monotonic() - started >= 2
        assert client.stats.retries == 2


def test_429_waiting_past_the_bound_fails_at_once(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.inject(r"^/v2/members$", 429, times=1, retry_after="3600")
    with SigmaClient(api_settings(sigma_api, tmp_path, max_wait_seconds=5)) as client:
        started = time.monotonic()
        with pytest.raises(SigmaApiError, match="Retry-After 3600 s"):
            client.list_entries("members")
        assert time.monotonic() - started < 3


def test_5xx_and_resets_are_retried(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.inject(r"^/v2/workbooks$", 500)
    sigma_api.state.inject(r"^/v2/workbooks$", 503)
    sigma_api.state.inject(r"/pages$", "reset", times=2)
    sigma_api.state.inject(r"^/v2/auth/token$", 502, method="POST")
    report = sync_inventory(api_settings(sigma_api, tmp_path))
    assert report.ok, report.error
    assert report.retries == 5 and report.workbooks_listed == 5


def test_retries_are_bounded(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.inject(r"^/v2/members$", "reset", times=100)
    with SigmaClient(api_settings(sigma_api, tmp_path, max_attempts=3)) as client:
        with pytest.raises(SigmaApiError, match=r"failed after 3 attempt\(s\): connection failed"):
            client.list_entries("members")
        assert client.stats.api_calls == 4  # the token, then 3 tries


def test_404_is_not_accessible(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    with SigmaClient(api_settings(sigma_api, tmp_path)) as client, pytest.raises(NotAccessible) as caught:
        client.list_entries("workbooks/no-such-workbook/pages")
    assert caught.value.status == 404


def test_entries_without_ids_are_skipped_and_counted(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    org = sigma_api.state.org
    org.workbooks.append({"name": "no ids", "updatedAt": "2026-11-01T00:00:00Z"})
    org.members.append({"email": "no-id@example.com"})
    del org.workbook("wb-0001")["path"]  # a missing optional field is NULL
    org.workbook("wb-0002")["someNewField"] = {"nested": True}
    report = sync_inventory(api_settings(sigma_api, tmp_path))
    assert report.ok, report.error
    assert report.entries_skipped == {"workbook missing workbookId, workbookUrlId": 1, "member missing memberId": 1}
    assert report.workbooks_listed == 5
    assert any("skipped 1 entry: workbook missing workbookId" in line for line in report.lines())


def test_503_with_retry_after_waits_as_asked(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.inject(r"^/v2/members$", 503, times=1, retry_after="1")
    with SigmaClient(api_settings(sigma_api, tmp_path)) as client:
        started = time.monotonic()
        assert len(client.list_entries("members")) == 3
        assert time.monotonic() - started >= 1
        assert client.stats.retries == 1
