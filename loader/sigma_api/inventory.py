"""One inventory sync: read Sigma's API, then land everything in one DuckDB transaction.

Rules:
- Nothing is written until the API has been read: a sync that fails (or is killed) midway
  changes nothing but, when it can, one `failed` row in sigma_raw.inventory_syncs.
- The member and workbook listings must be read whole; otherwise the sync fails.
- Pages and elements are fetched only for workbooks that are new, changed (updatedAt /
  latestVersion) or back from deleted since their last successful fetch; `full` fetches all.
- 403/404 on one workbook's pages or elements: that workbook keeps its previous pages and
  elements, is fetched again next sync, and is reported as skipped.
- A workbook (page, element, member) a complete sync no longer lists keeps its rows with
  `deleted_at` set, so impressions of it still resolve; it clears when it comes back.
- Entries without an id are skipped and counted with the reason.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from loader.landing import (
    RAW_SCHEMA,
    DatabaseError,
    _explain_open_error,
    _explain_write_error,
)
from loader.sigma_api.client import NotAccessible, SigmaApiError, SigmaClient
from loader.sigma_api.config import SigmaApiSettings
from loader.sigma_api.payloads import (
    Element,
    Member,
    Page,
    Workbook,
    parse_element,
    parse_member,
    parse_page,
    parse_workbook,
)

# table -> (column, DuckDB type) in order. The one list of what a sync lands.
TABLES: dict[str, list[tuple[str, str]]] = {
    "sigma_workbooks": [
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
        ("elements_synced_version", "varchar"),
        ("first_synced_at", "timestamp"),
        ("last_synced_at", "timestamp"),
        ("deleted_at", "timestamp"),
    ],
    "sigma_workbook_pages": [
        ("workbook_id", "varchar"),
        ("workbook_url_id", "varchar"),
        ("page_id", "varchar"),
        ("name", "varchar"),
        ("page_position", "integer"),
        ("first_synced_at", "timestamp"),
        ("last_synced_at", "timestamp"),
        ("deleted_at", "timestamp"),
    ],
    "sigma_workbook_elements": [
        ("workbook_id", "varchar"),
        ("workbook_url_id", "varchar"),
        ("page_id", "varchar"),
        ("page_name", "varchar"),
        ("element_id", "varchar"),
        ("name", "varchar"),
        ("element_type", "varchar"),
        ("visualization_type", "varchar"),
        ("columns", "varchar"),
        ("first_synced_at", "timestamp"),
        ("last_synced_at", "timestamp"),
        ("deleted_at", "timestamp"),
    ],
    "sigma_members": [
        ("member_id", "varchar"),
        ("email", "varchar"),
        ("first_name", "varchar"),
        ("last_name", "varchar"),
        ("first_synced_at", "timestamp"),
        ("last_synced_at", "timestamp"),
        ("deleted_at", "timestamp"),
    ],
    "inventory_syncs": [
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
        ("entries_skipped", "integer"),
        ("entries_skipped_reasons", "varchar"),
        ("api_calls", "integer"),
        ("retries", "integer"),
        ("error", "varchar"),
    ],
}
KEYS = {
    "sigma_workbooks": ("workbook_id",),
    "sigma_workbook_pages": ("workbook_id", "page_id"),
    "sigma_workbook_elements": ("workbook_id", "element_id"),
    "sigma_members": ("member_id",),
}
_ARROW_TYPES = {"varchar": pa.string(), "timestamp": pa.timestamp("us"), "boolean": pa.bool_(), "integer": pa.int32()}

Row = dict[str, Any]


@dataclass(frozen=True)
class SkippedWorkbook:
    workbook_id: str
    workbook_url_id: str
    name: str | None
    reason: str


@dataclass
class SyncReport:
    """What one sync did, and what it dropped and why."""

    sync_id: str
    mode: str
    api_url: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    error: str | None = None
    workbooks_listed: int = 0
    workbooks_new: int = 0
    workbooks_changed: int = 0
    workbooks_unchanged: int = 0
    workbooks_fetched: int = 0
    workbooks_deleted: int = 0
    skipped_workbooks: list[SkippedWorkbook] = field(default_factory=list)
    pages_fetched: int = 0
    elements_fetched: int = 0
    members_listed: int = 0
    entries_skipped: Counter[str] = field(default_factory=Counter)
    api_calls: int = 0
    retries: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def lines(self) -> list[str]:
        """The summary: parseable key=value pairs, then one line per skipped workbook or entry kind."""
        if not self.ok:
            return [f"inventory sync failed: {self.error}; the previous inventory is unchanged"]
        lines = [
            "inventory"
            f" mode={self.mode}"
            f" workbooks={self.workbooks_listed}"
            f" new={self.workbooks_new}"
            f" changed={self.workbooks_changed}"
            f" unchanged={self.workbooks_unchanged}"
            f" deleted={self.workbooks_deleted}"
            f" fetched={self.workbooks_fetched}"
            f" skipped={len(self.skipped_workbooks)}"
            f" pages={self.pages_fetched}"
            f" elements={self.elements_fetched}"
            f" members={self.members_listed}"
            f" api_calls={self.api_calls}"
            f" retries={self.retries}"
        ]
        lines += [
            f"skipped workbook {s.workbook_url_id} ({s.name or s.workbook_id}): {s.reason}; "
            "its previous pages and elements are kept"
            for s in self.skipped_workbooks
        ]
        lines += [
            f"skipped {n} entr{'y' if n == 1 else 'ies'}: {why}" for why, n in sorted(self.entries_skipped.items())
        ]
        return lines

    def row(self) -> Row:
        return {
            "sync_id": self.sync_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "mode": self.mode,
            "api_url": self.api_url,
            "workbooks_listed": self.workbooks_listed,
            "workbooks_new": self.workbooks_new,
            "workbooks_changed": self.workbooks_changed,
            "workbooks_unchanged": self.workbooks_unchanged,
            "workbooks_fetched": self.workbooks_fetched,
            "workbooks_deleted": self.workbooks_deleted,
            "workbooks_skipped": len(self.skipped_workbooks),
            "skipped_workbooks": json.dumps([s.__dict__ for s in self.skipped_workbooks]),
            "pages_fetched": self.pages_fetched,
            "elements_fetched": self.elements_fetched,
            "members_listed": self.members_listed,
            "entries_skipped": sum(self.entries_skipped.values()),
            "entries_skipped_reasons": json.dumps(dict(self.entries_skipped), sort_keys=True),
            "api_calls": self.api_calls,
            "retries": self.retries,
            "error": self.error,
        }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ---- database --------------------------------------------------------------------------------


@contextlib.contextmanager
def _connect(database: str) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(database)
    try:
        if str(path.parent) not in ("", "."):
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the folder for --database {database}: {exc.strerror}") from exc
    try:
        con = duckdb.connect(str(path), config={"autoinstall_known_extensions": False})
    except duckdb.Error as exc:
        raise DatabaseError(_explain_open_error(database, exc)) from exc
    try:
        yield con
    finally:
        con.close()


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for table, columns in TABLES.items():
        body = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        con.execute(f"create table if not exists {RAW_SCHEMA}.{table} ({body})")


def _read_previous(database: str) -> dict[str, dict[tuple[str, ...], Row]]:
    """The landed inventory, keyed per table (empty before the first sync)."""
    previous: dict[str, dict[tuple[str, ...], Row]] = {table: {} for table in KEYS}
    if database != ":memory:" and not Path(database).exists():
        return previous
    with _connect(database) as con:
        existing = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [RAW_SCHEMA]
            ).fetchall()
        }
        for table, key in KEYS.items():
            if table not in existing:
                continue
            names = [name for name, _ in TABLES[table]]
            present = {
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [RAW_SCHEMA, table],
                ).fetchall()
            }
            select = ", ".join(f'"{n}"' if n in present else f'null as "{n}"' for n in names)
            for values in con.execute(f"select {select} from {RAW_SCHEMA}.{table}").fetchall():
                row = dict(zip(names, values, strict=True))
                previous[table][tuple(row[k] for k in key)] = row
    return previous


def _arrow(table: str, rows: list[Row]) -> pa.Table:
    schema = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in TABLES[table]])
    return pa.Table.from_pylist(rows, schema=schema)


def _write(database: str, state: dict[str, list[Row]], report: SyncReport) -> None:
    """Replace the inventory tables with the new state and add the sync's row: one transaction."""
    with _connect(database) as con:
        try:
            ensure_tables(con)
            con.execute("begin transaction")
            for table, rows in state.items():
                names = ", ".join(f'"{name}"' for name, _ in TABLES[table])
                data = _arrow(table, rows)  # noqa: F841 - read by DuckDB's replacement scan below
                con.execute(f"delete from {RAW_SCHEMA}.{table}")
                con.execute(f"insert into {RAW_SCHEMA}.{table} ({names}) select {names} from data")
            _insert_sync(con, report)
            con.execute("commit")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("rollback")
            raise DatabaseError(_explain_write_error(database, exc)) from exc


