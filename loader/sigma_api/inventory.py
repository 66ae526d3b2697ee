"""One inventory sync, step by step: read the previous inventory (writer), read the API (source),
turn the records into rows (rows), merge them with the previous rows (merge), land them in one
transaction (writer), and say what happened (report). And `check_api`, for `check`.

Rules:
- Nothing is written until the API has been read: a sync that fails (or is killed) midway
  changes nothing but, when it can, one `failed` row in sigma_raw.inventory_syncs.
- The member, workbook and team listings must be read whole; otherwise the sync fails. So does
  any answer that is not JSON of the documented shape, on any path.
- Pages and elements are fetched only for workbooks that are new, changed (updatedAt /
  latestVersion) or back from deleted since their last successful fetch; `full` fetches all.
- Every team's members are read on every sync.
- 403/404 on one workbook's pages or elements (one team's members): that workbook (team) keeps
  its previous pages and elements (members) and is reported as skipped; a skipped workbook is
  fetched again next sync.
- A workbook, page, element, member or team a sync no longer lists keeps its rows with
  `deleted_at` set, so impressions of it still resolve; it clears when it comes back. Team
  memberships are the current ones: a membership no longer listed is dropped.
- Entries without an id are skipped and counted with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from loader.sigma_api.client import NotAccessible, SigmaApiError, SigmaClient
from loader.sigma_api.config import SigmaApiSettings
from loader.sigma_api.merge import merge
from loader.sigma_api.payloads import Member, Team, TeamMember, Workbook
from loader.sigma_api.report import SkippedTeam, SkippedWorkbook, SyncReport
from loader.sigma_api.rows import element_rows, member_row, page_rows, team_member_row, team_row, workbook_row
from loader.sigma_api.source import InventorySource, WorkbookContents
from loader.sigma_api.tables import ELEMENTS, MEMBERS, PAGES, TEAM_MEMBERS, TEAMS, WORKBOOKS, Key, Row, Table
from loader.sigma_api.writer import read_previous, record_failed_sync, write_sync


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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
        previous = read_previous(settings.database)
        try:
            client.authenticate()
            source = InventorySource(client, report.entries_skipped)
            api = _read_api(source, settings.full, previous[WORKBOOKS.name], report)
            inventory = _merge_all(api, previous, report.started_at, report)
        except SigmaApiError as exc:
            report.status, report.error = "failed", client.scrub(str(exc))
        report.api_calls, report.retries = client.stats.api_calls, client.stats.retries
        report.finished_at = _now()
        if report.status == "failed":
            record_failed_sync(settings.database, report.row())
            return report
        report.status = "succeeded"
        write_sync(settings.database, inventory, report.row())
        return report
    finally:
        if own_client:
            client.close()


@dataclass
class _ApiRead:
    """What one sync read: the listings, and the lists of the objects it read."""

    members: list[Member]
    workbooks: list[Workbook]
    teams: list[Team]
    contents: dict[str, WorkbookContents] = field(default_factory=dict)  # by workbook id
    memberships: dict[str, list[TeamMember]] = field(default_factory=dict)  # by team id


def _read_api(source: InventorySource, full: bool, previous_workbooks: dict[Key, Row], report: SyncReport) -> _ApiRead:
    api = _ApiRead(members=source.members(), workbooks=source.workbooks(), teams=source.teams())
    for workbook in _to_fetch(api.workbooks, previous_workbooks, full, report):
        try:
            api.contents[workbook.workbook_id] = source.workbook_contents(workbook)
        except NotAccessible as exc:
            report.skipped_workbooks.append(
                SkippedWorkbook(workbook.workbook_id, workbook.workbook_url_id, workbook.name, str(exc))
            )
    for team in api.teams:
        try:
            api.memberships[team.team_id] = source.team_members(team)
        except NotAccessible as exc:
            report.skipped_teams.append(SkippedTeam(team.team_id, team.name, str(exc)))
    report.members_listed = len(api.members)
    report.workbooks_listed = len(api.workbooks)
    report.teams_listed = len(api.teams)
    report.workbooks_fetched = len(api.contents)
    report.pages_fetched = sum(len(c.pages) for c in api.contents.values())
    report.elements_fetched = sum(len(c.elements) for c in api.contents.values())
    report.team_members_listed = sum(len(m) for m in api.memberships.values())
    return api


def _merge_all(
    api: _ApiRead, previous: dict[str, dict[Key, Row]], now: datetime, report: SyncReport
) -> dict[str, list[Row]]:
    """Every inventory table after this sync: the same merge for every kind."""
    emails = {member.member_id: member.email for member in api.members}
    fetched = [(w, api.contents[w.workbook_id]) for w in api.workbooks if w.workbook_id in api.contents]
    previous_workbooks = previous[WORKBOOKS.name]
    unread_workbooks = {w.workbook_id for w in api.workbooks} - api.contents.keys()
    # table -> (the rows this sync read, the parents listed whose own lists it did not read)
    synced: dict[Table, tuple[list[Row], Collection[str]]] = {
        WORKBOOKS: (
            [
                workbook_row(w, emails.get(w.owner_id or ""), _synced_version(w, api.contents, previous_workbooks))
                for w in api.workbooks
            ],
            (),
        ),
        PAGES: ([r for w, c in fetched for r in page_rows(w, c)], unread_workbooks),
        ELEMENTS: ([r for w, c in fetched for r in element_rows(w, c)], unread_workbooks),
        MEMBERS: ([member_row(m) for m in api.members], ()),
        TEAMS: ([team_row(t) for t in api.teams], ()),
        TEAM_MEMBERS: (
            [team_member_row(tid, m) for tid, listed in api.memberships.items() for m in listed],
            {t.team_id for t in api.teams} - api.memberships.keys(),
        ),
    }
    merged = {table: merge(table, rows, previous[table.name], now, unread) for table, (rows, unread) in synced.items()}
    report.workbooks_deleted = merged[WORKBOOKS].deleted
    report.teams_deleted = merged[TEAMS].deleted
    return {table.name: result.rows for table, result in merged.items()}


def _to_fetch(workbooks: list[Workbook], previous: dict[Key, Row], full: bool, report: SyncReport) -> list[Workbook]:
    """The workbooks whose pages and elements this sync reads; counts new, changed, unchanged."""
    chosen = []
    for workbook in workbooks:
        before = previous.get((workbook.workbook_id,))
        if before is None:
            report.workbooks_new += 1
        elif before["deleted_at"] is not None or before["elements_synced_version"] != workbook.version_key:
            report.workbooks_changed += 1
        else:
            report.workbooks_unchanged += 1
            if not full:
                continue
        chosen.append(workbook)
    return chosen


def _synced_version(workbook: Workbook, contents: dict[str, WorkbookContents], previous: dict[Key, Row]) -> str | None:
    """The version whose pages and elements the inventory holds after this sync."""
    if workbook.workbook_id in contents:
        return workbook.version_key
    before = previous.get((workbook.workbook_id,))
    return before["elements_synced_version"] if before else None


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
