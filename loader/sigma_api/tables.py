"""The tables an inventory sync lands in sigma_raw: the one statement of their columns, types,
keys and order. The writer, the merge and `create_inventory_tables` read it; the dbt sources
(models/staging/sigma_raw/_sigma_raw__sources.yml) must list the same columns in the same order (a test compares them).

Rules:
- Every inventory table ends with the merge's timestamps: `first_synced_at` (the first sync that
  listed the row) and `last_synced_at` (the last one). A table with `deleted_at` keeps the rows
  its source no longer lists, marked deleted; a table without it holds only what the last
  successful read listed (the current state).
- `parent` names the column of the object whose own read lists the rows (a workbook's pages, a
  team's members): when that object was not read in a sync, its rows stay as they were.
- `inventory_syncs` is not merged: one row is added per sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

# The loader calls create_inventory_tables: this module imports nothing of the loader but
# loader.contract and loader.database, so no import cycle can form.
from loader.contract import RAW_SCHEMA
from loader.database import DatabaseError, connect, explain_write_error

Row = dict[str, Any]
# A row's key: the values of its table's key columns, in order.
Key = tuple[Any, ...]

SYNCED = (("first_synced_at", "timestamp"), ("last_synced_at", "timestamp"))
DELETED = (("deleted_at", "timestamp"),)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...] = ()
    parent: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def key_of(self, row: Row) -> Key:
        return tuple(row[name] for name in self.key)

    @property
    def keeps_vanished(self) -> bool:
        """Rows no longer listed are kept with deleted_at set (otherwise they are dropped)."""
        return "deleted_at" in self.column_names


WORKBOOKS = Table(
    "sigma_workbooks",
    (
        ("workbook_id", "varchar"),
        ("workbook_url_id", "varchar"),
        ("name", "varchar"),
        ("url", "varchar"),
        ("path", "varchar"),
        ("owner_id", "varchar"),
        ("owner_email", "varchar"),
        ("created_by", "varchar"),
        ("updated_by", "varchar"),
        ("created_at", "timestamp"),
        ("updated_at", "timestamp"),
        ("latest_version", "varchar"),
        ("is_archived", "boolean"),
        # The version (updatedAt|latestVersion) whose pages and elements the inventory holds.
        ("elements_synced_version", "varchar"),
        *SYNCED,
        *DELETED,
    ),
    key=("workbook_id",),
)
PAGES = Table(
    "sigma_workbook_pages",
    (
        ("workbook_id", "varchar"),
        ("workbook_url_id", "varchar"),
        ("page_id", "varchar"),
        ("name", "varchar"),
        ("page_position", "integer"),
        *SYNCED,
        *DELETED,
    ),
    key=("workbook_id", "page_id"),
    parent="workbook_id",
)
ELEMENTS = Table(
    "sigma_workbook_elements",
    (
        ("workbook_id", "varchar"),
        ("workbook_url_id", "varchar"),
        ("page_id", "varchar"),
        ("page_name", "varchar"),
        ("element_id", "varchar"),
        ("name", "varchar"),
        ("element_type", "varchar"),
        ("visualization_type", "varchar"),
        ("columns", "varchar"),
        *SYNCED,
        *DELETED,
    ),
    key=("workbook_id", "element_id"),
    parent="workbook_id",
)
MEMBERS = Table(
    "sigma_members",
    (
        ("member_id", "varchar"),
        ("email", "varchar"),
        ("first_name", "varchar"),
        ("last_name", "varchar"),
        ("member_type", "varchar"),
        *SYNCED,
        *DELETED,
    ),
    key=("member_id",),
)
TEAMS = Table(
    "sigma_teams",
    (
        ("team_id", "varchar"),
        ("name", "varchar"),
        ("description", "varchar"),
        *SYNCED,
        *DELETED,
    ),
    key=("team_id",),
)
TEAM_MEMBERS = Table(
    "sigma_team_members",
    (
        ("team_id", "varchar"),
        ("member_id", "varchar"),
        *SYNCED,
    ),
    key=("team_id", "member_id"),
    parent="team_id",
)
SYNCS = Table(
    "inventory_syncs",
    (
        ("sync_id", "varchar"),
        ("started_at", "timestamp"),
        ("finished_at", "timestamp"),
        ("status", "varchar"),
        ("mode", "varchar"),
        ("api_url", "varchar"),
        ("workbooks_listed", "integer"),
        ("workbooks_new", "integer"),
        ("workbooks_changed", "integer"),
        ("workbooks_unchanged", "integer"),
        ("workbooks_fetched", "integer"),
        ("workbooks_deleted", "integer"),
        ("workbooks_skipped", "integer"),
        ("skipped_workbooks", "varchar"),
        ("pages_fetched", "integer"),
        ("elements_fetched", "integer"),
        ("members_listed", "integer"),
        ("teams_listed", "integer"),
        ("teams_deleted", "integer"),
        ("teams_skipped", "integer"),
        ("skipped_teams", "varchar"),
        ("team_members_listed", "integer"),
        ("entries_skipped", "integer"),
        ("entries_skipped_reasons", "varchar"),
        ("api_calls", "integer"),
        ("retries", "integer"),
        ("error", "varchar"),
    ),
)

# The merged inventory, in the order a sync writes it; then the log of syncs.
INVENTORY: tuple[Table, ...] = (WORKBOOKS, PAGES, ELEMENTS, MEMBERS, TEAMS, TEAM_MEMBERS)
TABLES: dict[str, Table] = {table.name: table for table in (*INVENTORY, SYNCS)}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_inventory_tables(con: duckdb.DuckDBPyConnection, schema: str = RAW_SCHEMA) -> None:
    """Create every inventory table (empty) and add the columns an older version did not land.
    Idempotent; columns outside the layout are left alone. Run it outside a transaction that
    writes: DuckDB refuses ALTER TABLE after a delete or insert in the same transaction."""
    con.execute(f"create schema if not exists {quote(schema)}")
    for table in TABLES.values():
        body = ", ".join(f"{quote(name)} {kind}" for name, kind in table.columns)
        con.execute(f"create table if not exists {quote(schema)}.{quote(table.name)} ({body})")
        present = {
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, table.name],
            ).fetchall()
        }
        for name, kind in table.columns:
            if name not in present:
                con.execute(f"alter table {quote(schema)}.{quote(table.name)} add column {quote(name)} {kind}")


def ensure_inventory_tables(database: str) -> None:
    """Create the inventory tables (empty) in the DuckDB file `database` when they are missing:
    the file a dbt build reads the inventory from, when its raw rows come from a Parquet lake.
    DatabaseError (one line) when the file cannot be opened or written."""
    con = connect(database, {})
    try:
        create_inventory_tables(con)
    except duckdb.Error as exc:
        raise DatabaseError(explain_write_error(database, exc)) from exc
    finally:
        con.close()
