"""Sigma API entries -> typed records: fields added or missing, ids required; settings validation."""

from __future__ import annotations

from datetime import datetime

import pytest

from loader.config import ConfigError
from loader.sigma_api.config import build_api_settings, normalize_base_url
from loader.sigma_api.payloads import (
    Team,
    TeamMember,
    parse_element,
    parse_member,
    parse_page,
    parse_team,
    parse_team_member,
    parse_workbook,
)


def test_workbook_with_every_documented_field() -> None:
    workbook, reason = parse_workbook(
        {
            "workbookId": "wb-1",
            "workbookUrlId": "Url1",
            "name": " Sales ",
            "url": "https://app.sigmacomputing.com/o/workbook/Url1",
            "path": "Team/Sales",
            "ownerId": "m1",
            "createdBy": "m1",
            "updatedBy": "m2",
            "createdAt": "2026-01-02T03:04:05.678Z",
            "updatedAt": "2026-02-03T04:05:06+01:00",
            "latestVersion": 7,
            "isArchived": True,
            "somethingNew": {"x": 1},
        }
    )
    assert reason is None and workbook is not None
    assert workbook.name == "Sales" and workbook.latest_version == "7" and workbook.is_archived is True
    assert workbook.created_at == datetime(2026, 1, 2, 3, 4, 5, 678000)
    assert workbook.updated_at == datetime(2026, 2, 3, 3, 5, 6)
    assert workbook.version_key == "2026-02-03T03:05:06|7"


def test_missing_optional_fields_are_none_and_missing_ids_skip() -> None:
    workbook, _ = parse_workbook({"workbookId": "wb-1", "workbookUrlId": "U", "updatedAt": "not a date"})
    assert workbook is not None
    assert (workbook.name, workbook.path, workbook.updated_at, workbook.is_archived) == (None, None, None, None)
    assert parse_workbook({"workbookId": "wb-1"}) == (None, "workbook missing workbookUrlId")
    assert parse_workbook("text") == (None, "workbook entry is not an object")
    assert parse_page({"name": "p"}) == (None, "page missing pageId")
    assert parse_member({"memberId": " ", "email": "a@b"}) == (None, "member missing memberId")


def test_element_reads_sigmas_spelling_and_member_email_is_lowered() -> None:
    element, _ = parse_element(
        {"elementId": "e1", "name": "Chart", "type": "visualization", "vizualizationType": "bar", "columns": ["a"]}
    )
    assert element is not None
    assert (element.element_type, element.visualization_type, element.columns) == ("visualization", "bar", '["a"]')
    member, _ = parse_member({"memberId": "m1", "email": "A.B@Example.COM"})
    assert member is not None and member.email == "a.b@example.com" and member.first_name is None


def test_member_type_is_kept_as_given_and_may_be_missing() -> None:
    for given in ("admin", "Creator", "Viewer", "Custom Analyst"):
        member, _ = parse_member({"memberId": "m1", "memberType": given})
        assert member is not None and member.member_type == given
    member, _ = parse_member({"memberId": "m1", "email": "a@b"})
    assert member is not None and member.member_type is None


def test_teams_and_team_members() -> None:
    entry = {"teamId": "t1", "name": "Finance", "description": "Money", "visibility": "public", "createdBy": "m1"}
    assert parse_team(entry) == (Team("t1", "Finance", "Money"), None)
    assert parse_team({"teamId": "t2"}) == (Team("t2", None, None), None)
    assert parse_team({"name": "no id"}) == (None, "team missing teamId")
    assert parse_team_member({"memberId": "m1", "email": "a@b", "memberType": "admin"}) == (TeamMember("m1"), None)
    assert parse_team_member({"email": "a@b"}) == (None, "team member missing memberId")
    assert parse_team_member(["m1"]) == (None, "team member entry is not an object")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://aws-api.sigmacomputing.com", "https://aws-api.sigmacomputing.com"),
        ("https://aws-api.sigmacomputing.com/v2/", "https://aws-api.sigmacomputing.com"),
        ("http://127.0.0.1:8080/v2", "http://127.0.0.1:8080"),
    ],
)
def test_base_url_accepts_a_trailing_v2(url: str, expected: str) -> None:
    assert normalize_base_url(url) == expected


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (
            {"sigma_api_url": "aws-api.sigmacomputing.com", "sigma_client_id": "a", "sigma_client_secret": "b"},
            "http(s)",
        ),
        ({"sigma_api_url": "https://u:p@x.example", "sigma_client_id": "a", "sigma_client_secret": "b"}, "credentials"),
        ({"sigma_api_url": "https://x.example", "sigma_client_id": "a"}, "without --sigma-client-secret"),
        ({"sigma_api_url": "https://x.example", "sigma_client_secret": "b"}, "without --sigma-client-id"),
        ({"sigma_client_id": "a", "sigma_client_secret": "b"}, "--sigma-api-url is required"),
    ],
)
def test_settings_are_validated(options: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")) as caught:
        build_api_settings(options, env={})
    assert "\n" not in str(caught.value) and "p@" not in str(caught.value)


def test_env_is_the_fallback_and_repr_hides_the_secret() -> None:
    env = {
        "SIGMA_IMPRESSIONS_SIGMA_API_URL": "https://api.example/v2",
        "SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID": "id-1",
        "SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET": "very-secret",
    }
    settings = build_api_settings({"sigma_client_id": "id-2"}, env=env)
    assert (settings.base_url, settings.client_id, settings.client_secret) == (
        "https://api.example",
        "id-2",
        "very-secret",
    )
    assert settings.api("/v2/workbooks") == settings.api("workbooks") == "https://api.example/v2/workbooks"
    assert "very-secret" not in repr(settings)


def test_run_settings_sync_the_inventory_only_when_api_settings_are_given(tmp_path) -> None:
    from sigma_impressions.pipeline import RunSettings

    base = {"bucket_uri": f"file://{tmp_path}", "database": str(tmp_path / "wh.duckdb")}
    assert RunSettings.from_options(base, env={}).inventory is None
    env = {"SIGMA_IMPRESSIONS_SIGMA_API_URL": "https://api.example", "SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID": "i"}
    with pytest.raises(ConfigError, match="without --sigma-client-secret"):
        RunSettings.from_options(base, env=env)
    env["SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET"] = "s"
    settings = RunSettings.from_options(base, env=env)
    assert settings.inventory is not None
    assert settings.inventory.database == str(tmp_path / "wh.duckdb")
