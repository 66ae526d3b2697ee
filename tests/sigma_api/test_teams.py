"""Members' account types, teams and team memberships synced over real HTTP from the stand-in
into a real DuckDB file: paging, expired tokens, 429, 5xx, a team whose members answer 403/404,
a member leaving a team and a team vanishing."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from loader.sigma_api.inventory import sync_inventory
from loader.sigma_api.tables import MEMBERS, SYNCS
from sigma_impressions.demo.export import USERS
from sigma_impressions.demo.sigma_api_server import SigmaApiServer, SigmaApiStandIn, demo_org
from tests.sigma_api.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    api_settings,
    run_inventory,
    syncs,
    table,
)


def _memberships(database: Path) -> list[tuple[str, str]]:
    return [(team, member) for team, member, *_ in table(database, "sigma_team_members", "team_id, member_id")]


def _statuses(server: SigmaApiServer, path: str) -> list[int]:
    return [status for method, p, status in server.state.requests if method == "GET" and p == path]


def test_teams_memberships_and_member_types_land_across_pages(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.page_size = 1
    database = tmp_path / "wh.duckdb"
    result = run_inventory(sigma_api, database)
    assert result.returncode == 0, result.stderr
    assert "members=3 teams=3 teams_deleted=0 teams_skipped=0 team_members=4 " in result.stdout
    # One entry a page: 3 pages of teams, 3 of team-a's members, 1 of team-c's (empty) members.
    assert sigma_api.state.paths().count("/v2/teams") == 3
    assert sigma_api.state.paths().count("/v2/teams/team-a/members") == 3
    assert sigma_api.state.paths().count("/v2/teams/team-c/members") == 1
    teams = [row[:3] for row in table(database, "sigma_teams", "team_id")]
    assert teams == [
        ("team-a", "Analysts", "Everyone who reads"),
        ("team-b", "Builders", None),
        ("team-c", "Empty", "No one yet"),
    ]
    assert _memberships(database) == [
        ("team-a", "member-0"),
        ("team-a", "member-1"),
        ("team-a", "member-2"),
        ("team-b", "member-1"),
    ]
    with duckdb.connect(str(database), read_only=True) as con:
        types = con.execute("select member_id, member_type from sigma_raw.sigma_members order by 1").fetchall()
    assert types == [("member-0", "admin"), ("member-1", "Creator"), ("member-2", "Viewer")]
    (sync,) = syncs(database)
    assert (sync["teams_listed"], sync["teams_skipped"], sync["team_members_listed"]) == (3, 0, 4)


def test_a_member_without_member_type_and_a_team_without_id(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    org = sigma_api.state.org
    del org.members[2]["memberType"]
    org.teams.append({"name": "No id", "description": "dropped"})
    report = sync_inventory(api_settings(sigma_api, tmp_path))
    assert report.ok, report.error
    assert report.entries_skipped == {"team missing teamId": 1}
    assert report.teams_listed == 3
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        kind = con.execute("select member_type from sigma_raw.sigma_members where member_id = 'member-2'").fetchone()
    assert kind == (None,)


@pytest.mark.parametrize("path", ["/v2/teams", "/v2/teams/team-a/members"])
def test_expired_token_during_the_teams_read_gets_a_new_token(
    sigma_api: SigmaApiServer, tmp_path: Path, path: str
) -> None:
    sigma_api.state.inject(f"^{path}$", "expire")
    report = sync_inventory(api_settings(sigma_api, tmp_path))
    assert report.ok, report.error
    assert _statuses(sigma_api, path)[:2] == [401, 200]
    assert len(sigma_api.state.paths("POST")) == 2
    assert _memberships(tmp_path / "wh.duckdb")[:3] == [
        ("team-a", "member-0"),
        ("team-a", "member-1"),
        ("team-a", "member-2"),
    ]


def test_429_on_teams_waits_then_succeeds(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.inject(r"^/v2/teams$", 429, retry_after="1")
    started = time.monotonic()
    report = sync_inventory(api_settings(sigma_api, tmp_path))
    assert report.ok, report.error
    assert time.monotonic() - started >= 1
    assert report.retries == 1 and report.teams_listed == 3
    assert _statuses(sigma_api, "/v2/teams")[:2] == [429, 200]


def test_500_on_a_teams_members_is_retried(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.inject(r"^/v2/teams/team-b/members$", 500, times=2)
    report = sync_inventory(api_settings(sigma_api, tmp_path))
    assert report.ok, report.error
    assert report.retries == 2 and not report.skipped_teams
    assert ("team-b", "member-1") in _memberships(tmp_path / "wh.duckdb")


def test_403_on_one_teams_members_keeps_its_previous_members_and_is_reported(
    sigma_api: SigmaApiServer, tmp_path: Path
) -> None:
    database = tmp_path / "wh.duckdb"
    assert run_inventory(sigma_api, database).returncode == 0
    before = [row for row in table(database, "sigma_team_members", "team_id, member_id") if row[0] == "team-a"]
    org = sigma_api.state.org
    org.team_members["team-a"] = ["member-0"]
    org.team_members["team-b"] = ["member-1", "member-2"]
    sigma_api.state.inject(r"^/v2/teams/team-a/members$", 403)

    result = run_inventory(sigma_api, database)
    assert result.returncode == 0, result.stderr
    assert "teams_skipped=1" in result.stdout
    assert "skipped team team-a (Analysts): GET /v2/teams/team-a/members: 403" in result.stdout
    assert "its previous members are kept" in result.stdout
    after = table(database, "sigma_team_members", "team_id, member_id")
    assert [row for row in after if row[0] == "team-a"] == before
    assert [row[:2] for row in after if row[0] == "team-b"] == [("team-b", "member-1"), ("team-b", "member-2")]
    last = syncs(database)[-1]
    assert last["status"] == "succeeded" and last["teams_skipped"] == 1
    assert json.loads(last["skipped_teams"]) == [
        {"team_id": "team-a", "name": "Analysts", "reason": "GET /v2/teams/team-a/members: 403 Forbidden"}
    ]

    # Next sync: read again, and now its members are what the API lists.
    assert run_inventory(sigma_api, database).returncode == 0
    assert [m for m in _memberships(database) if m[0] == "team-a"] == [("team-a", "member-0")]


def test_404_on_a_teams_members_is_skipped_like_403(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    sigma_api.state.inject(r"^/v2/teams/team-b/members$", 404)
    report = sync_inventory(api_settings(sigma_api, tmp_path))
    assert report.ok, report.error
    assert [(s.team_id, s.reason) for s in report.skipped_teams] == [
        ("team-b", "GET /v2/teams/team-b/members: 404 Not Found")
    ]
    assert [m for m in _memberships(tmp_path / "wh.duckdb") if m[0] == "team-b"] == []


def test_a_member_leaving_a_team_and_a_team_vanishing(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    database = tmp_path / "wh.duckdb"
    assert run_inventory(sigma_api, database).returncode == 0
    joined = {(r[0], r[1]): r[2] for r in table(database, "sigma_team_members", "team_id, member_id")}
    org = sigma_api.state.org
    org.team_members["team-a"] = ["member-0", "member-2"]  # member-1 left
    org.remove_team("team-b")

    result = run_inventory(sigma_api, database)
    assert result.returncode == 0, result.stderr
    assert "teams=2 teams_deleted=1 " in result.stdout
    assert _memberships(database) == [("team-a", "member-0"), ("team-a", "member-2")]
    rows = table(database, "sigma_team_members", "team_id, member_id")
    assert all(row[2] == joined[(row[0], row[1])] for row in rows)  # first_synced_at kept
    with duckdb.connect(str(database), read_only=True) as con:
        gone = con.execute("select name, deleted_at from sigma_raw.sigma_teams where team_id = 'team-b'").fetchone()
    assert gone[0] == "Builders" and gone[1] is not None

    # The team comes back: live again, with its members.
    org.add_team("team-b", "Builders", None, ["member-2"])
    assert run_inventory(sigma_api, database).returncode == 0
    assert ("team-b", "member-2") in _memberships(database)
    with duckdb.connect(str(database), read_only=True) as con:
        back = con.execute("select deleted_at from sigma_raw.sigma_teams where team_id = 'team-b'").fetchone()
    assert back == (None,)


def test_the_demo_stand_in_serves_the_seeds_members_and_teams_of_export_users(tmp_path: Path) -> None:
    org = demo_org()
    emails = {m["memberId"]: m["email"] for m in org.members}
    assert "admin" in {m["memberType"] for m in org.members}
    teams = {t["name"]: [emails[mid] for mid in org.team_members[t["teamId"]]] for t in org.teams}
    in_teams = [email for members in teams.values() for email in members]
    assert set(in_teams) <= set(USERS), "team members must be users of the demo export"
    assert any(in_teams.count(email) == 2 for email in in_teams), "one user in two teams"
    assert any(user not in in_teams for user in USERS), "one user of the export in no team"
    assert any(not members for members in teams.values()), "one empty team"

    state = SigmaApiStandIn(org, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with SigmaApiServer(state) as server:
        report = sync_inventory(api_settings(server, tmp_path))
    assert report.ok, report.error
    database = tmp_path / "wh.duckdb"
    assert len(table(database, "sigma_teams", "team_id")) == len(org.teams)
    assert _memberships(database) == sorted(
        (team, member) for team, members in org.team_members.items() for member in members
    )
    with duckdb.connect(str(database), read_only=True) as con:
        typed = con.execute("select count(*) from sigma_raw.sigma_members where member_type is not null").fetchone()
    assert typed == (len(org.members),)


def test_an_inventory_landed_before_member_types_and_teams_is_synced_on(
    sigma_api: SigmaApiServer, tmp_path: Path
) -> None:
    database = tmp_path / "wh.duckdb"
    added = {"member_type", "teams_listed", "teams_deleted", "teams_skipped", "skipped_teams", "team_members_listed"}
    with duckdb.connect(str(database)) as con:
        con.execute("create schema sigma_raw")
        for layout in (MEMBERS, SYNCS):
            body = ", ".join(f"{name} {kind}" for name, kind in layout.columns if name not in added)
            con.execute(f"create table sigma_raw.{layout.name} ({body})")
        con.execute(
            "insert into sigma_raw.sigma_members (member_id, email, first_synced_at, last_synced_at) "
            "values ('member-1', 'owner.one@example.com', '2026-01-01', '2026-01-01')"
        )
    report = sync_inventory(api_settings(sigma_api, tmp_path))
    assert report.ok, report.error
    with duckdb.connect(str(database), read_only=True) as con:
        member = con.execute(
            "select member_type, first_synced_at from sigma_raw.sigma_members where member_id = 'member-1'"
        ).fetchone()
        teams_listed = con.execute("select teams_listed from sigma_raw.inventory_syncs").fetchone()
    assert member == ("Creator", datetime(2026, 1, 1))
    assert teams_listed == (3,)
    assert len(_memberships(database)) == 4
