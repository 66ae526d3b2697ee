"""The DuckDB side of a sync: read the previous inventory, write the new one.

Rules:
- The inventory tables (tables.INVENTORY) are replaced whole and the sync's row is added to
  inventory_syncs in ONE transaction: a write that fails (or a process killed) changes nothing.
- A failed sync adds its row to inventory_syncs and touches nothing else.
- The tables are created, and the columns an older version did not land added, before that
  transaction (tables.create_inventory_tables).
- Reading the previous inventory creates nothing: before the first sync it is empty.
- A database that cannot be opened or written raises DatabaseError with one line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from loader.contract import RAW_SCHEMA
from loader.database import DatabaseError, connect, duckdb_settings, explain_write_error
from loader.sigma_api.tables import INVENTORY, SYNCS, Key, Row, Table, create_inventory_tables, quote

_ARROW_TYPES = {"varchar": pa.string(), "timestamp": pa.timestamp("us"), "boolean": pa.bool_(), "integer": pa.int32()}


@contextlib.contextmanager
def opened(database: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The DuckDB file, closed afterwards (DatabaseError with one line when it cannot be opened)."""
    con = connect(database, duckdb_settings())
    try:
        yield con
    finally:
        con.close()


def read_previous(database: str) -> dict[str, dict[Key, Row]]:
    """The landed inventory: table name -> key -> row with every column of the layout (NULL for a
    column an older version did not land). Empty before the first sync."""
    previous: dict[str, dict[Key, Row]] = {table.name: {} for table in INVENTORY}
    if database != ":memory:" and not Path(database).exists():
        return previous
    with opened(database) as con:
        landed: dict[str, set[str]] = {}
        for table_name, column in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = ?", [RAW_SCHEMA]
        ).fetchall():
            landed.setdefault(table_name, set()).add(column)
        for table in INVENTORY:
            present = landed.get(table.name)
            if not present:
                continue
            names = table.column_names
            select = ", ".join(quote(n) if n in present else f"null as {quote(n)}" for n in names)
            for values in con.execute(f"select {select} from {RAW_SCHEMA}.{quote(table.name)}").fetchall():
                row = dict(zip(names, values, strict=True))
                previous[table.name][table.key_of(row)] = row
    return previous


def write_sync(database: str, inventory: Mapping[str, list[Row]], sync: Row) -> None:
    """Replace every inventory table with `inventory` (table name -> rows) and add the sync's
    row: one transaction."""
    missing = [table.name for table in INVENTORY if table.name not in inventory]
    if missing:
        raise ValueError(f"no rows given for {', '.join(missing)}: a sync replaces every inventory table")
    with opened(database) as con:
        try:
            create_inventory_tables(con)
            con.execute("begin transaction")
            for table in INVENTORY:
                con.execute(f"delete from {RAW_SCHEMA}.{quote(table.name)}")
                _insert(con, table, inventory[table.name])
            _insert(con, SYNCS, [sync])
            con.execute("commit")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("rollback")
            raise DatabaseError(explain_write_error(database, exc)) from exc


def record_failed_sync(database: str, sync: Row) -> None:
    """Keep a failed sync's row for the record; the inventory tables are not touched."""
    with opened(database) as con:
        try:
            create_inventory_tables(con)
            _insert(con, SYNCS, [sync])
        except duckdb.Error as exc:
            raise DatabaseError(explain_write_error(database, exc)) from exc


def _insert(con: duckdb.DuckDBPyConnection, table: Table, rows: list[Row]) -> None:
    schema = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in table.columns])
    data = pa.Table.from_pylist(rows, schema=schema)  # noqa: F841 - read by DuckDB's replacement scan below
    names = ", ".join(quote(name) for name in table.column_names)
    con.execute(f"insert into {RAW_SCHEMA}.{quote(table.name)} ({names}) select {names} from data")
