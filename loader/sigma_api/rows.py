"""Typed records -> rows of the inventory tables: every column of the layout (tables.py) but the
sync timestamps, which the merge sets."""

from __future__ import annotations

from loader.sigma_api.payloads import Member, Team, TeamMember, Workbook
from loader.sigma_api.source import WorkbookContents
from loader.sigma_api.tables import Row


def workbook_row(workbook: Workbook, owner_email: str | None, synced_version: str | None) -> Row:
    """`synced_version`: the version whose pages and elements the inventory holds after this sync."""
    return {
        "workbook_id": workbook.workbook_id,
        "workbook_url_id": workbook.workbook_url_id,
        "name": workbook.name,
        "url": workbook.url,
        "path": workbook.path,
        "owner_id": workbook.owner_id,
        "owner_email": owner_email,
        "created_by": workbook.created_by,
        "updated_by": workbook.updated_by,
        "created_at": workbook.created_at,
        "updated_at": workbook.updated_at,
        "latest_version": workbook.latest_version,
        "is_archived": workbook.is_archived,
        "elements_synced_version": synced_version,
    }


def _of_workbook(workbook: Workbook) -> Row:
    return {"workbook_id": workbook.workbook_id, "workbook_url_id": workbook.workbook_url_id}


def page_rows(workbook: Workbook, contents: WorkbookContents) -> list[Row]:
    return [
        {
            **_of_workbook(workbook),
            "page_id": page.page_id,
            "name": page.name,
            "page_position": position,
        }
        for position, page in enumerate(contents.pages, start=1)
    ]


def element_rows(workbook: Workbook, contents: WorkbookContents) -> list[Row]:
    return [
        {
            **_of_workbook(workbook),
            "page_id": page.page_id,
            "page_name": page.name,
            "element_id": element.element_id,
            "name": element.name,
            "element_type": element.element_type,
            "visualization_type": element.visualization_type,
            "columns": element.columns,
        }
        for page, element in contents.elements
    ]


def member_row(member: Member) -> Row:
    return {
        "member_id": member.member_id,
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "member_type": member.member_type,
    }


def team_row(team: Team) -> Row:
    return {"team_id": team.team_id, "name": team.name, "description": team.description}


def team_member_row(team_id: str, member: TeamMember) -> Row:
    return {"team_id": team_id, "member_id": member.member_id}