def _insert_sync(con: duckdb.DuckDBPyConnection, report: SyncReport) -> None:
    names = ", ".join(f'"{name}"' for name, _ in TABLES["inventory_syncs"])
    sync = _arrow("inventory_syncs", [report.row()])  # noqa: F841 - read by DuckDB's replacement scan
    con.execute(f"insert into {RAW_SCHEMA}.inventory_syncs ({names}) select {names} from sync")


def _record_failure(database: str, report: SyncReport) -> None:
    """Keep a `failed` row for the record; the inventory tables are not touched."""
    with _connect(database) as con:
        ensure_tables(con)
        _insert_sync(con, report)


# ---- the sync --------------------------------------------------------------------------------


@dataclass
class _Fetched:
    pages: list[tuple[int, Page]]
    elements: list[tuple[Page, Element]]


def _parse_all(entries: list[Any], parse: Any, report: SyncReport) -> list[Any]:
    items = []
    for entry in entries:
        item, reason = parse(entry)
        if item is None:
            report.entries_skipped[reason] += 1
        else:
            items.append(item)
    return items


def _fetch_workbook(client: SigmaClient, workbook: Workbook, report: SyncReport) -> _Fetched:
    pages = _parse_all(client.list_entries(f"workbooks/{workbook.workbook_id}/pages"), parse_page, report)
    fetched = _Fetched(pages=list(enumerate(pages, start=1)), elements=[])
    for page in pages:
        path = f"workbooks/{workbook.workbook_id}/pages/{page.page_id}/elements"
        for element in _parse_all(client.list_entries(path), parse_element, report):
            fetched.elements.append((page, element))
    return fetched


