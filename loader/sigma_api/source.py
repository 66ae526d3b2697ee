"""The source: Sigma's API read through the client, as typed records per resource kind.

Rules:
- Every list is read whole, following `nextPage` (the client): the organisation's members,
  workbooks and teams, and per object a workbook's pages and each page's elements, a team's
  members.
- An entry that cannot be landed (no id, not an object) is dropped and counted with the reason
  `payloads.parse_*` gives; an entry listed again in the same list (for elements: in the same
  workbook) is dropped after its first listing and counted.
- A 403/404 on one object's list raises NotAccessible: the caller decides what an inaccessible
  workbook or team means. Any other fault raises SigmaApiError.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from loader.sigma_api.client import SigmaClient
from loader.sigma_api.payloads import (
    Element,
    Member,
    Page,
    Team,
    TeamMember,
    Workbook,
    parse_element,
    parse_member,
    parse_page,
    parse_team,
    parse_team_member,
    parse_workbook,
)

T = TypeVar("T")
Parse = Callable[[Any], tuple[T | None, str | None]]


@dataclass(frozen=True)
class WorkbookContents:
    """A workbook's pages in its order, and each element with the page it is on."""

    pages: list[Page]
    elements: list[tuple[Page, Element]]


class InventorySource:
    """Reads one organisation's inventory; counts dropped entries in `entries_skipped`."""

    def __init__(self, client: SigmaClient, entries_skipped: Counter[str] | None = None) -> None:
        self.client = client
        self.entries_skipped: Counter[str] = Counter() if entries_skipped is None else entries_skipped

    def members(self) -> list[Member]:
        return self._list("members", parse_member, lambda m: m.member_id, "member listed twice")

    def workbooks(self) -> list[Workbook]:
        return self._list("workbooks", parse_workbook, lambda w: w.workbook_id, "workbook listed twice")

    def teams(self) -> list[Team]:
        return self._list("teams", parse_team, lambda t: t.team_id, "team listed twice")

    def workbook_contents(self, workbook: Workbook) -> WorkbookContents:
        pages_path = f"workbooks/{_segment(workbook.workbook_id)}/pages"
        pages = self._list(pages_path, parse_page, lambda p: p.page_id, "page listed twice in a workbook")
        elements = [
            (page, element)
            for page in pages
            for element in self._parse(
                self.client.list_entries(f"{pages_path}/{_segment(page.page_id)}/elements"), parse_element
            )
        ]
        unique = self._unique(elements, lambda pe: pe[1].element_id, "element listed twice in a workbook")
        return WorkbookContents(pages=pages, elements=unique)

    def team_members(self, team: Team) -> list[TeamMember]:
        path = f"teams/{_segment(team.team_id)}/members"
        return self._list(path, parse_team_member, lambda m: m.member_id, "team member listed twice in a team")

    # ---- one list -> records ---------------------------------------------------------------

    def _list(self, path: str, parse: Parse[T], key: Callable[[T], str], twice: str) -> list[T]:
        return self._unique(self._parse(self.client.list_entries(path), parse), key, twice)

    def _parse(self, entries: Iterable[Any], parse: Parse[T]) -> list[T]:
        records = []
        for entry in entries:
            record, reason = parse(entry)
            if record is None:
                self.entries_skipped[reason or "entry not readable"] += 1
            else:
                records.append(record)
        return records

    def _unique(self, records: Iterable[T], key: Callable[[T], str], twice: str) -> list[T]:
        seen: set[str] = set()
        unique = []
        for record in records:
            if key(record) in seen:
                self.entries_skipped[twice] += 1
                continue
            seen.add(key(record))
            unique.append(record)
        return unique


def _segment(object_id: str) -> str:
    """An id as one path segment."""
    return quote(object_id, safe="")
