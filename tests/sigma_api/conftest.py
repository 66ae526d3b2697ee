"""The local Sigma API stand-in (a real HTTP server on a free 127.0.0.1 port), started per test."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loader.sigma_api.config import SigmaApiSettings, build_api_settings
from sigma_impressions.demo.sigma_api_server import SigmaApiServer, SigmaApiStandIn, SigmaOrg
from tests.helpers.cli import cli_in_process
from tests.helpers.processes import BIN

CLIENT_ID = "client-id-for-tests"
CLIENT_SECRET = "client-secret-Xq7Rt2Vb9Mn4Lp1Kw8"


def workbook(n: int, updated: str = "2026-11-01T10:00:00Z", version: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "workbookId": f"wb-{n:04d}",
        "workbookUrlId": f"Workbook-{n}-urlid{n:04d}",
        "name": f"API Workbook {n}",
        "url": f"https://app.sigmacomputing.com/org/workbook/Workbook-{n}-urlid{n:04d}",
        "path": f"Team {n % 3}/Reports",
        "ownerId": f"member-{n % 2}",
        "createdBy": f"member-{n % 2}",
        "updatedBy": f"member-{n % 2}",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": updated,
        "latestVersion": version,
        "isArchived": False,
        **extra,
    }


def elements(n: int, page: int, count: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "elementId": f"el-{n}-{page}-{k}",
            "name": f"Element {k} of page {page}",
            "type": "visualization",
            "vizualizationType": "bar",
            "columns": ["a", "b"],
        }
        for k in range(count)
    ]


def make_org(workbooks: int = 5, pages: int = 2) -> SigmaOrg:
    """5 workbooks of 2 pages of 2 elements; 3 members; 3 teams: team-a with every member (2 pages
    of members), team-b with member-1, team-c empty."""
    org = SigmaOrg()
    org.members = [
        {
            "memberId": "member-0",
            "email": "Owner.Zero@Example.com",
            "firstName": "Owner",
            "lastName": "Zero",
            "memberType": "admin",
        },
        {
            "memberId": "member-1",
            "email": "owner.one@example.com",
            "firstName": "Owner",
            "lastName": "One",
            "memberType": "Creator",
        },
        {
            "memberId": "member-2",
            "email": "viewer@example.com",
            "firstName": "View",
            "lastName": "Er",
            "memberType": "Viewer",
        },
    ]
    org.add_team("team-a", "Analysts", "Everyone who reads", ["member-0", "member-1", "member-2"])
    org.add_team("team-b", "Builders", None, ["member-1"])
    org.add_team("team-c", "Empty", "No one yet", [])
    for n in range(1, workbooks + 1):
        org.add_workbook(
            workbook(n), {f"pg-{n}-{p}": (f"Page {p} of {n}", elements(n, p)) for p in range(1, pages + 1)}
        )
    return org


@pytest.fixture
def sigma_api() -> Iterator[SigmaApiServer]:
    """The stand-in serving make_org(): short pages of 2 entries, opaque page tokens."""
    state = SigmaApiStandIn(make_org(), client_id=CLIENT_ID, client_secret=CLIENT_SECRET, page_size=2)
    with SigmaApiServer(state) as server:
        yield server


def api_settings(server: SigmaApiServer, tmp_path: Path, **overrides: object) -> SigmaApiSettings:
    """Settings for an in-process sync against the stand-in, into tmp_path/wh.duckdb."""
    options = {
        "sigma_api_url": server.url,
        "sigma_client_id": CLIENT_ID,
        "sigma_client_secret": CLIENT_SECRET,
        "database": str(tmp_path / "wh.duckdb"),
    }
    return build_api_settings(options, env={}, **overrides)


def inventory_argv(server: SigmaApiServer, database: Path, *extra: str) -> list[str]:
    return [
        str(BIN / "sigma-impressions"),
        "inventory",
        "--sigma-api-url",
        server.url,
        "--sigma-client-id",
        CLIENT_ID,
        "--sigma-client-secret",
        CLIENT_SECRET,
        "--database",
        str(database),
        *extra,
    ]


def run_inventory(server: SigmaApiServer, database: Path, *extra: str) -> subprocess.CompletedProcess:
    """`sigma-impressions inventory ...` in this process (tests/helpers/cli.py): exit code and output."""
    return cli_in_process(inventory_argv(server, database, *extra)[1:])


def table(database: Path, name: str, order: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"select * from sigma_raw.{name} order by {order}").fetchall()


def snapshot(database: Path) -> dict[str, list[tuple]]:
    """The inventory tables (not inventory_syncs), to compare before and after a sync."""
    return {
        "sigma_workbooks": table(database, "sigma_workbooks", "workbook_id"),
        "sigma_workbook_pages": table(database, "sigma_workbook_pages", "workbook_id, page_id"),
        "sigma_workbook_elements": table(database, "sigma_workbook_elements", "workbook_id, element_id"),
        "sigma_members": table(database, "sigma_members", "member_id"),
        "sigma_teams": table(database, "sigma_teams", "team_id"),
        "sigma_team_members": table(database, "sigma_team_members", "team_id, member_id"),
    }


def syncs(database: Path) -> list[dict[str, Any]]:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute("select * from sigma_raw.inventory_syncs order by started_at")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