def sync_inventory(settings: SigmaApiSettings, client: SigmaClient | None = None) -> SyncReport:
    """Read the inventory from Sigma's API and land it. Never raises for API faults: the report
    says `failed` and why. Raises DatabaseError when the database cannot be opened or written."""
    report = SyncReport(
        sync_id=str(uuid.uuid4()),
        mode="full" if settings.full else "incremental",
        api_url=settings.base_url,
        started_at=_now(),
    )
    own_client = client is None
    client = client or SigmaClient(settings)
    try:
        previous = _read_previous(settings.database)
        try:
            state = _read_api(client, settings, previous, report)
        except SigmaApiError as exc:
            report.status, report.error = "failed", client.scrub(str(exc))
        report.api_calls, report.retries = client.stats.api_calls, client.stats.retries
        report.finished_at = _now()
        if report.status == "failed":
            _record_failure(settings.database, report)
            return report
        report.status = "succeeded"
        _write(settings.database, state, report)
        return report
    finally:
        if own_client:
            client.close()


def _read_api(
    client: SigmaClient,
    settings: SigmaApiSettings,
    previous: dict[str, dict[tuple[str, ...], Row]],
    report: SyncReport,
) -> dict[str, list[Row]]:
    now = report.started_at
    client.authenticate()
    members: dict[str, Member] = {}
    for member in _parse_all(client.list_entries("members"), parse_member, report):
        members[member.member_id] = member
    workbooks: dict[str, Workbook] = {}
    for workbook in _parse_all(client.list_entries("workbooks"), parse_workbook, report):
        if workbook.workbook_id in workbooks:
            report.entries_skipped["workbook listed twice"] += 1
        workbooks[workbook.workbook_id] = workbook
    report.members_listed, report.workbooks_listed = len(members), len(workbooks)

    prev_workbooks = previous["sigma_workbooks"]
    fetched: dict[str, _Fetched] = {}
    for workbook in workbooks.values():
        before = prev_workbooks.get((workbook.workbook_id,))
        if before is None:
            report.workbooks_new += 1
        elif before["deleted_at"] is not None or before["elements_synced_version"] != workbook.version_key:
            report.workbooks_changed += 1
        else:
            report.workbooks_unchanged += 1
            if not settings.full:
                continue
        try:
            fetched[workbook.workbook_id] = _fetch_workbook(client, workbook, report)
        except NotAccessible as exc:
            report.skipped_workbooks.append(
                SkippedWorkbook(workbook.workbook_id, workbook.workbook_url_id, workbook.name, str(exc))
            )
    report.workbooks_fetched = len(fetched)
    report.workbooks_deleted = sum(
        1 for (wid,), row in prev_workbooks.items() if wid not in workbooks and row["deleted_at"] is None
    )
    return {
        "sigma_workbooks": _workbook_rows(workbooks, members, fetched, prev_workbooks, now),
        "sigma_workbook_pages": _child_rows("sigma_workbook_pages", workbooks, fetched, previous, now, report),
        "sigma_workbook_elements": _child_rows("sigma_workbook_elements", workbooks, fetched, previous, now, report),
        "sigma_members": _member_rows(members, previous["sigma_members"], now),
    }


def _kept(row: Row, now: datetime) -> Row:
    """A previous row its source no longer lists: kept, marked deleted (first time only)."""
    return {**row, "deleted_at": row["deleted_at"] or now}


