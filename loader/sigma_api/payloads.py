"""Typed records for the entries of Sigma's list answers, tolerant to fields added or missing.

A missing optional field becomes None; an entry without its id cannot be landed and is skipped
(the caller counts it with the reason `parse_*` returns). Unknown fields are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def _text(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int | float | bool):
        return str(value)
    return json.dumps(value, sort_keys=True)


def _timestamp(entry: dict[str, Any], key: str) -> datetime | None:
    """An ISO-8601 timestamp as naive UTC; None when missing or not a timestamp."""
    value = _text(entry, key)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _bool(entry: dict[str, Any], key: str) -> bool | None:
    value = entry.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _require(entry: Any, *keys: str) -> tuple[dict[str, Any] | None, str | None]:
    if not isinstance(entry, dict):
        return None, "entry is not an object"
    missing = [key for key in keys if _text(entry, key) is None]
    if missing:
        return None, f"missing {', '.join(missing)}"
    return entry, None


@dataclass(frozen=True)
class Workbook:
    workbook_id: str
    workbook_url_id: str
    name: str | None
    url: str | None
    path: str | None
    owner_id: str | None
    created_by: str | None
    updated_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    latest_version: str | None
    is_archived: bool | None

    @property
    def version_key(self) -> str:
        """What says the workbook changed: its updatedAt and latestVersion."""
        updated = self.updated_at.isoformat() if self.updated_at else ""
        return f"{updated}|{self.latest_version or ''}"


@dataclass(frozen=True)
class Page:
    page_id: str
    name: str | None


@dataclass(frozen=True)
class Element:
    element_id: str
    name: str | None
    element_type: str | None
    visualization_type: str | None
    columns: str | None


@dataclass(frozen=True)
class Member:
    member_id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    # The account type as Sigma names it ("admin", "Creator", "Viewer", a custom type's name).
    member_type: str | None


@dataclass(frozen=True)
class Team:
    team_id: str
    name: str | None
    description: str | None


@dataclass(frozen=True)
class TeamMember:
    """One entry of a team's member list: the member's id is all a membership needs."""

    member_id: str


def parse_workbook(entry: Any) -> tuple[Workbook | None, str | None]:
    """A workbook entry, or None and why it was skipped. Both ids are needed: impressions name
    the workbook by its url id, the pages and elements endpoints by its workbook id."""
    item, reason = _require(entry, "workbookId", "workbookUrlId")
    if item is None:
        return None, f"workbook {reason}"
    return (
        Workbook(
            workbook_id=_text(item, "workbookId") or "",
            workbook_url_id=_text(item, "workbookUrlId") or "",
            name=_text(item, "name"),
            url=_text(item, "url"),
            path=_text(item, "path"),
            owner_id=_text(item, "ownerId"),
            created_by=_text(item, "createdBy"),
            updated_by=_text(item, "updatedBy"),
            created_at=_timestamp(item, "createdAt"),
            updated_at=_timestamp(item, "updatedAt"),
            latest_version=_text(item, "latestVersion"),
            is_archived=_bool(item, "isArchived"),
        ),
        None,
    )


def parse_page(entry: Any) -> tuple[Page | None, str | None]:
    item, reason = _require(entry, "pageId")
    if item is None:
        return None, f"page {reason}"
    return Page(page_id=_text(item, "pageId") or "", name=_text(item, "name")), None


def parse_element(entry: Any) -> tuple[Element | None, str | None]:
    item, reason = _require(entry, "elementId")
    if item is None:
        return None, f"element {reason}"
    columns = item.get("columns")
    return (
        Element(
            element_id=_text(item, "elementId") or "",
            name=_text(item, "name"),
            element_type=_text(item, "type"),
            # Sigma spells it `vizualizationType`; the corrected spelling is read too.
            visualization_type=_text(item, "vizualizationType") or _text(item, "visualizationType"),
            columns=json.dumps(columns) if isinstance(columns, list) else None,
        ),
        None,
    )


def parse_member(entry: Any) -> tuple[Member | None, str | None]:
    item, reason = _require(entry, "memberId")
    if item is None:
        return None, f"member {reason}"
    email = _text(item, "email")
    return (
        Member(
            member_id=_text(item, "memberId") or "",
            email=email.lower() if email else None,
            first_name=_text(item, "firstName"),
            last_name=_text(item, "lastName"),
            member_type=_text(item, "memberType"),
        ),
        None,
    )


def parse_team(entry: Any) -> tuple[Team | None, str | None]:
    item, reason = _require(entry, "teamId")
    if item is None:
        return None, f"team {reason}"
    team = Team(team_id=_text(item, "teamId") or "", name=_text(item, "name"), description=_text(item, "description"))
    return team, None


def parse_team_member(entry: Any) -> tuple[TeamMember | None, str | None]:
    """An entry of GET /v2/teams/{teamId}/members (a member's record): only its id is read."""
    item, reason = _require(entry, "memberId")
    if item is None:
        return None, f"team member {reason}"
    return TeamMember(member_id=_text(item, "memberId") or ""), None
