"""The report's sections: what each shows (title, columns, what an empty one says), its rows read
once by its query (sigma_impressions.report.queries), and the fix texts a reader acts on.

Sections, in order: `popular` (workbooks viewed in 30 days, by the mart's popularity_rank, with
the 14-day trend label), `unused_workbooks` and `unused_elements` (the marts'
is_cleanup_candidate rows, usage_status as their status, with owner), `users` (most active over
30 days), `teams` (adoption per team, `(no team)` included), `rejected` (rows not counted, by
reason), `unmatched` (impressions not in the inventory), `excluded` (what the exclusion rules
left out, by reason), `events` (the event mix of the loaded exports) and `files` (export files
with a problem). The numbers, rules and the as-of date are the marts' own columns; this module
adds only presentation: the fix to make for a reason or a file's problem, which setting an
exclusion reason comes from, and what an empty event name means. Every renderer
(render.RENDERERS, html) turns the same Sections into its format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from sigma_impressions.report import queries
from sigma_impressions.report.source import ReportError, connect, one_line

# The fix for each rejection / unmatched reason (docs/operations.md's troubleshooting list says the same).
FIXES = {
    "missing_request_time": "the row has no request time: the export needs a request_time column "
    "(or an alias in vars.sigma_column_aliases) with a value on every row",
    "invalid_request_time": "write times as YYYY-MM-DD HH:MM[:SS[.fff]] with an optional Z, UTC or "
    "+HH:MM offset (a date alone, 24:00 or month 13 are rejected)",
    "missing_user_email": "the row has no user email: export a user_email (or email) column",
    "missing_workbook_url_id": "the row has no workbook id: the export needs a workbook_url_id column",
    "invalid_count": "count must be a whole number of at least 1 (3, 03, 3.0); empty means 1",
    "malformed_line": "the line has the wrong number of fields (sigma_raw.rejected_lines holds it): "
    "re-export the file; fields with commas must be quoted",
    "unknown_workbook": "add the workbook to the inventory (`sigma-impressions inventory`, "
    "seeds/sigma_workbooks.csv or vars.sigma_workbooks_relation); its impressions count nowhere until then",
    "unknown_element": "add the element to the inventory (`sigma-impressions inventory`, "
    "seeds/sigma_workbook_elements.csv or vars.sigma_workbook_elements_relation); it still counts for its workbook",
}

# The fix for a file's problem, by how marts.sigma_export_files' `problem` text begins.
FILE_FIXES = {
    "cannot be read": "check read access (s3:GetObject / storage.objects.get) or re-upload the file; "
    "the next load retries it",
    "no column for": "add the column to the Sigma export, or add the file's header spelling to "
    "vars.sigma_column_aliases in dbt_project.yml",
    "no view events": "set vars.sigma_view_event_pattern / sigma_success_status_pattern in dbt_project.yml "
    "to your export's event names and statuses (the `events` section, marts.sigma_export_events, lists them)",
    "no element_id column": "add the element id (element_id or node_id) to the export to get element metrics",
}

# The setting in dbt_project.yml behind each exclusion reason.
EXCLUSION_RULES = {
    "user_pattern": "vars.sigma_excluded_users",
    "member_type": "vars.sigma_excluded_member_types",
    "owner_view": "vars.sigma_exclude_owner_views",
}


def file_fix(problem: str | None) -> str:
    """The fix for a file's problem ('' when none is known)."""
    return next((fix for start, fix in FILE_FIXES.items() if (problem or "").startswith(start)), "")


def _with_fix(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "fix": FIXES.get(row["reason"], "")} for row in rows]


def _with_rule(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "rule": EXCLUSION_RULES.get(row["reason"], "")} for row in rows]


def _events_note(rows: list[dict[str, Any]]) -> str:
    """What an empty event name or status means (NULL: the file has no such column)."""
    missing = [row["event_name"] is None and row["event_status"] is None for row in rows]
    if rows and all(missing):
        return "exports have no event columns: every row counts"
    if any(row["event_name"] is None or row["event_status"] is None for row in rows):
        return "no event name or status: files without that column (with neither, every row counts)"
    return ""


def _with_file_fix(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "fix": file_fix(row["problem"])} for row in rows]


@dataclass(frozen=True)
class Spec:
    """What one section shows and where its rows come from."""

    title: str
    empty: str  # shown instead of an empty table
    columns: tuple[str, ...]  # the columns of the data formats, in order
    read: Callable[[duckdb.DuckDBPyConnection], list[dict[str, Any]]]
    windowed: bool = False  # its numbers are windows ending at the marts' as_of_date
    note: Callable[[list[dict[str, Any]]], str] | None = None  # a line shown under the title, from the rows