def _workbook_rows(
    workbooks: dict[str, Workbook],
    members: dict[str, Member],
    fetched: dict[str, _Fetched],
    previous: dict[tuple[str, ...], Row],
    now: datetime,
) -> list[Row]:
    rows = []
    for wid, wb in workbooks.items():
        before = previous.get((wid,))
        owner = members.get(wb.owner_id or "")
        version = wb.version_key if wid in fetched else before["elements_synced_version"] if before else None
        rows.append(
            {
                "workbook_id": wid,
                "workbook_url_id": wb.workbook_url_id,
                "name": wb.name,
                "url": wb.url,
                "path": wb.path,
                "owner_id": wb.owner_id,
                "owner_email": owner.email if owner else None,
                "created_by": wb.created_by,
                "updated_by": wb.updated_by,
                "created_at": wb.created_at,
                "updated_at": wb.updated_at,
                "latest_version": wb.latest_version,
                "is_archived": wb.is_archived,
                "elements_synced_version": version,
                "first_synced_at": before["first_synced_at"] if before else now,
                "last_synced_at": now,
                "deleted_at": None,
            }
        )
    rows += [_kept(row, now) for (wid,), row in previous.items() if wid not in workbooks]
    return rows


def _child_rows(
    table: str,
    workbooks: dict[str, Workbook],
    fetched: dict[str, _Fetched],
    previous: dict[str, dict[tuple[str, ...], Row]],
    now: datetime,
    report: SyncReport,
) -> list[Row]:
    """Pages or elements: fresh rows for fetched workbooks, previous rows kept for the others
    (marked deleted when their workbook or the object itself is gone)."""
    before = previous[table]
    rows: dict[tuple[str, ...], Row] = {}
    for wid, content in fetched.items():
        wb = workbooks[wid]
        if table == "sigma_workbook_pages":
            for position, page in content.pages:
                key = (wid, page.page_id)
                if key in rows:
                    report.entries_skipped["page listed twice in a workbook"] += 1
                    continue
                old = before.get(key)
                rows[key] = {
                    "workbook_id": wid,
                    "workbook_url_id": wb.workbook_url_id,
                    "page_id": page.page_id,
                    "name": page.name,
                    "page_position": position,
                    "first_synced_at": old["first_synced_at"] if old else now,
                    "last_synced_at": now,
                    "deleted_at": None,
                }
            report.pages_fetched += len(content.pages)
        else:
            for page, element in content.elements:
                key = (wid, element.element_id)
                if key in rows:
                    report.entries_skipped["element listed twice in a workbook"] += 1
                    continue
                old = before.get(key)
                rows[key] = {
                    "workbook_id": wid,
                    "workbook_url_id": wb.workbook_url_id,
                    "page_id": page.page_id,
                    "page_name": page.name,
                    "element_id": element.element_id,
                    "name": element.name,
                    "element_type": element.element_type,
                    "visualization_type": element.visualization_type,
                    "columns": element.columns,
                    "first_synced_at": old["first_synced_at"] if old else now,
                    "last_synced_at": now,
                    "deleted_at": None,
                }
            report.elements_fetched += len(content.elements)
    for key, row in before.items():
        if key in rows:
            continue
        wid = key[0]
        gone = wid not in workbooks or wid in fetched
        rows[key] = _kept(row, now) if gone else row
    return list(rows.values())


def _member_rows(members: dict[str, Member], previous: dict[tuple[str, ...], Row], now: datetime) -> list[Row]:
    rows = []
    for mid, member in members.items():
        before = previous.get((mid,))
        rows.append(
            {
                "member_id": mid,
                "email": member.email,
                "first_name": member.first_name,
                "last_name": member.last_name,
                "first_synced_at": before["first_synced_at"] if before else now,
                "last_synced_at": now,
                "deleted_at": None,
            }
        )
    rows += [_kept(row, now) for (mid,), row in previous.items() if mid not in members]
    return rows


def check_api(settings: SigmaApiSettings) -> tuple[bool, str]:
    """Get a token and read one page of workbooks: ('sigma api: ok, N workbooks visible') or what to fix."""
    with SigmaClient(settings) as client:
        try:
            client.authenticate()
            body = client.first_page("workbooks")
        except NotAccessible as exc:
            return False, client.scrub(
                f"sigma api: {exc}: the credentials cannot list workbooks; give the API client's owner access"
            )
        except SigmaApiError as exc:
            return False, client.scrub(f"sigma api: {exc}")
    total = body.get("total")
    count = total if isinstance(total, int) and not isinstance(total, bool) else len(body["entries"])
    return True, f"sigma api: ok, {count} workbooks visible"
