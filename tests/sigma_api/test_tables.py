"""The inventory tables' layout: stated once (loader/sigma_api/tables.py), matched by the dbt
sources, the row builders and the sync report; create_inventory_tables; the one merge."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from loader.contract import project_dir
from loader.sigma_api.merge import merge
from loader.sigma_api.payloads import Element, Member, Page, Team, TeamMember, Workbook
from loader.sigma_api.report import SyncReport
from loader.sigma_api.rows import element_rows, member_row, page_rows, team_member_row, team_row, workbook_row
from loader.sigma_api.source import WorkbookContents
from loader.sigma_api.tables import (
    INVENTORY,
    PAGES,
    SYNCS,
    TABLES,
    TEAM_MEMBERS,
    TEAMS,
    create_inventory_tables,
)

SYNC_TIMESTAMPS = {"first_synced_at", "last_synced_at", "deleted_at"}
T0, T1, T2 = datetime(2026, 11, 1), datetime(2026, 11, 2), datetime(2026, 11, 3)


def _sources_columns() -> dict[str, list[str]]:
    with open(
        project_dir() / "models" / "staging" / "sigma_raw" / "_sigma_raw__sources.yml", encoding="utf-8"
    ) as handle:
        sources = yaml.safe_load(handle)["sources"]
    (raw,) = [source for source in sources if source["name"] == "sigma_raw"]
    return {table["name"]: [column["name"] for column in table.get("columns", [])] for table in raw["tables"]}


@pytest.mark.parametrize("table", list(TABLES))
def test_dbt_sources_list_the_landed_columns_in_order(table: str) -> None:
    declared = _sources_columns()
    assert table in declared, (
        f"models/staging/sigma_raw/_sigma_raw__sources.yml (source sigma_raw) has no table {table}"
    )
    assert declared[table] == list(TABLES[table].column_names)


def test_row_builders_and_the_report_give_every_column_of_the_layout() -> None:
    workbook = Workbook("wb", "Url", "Name", None, None, "m1", None, None, None, None, "3", False)
    page = Page("p1", "Page")
    contents = WorkbookContents(pages=[page], elements=[(page, Element("e1", "El", "table", None, None))])
    built = {
        "sigma_workbooks": workbook_row(workbook, "a@b", workbook.version_key),
        "sigma_workbook_pages": page_rows(workbook, contents)[0],
        "sigma_workbook_elements": element_rows(workbook, contents)[0],
        "sigma_members": member_row(Member("m1", "a@b", "A", "B", "admin")),
        "sigma_teams": team_row(Team("t1", "Team", None)),
        "sigma_team_members": team_member_row("t1", TeamMember("m1")),
    }
    assert set(built) == {table.name for table in INVENTORY}
    for table in INVENTORY:
        assert set(built[table.name]) == set(table.column_names) - SYNC_TIMESTAMPS, table.name
    report = SyncReport(sync_id="s", mode="full", api_url="http://x", started_at=T0)
    assert tuple(report.row()) == SYNCS.column_names


def test_create_inventory_tables_creates_every_table_empty_and_is_idempotent(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        create_inventory_tables(con)
        con.execute("insert into sigma_raw.sigma_teams (team_id, name) values ('t1', 'Kept')")
        create_inventory_tables(con)
        for table in TABLES.values():
            described = con.execute(f"describe sigma_raw.{table.name}").fetchall()
            assert [(name, kind.lower()) for name, kind, *_ in described] == [
                (name, {"integer": "integer", "varchar": "varchar"}.get(kind, kind)) for name, kind in table.columns
            ]
            count = con.execute(f"select count(*) from sigma_raw.{table.name}").fetchone()[0]
            assert count == (1 if table is TEAMS else 0), table.name


def test_create_inventory_tables_adds_the_columns_an_older_version_did_not_land(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema sigma_raw")
        con.execute(
            "create table sigma_raw.sigma_members (member_id varchar, email varchar, first_name varchar, "
            "last_name varchar, first_synced_at timestamp, last_synced_at timestamp, deleted_at timestamp)"
        )
        con.execute("insert into sigma_raw.sigma_members (member_id, email) values ('m1', 'a@b')")
        create_inventory_tables(con)
        row = con.execute("select member_id, email, member_type from sigma_raw.sigma_members").fetchall()
    assert row == [("m1", "a@b", None)]


def test_one_merge_for_kept_dropped_and_unread_rows() -> None:
    previous = {
        ("t1",): {"team_id": "t1", "name": "Old", "description": None, "first_synced_at": T0, "last_synced_at": T0,
                  "deleted_at": None},
        ("t2",): {"team_id": "t2", "name": "Gone", "description": None, "first_synced_at": T0, "last_synced_at": T0,
                  "deleted_at": None},
        ("t3",): {"team_id": "t3", "name": "Back", "description": None, "first_synced_at": T0, "last_synced_at": T0,
                  "deleted_at": T0},
    }  # fmt: skip
    synced = [team_row(Team("t1", "New", None)), team_row(Team("t3", "Back", None)), team_row(Team("t4", "", None))]
    merged = merge(TEAMS, synced, previous, T1)
    rows = {row["team_id"]: row for row in merged.rows}
    assert merged.deleted == 1
    assert (rows["t1"]["name"], rows["t1"]["first_synced_at"], rows["t1"]["last_synced_at"]) == ("New", T0, T1)
    assert (rows["t2"]["deleted_at"], rows["t2"]["last_synced_at"]) == (T1, T0)
    assert rows["t3"]["deleted_at"] is None
    assert rows["t4"]["first_synced_at"] == T1
    # Still gone a sync later: deleted_at keeps the first sync that missed it, and counts once.
    again = merge(TEAMS, synced, {(k,): v for k, v in rows.items()}, T2)
    assert next(r for r in again.rows if r["team_id"] == "t2")["deleted_at"] == T1 and again.deleted == 0

    # A current-state table drops what is no longer listed, except under a parent left unread.
    memberships = {
        ("t1", "m1"): {"team_id": "t1", "member_id": "m1", "first_synced_at": T0, "last_synced_at": T0},
        ("t1", "m2"): {"team_id": "t1", "member_id": "m2", "first_synced_at": T0, "last_synced_at": T0},
        ("t2", "m1"): {"team_id": "t2", "member_id": "m1", "first_synced_at": T0, "last_synced_at": T0},
        ("t5", "m1"): {"team_id": "t5", "member_id": "m1", "first_synced_at": T0, "last_synced_at": T0},
    }
    merged = merge(TEAM_MEMBERS, [team_member_row("t1", TeamMember("m1"))], memberships, T1, unread={"t5"})
    assert sorted((r["team_id"], r["member_id"], r["first_synced_at"], r["last_synced_at"]) for r in merged.rows) == [
        ("t1", "m1", T0, T1),
        ("t5", "m1", T0, T0),
    ]
    with pytest.raises(ValueError, match="no parent column"):
        merge(TEAMS, [], previous, T1, unread={"t1"})
    # Pages of a workbook left unread stay as they were, deleted or not.
    page = {"workbook_id": "w1", "page_id": "p1", "first_synced_at": T0, "last_synced_at": T0, "deleted_at": None}
    assert merge(PAGES, [], {("w1", "p1"): page}, T1, unread={"w1"}).rows == [page]