# A column keeps its place in its section; a new column comes after the old ones (CSV readers
# may go by position).
SPECS: dict[str, Spec] = {
    "popular": Spec(
        "Most viewed workbooks (ranked by 30 days; trend: last 14 days vs the 14 days before)",
        "no workbook impressions in the last 30 days",
        (
            "rank",
            "workbook_name",
            "workbook_url_id",
            "owner_email",
            "impressions_14d",
            "unique_users_14d",
            "impressions_previous_14d",
            "trend",
            "impressions_30d",
            "unique_users_30d",
            "last_impression_at",
            "workbook_url",
        ),
        queries.popular,
        windowed=True,
    ),
    "unused_workbooks": Spec(
        "Workbooks with no impressions in 30 days (deprecation candidates)",
        "no cleanup candidate: every live workbook was viewed in the last 30 days and none is stale",
        (
            "workbook_name",
            "workbook_url_id",
            "path",
            "owner_email",
            "status",
            "last_impression_at",
            "days_since_last_impression",
            "impressions_90d",
            "is_stale",
            "workbook_url",
        ),
        queries.unused_workbooks,
        windowed=True,
    ),
    "unused_elements": Spec(
        "Elements with no impressions in 30 days (deprecation candidates)",
        "no cleanup candidate: every live element was viewed in the last 30 days and none is stale",
        (
            "element_name",
            "element_id",
            "page_name",
            "element_type",
            "workbook_name",
            "workbook_url_id",
            "owner_email",
            "last_impression_at",
            "impressions_90d",
            "is_stale",
            "status",
            "days_since_last_impression",
            "path",
        ),
        queries.unused_elements,
        windowed=True,
    ),
    "users": Spec(
        "Most active users (last 30 days)",
        "nobody viewed a workbook in the last 30 days",
        (
            "rank",
            "user_email",
            "impressions_7d",
            "impressions_14d",
            "impressions_30d",
            "workbooks_viewed_30d",
            "last_impression_at",
            "is_active_14d",
        ),
        queries.users,
        windowed=True,
    ),
    "teams": Spec(
        "Teams: impressions (last 30 days) and active members (last 14 days)",
        "no team and no user activity yet",
        ("team_name", "team_id", "member_count", "active_members_14d", "impressions_30d", "workbooks_viewed_30d"),
        queries.teams,
        windowed=True,
    ),
    "rejected": Spec(
        "Rejected rows (counted nowhere): fix the export",
        "no rejected rows",
        ("reason", "rows_rejected", "files", "example_file", "fix"),
        lambda con: _with_fix(queries.rejected(con)),
    ),
    "unmatched": Spec(
        "Impressions not matched to the inventory",
        "every impression matched the inventory",
        (
            "workbook_url_id",
            "element_id",
            "reason",
            "impressions",
            "unique_users",
            "first_seen_at",
            "last_seen_at",
            "fix",
        ),
        lambda con: _with_fix(queries.unmatched(con)),
    ),
    "excluded": Spec(
        "Impressions the exclusion rules leave out (counted in no mart but fct_sigma_impressions)",
        "no exclusion rule is set or none matched",
        ("reason", "users", "workbooks", "impressions_total", "impressions_30d", "rule"),
        lambda con: _with_rule(queries.excluded(con)),
        windowed=True,
    ),
    "events": Spec(
        "Event mix of the loaded exports (only counted events are impressions)",
        "no export row loaded yet",
        ("event_name", "event_status", "rows", "files", "counted"),
        queries.events,
        note=_events_note,
    ),
    "files": Spec(
        "Export files with a problem (marts.sigma_export_files)",
        "every export file was read and has the required columns and view events",
        (
            "file_uri",
            "status",
            "rows_loaded",
            "problem",
            "fix",
            "is_blocking",
            "last_modified",
            "view_event_rows",
            "rejected_rows",
        ),
        lambda con: _with_file_fix(queries.files(con)),
    ),
}
SECTIONS = tuple(SPECS)


@dataclass
class Section:
    """One section of the report: its rows (dicts keyed by column), ready for any renderer."""

    key: str  # one of SECTIONS
    columns: list[str]  # the columns of the data formats, in order
    rows: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0  # rows beyond the limit
    as_of_date: date | None = None  # the date the marts' windows end at (windowed sections)
    note: str = ""  # a line the text and HTML formats show under the title

    @property
    def title(self) -> str:
        return SPECS[self.key].title

    @property
    def empty_text(self) -> str:
        """What to show instead of an empty table."""
        return SPECS[self.key].empty


def read_sections(con: duckdb.DuckDBPyConnection, limit: int, keys: tuple[str, ...] = SECTIONS) -> list[Section]:
    """Each section in `keys` read once from the open marts, at most `limit` rows each."""
    as_of = queries.as_of_date(con)
    report = []
    for key in keys:
        spec = SPECS[key]
        rows = spec.read(con)
        report.append(
            Section(
                key,
                list(spec.columns),
                rows[:limit],
                max(len(rows) - limit, 0),
                as_of if spec.windowed else None,
                spec.note(rows) if spec.note else "",
            )
        )
    return report


def build_report(database: str, limit: int, sections: tuple[str, ...] = SECTIONS) -> list[Section]:
    """Read every requested section from the marts in `database` (read-only). Raises ReportError
    (one line) when the file cannot be opened or its marts are not built."""
    con = connect(database, queries.MARTS)
    try:
        return read_sections(con, max(limit, 0), sections)
    except duckdb.Error as exc:
        raise ReportError(f"cannot read the marts in {database}: {one_line(str(exc))}") from exc
    finally:
        con.close()
