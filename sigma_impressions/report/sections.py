"""The report's data: each section read (read-only) from the marts' contract columns, as rows.

Sections: the most viewed workbooks over 14 days with their trend against the previous 14 days,
workbooks and elements with no impression in 30 days (deprecation candidates, with owner), the
most active users, rejected rows and unmatched impressions with the fix to make, files with a
problem. Nothing here is recomputed: the numbers and the as-of date are the marts' own columns.
A renderer (sigma_impressions.report.render) turns a list of Section into text.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from loader.contract import load_aliases, map_headers, missing_required

MARTS = "marts"
REQUIRED_MARTS = (
    "sigma_workbook_impressions",
    "sigma_element_impressions",
    "sigma_user_activity",
    "sigma_rejected_impressions",
    "sigma_unmatched_impressions",
    "fct_sigma_impressions",
)
NOT_BUILT = "run `sigma-impressions run` or `dbt build` first"

# The fix for each rejection / unmatched reason (the README's troubleshooting list says the same).
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

WINDOWED = ("popular", "unused_workbooks", "unused_elements", "users")
SECTIONS = ("popular", "unused_workbooks", "unused_elements", "users", "rejected", "unmatched", "files")
TITLES = {
    "popular": "Most viewed workbooks (last 14 days, trend vs the 14 days before)",
    "unused_workbooks": "Workbooks with no impressions in 30 days (deprecation candidates)",
    "unused_elements": "Elements with no impressions in 30 days (deprecation candidates)",
    "users": "Most active users (last 30 days)",
    "rejected": "Rejected rows (counted nowhere): fix the export",
    "unmatched": "Impressions not matched to the inventory",
    "files": "Export files with a problem (sigma_raw.loaded_files)",
}
EMPTY = {
    "popular": "no workbook impressions in the last 14 days",
    "unused_workbooks": "every workbook was opened in the last 30 days",
    "unused_elements": "every element was viewed in the last 30 days",
    "users": "no user activity yet",
    "rejected": "no rejected rows",
    "unmatched": "every impression matched the inventory",
    "files": "every loaded file was read and has the required columns",
}


class ReportError(Exception):
    """The report cannot be read; the message is one line that says what to do."""


@dataclass
class Section:
    """One section of the report: its rows (dicts keyed by column), ready for any renderer."""

    key: str  # one of SECTIONS
    columns: list[str]  # the columns of the data formats, in order
    rows: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0  # rows beyond --limit
    as_of_date: date | None = None  # the report date the marts' windows end at (windowed sections)

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def empty_text(self) -> str:
        """What to show instead of an empty table."""
        return EMPTY[self.key]


def build_report(database: str, limit: int, sections: tuple[str, ...] = SECTIONS) -> list[Section]:
    """Read every requested section from the marts."""
    con = _connect(database)
    try:
        columns = _mart_columns(con)
        missing = [m for m in REQUIRED_MARTS if m not in columns]
        if missing:
            raise ReportError(f"{database} has no {MARTS}.{missing[0]} yet: {NOT_BUILT}")
        builders: dict[str, Callable[..., Section]] = {
            "popular": _popular,
            "unused_workbooks": _unused_workbooks,
            "unused_elements": _unused_elements,
            "users": _users,
            "rejected": _rejected,
            "unmatched": _unmatched,
            "files": _files,
        }
        as_of = _as_of_date(con)
        report = [builders[key](con, columns, limit) for key in sections]
        for section in report:
            if section.key in WINDOWED:
                section.as_of_date = as_of
        return report
    except duckdb.Error as exc:
        raise ReportError(f"cannot read the marts in {database}: {' '.join(str(exc).split())[:200]}") from exc
    finally:
        con.close()


def _as_of_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The report date of the build (the marts' as_of_date column; None when no workbook row)."""
    row = con.execute(f"select max(as_of_date) from {MARTS}.sigma_workbook_impressions").fetchone()
    return row[0] if row else None


def _connect(database: str) -> duckdb.DuckDBPyConnection:
    if not os.path.exists(database):
        raise ReportError(f"no database at {database}: {NOT_BUILT}")
    try:
        return duckdb.connect(database, read_only=True)
    except duckdb.Error as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise ReportError(
                f"the database {database} is in use by another process (a load or dbt build?): "
                "read the published snapshot instead (report without --database), or wait for it to finish"
            ) from exc
        raise ReportError(f"cannot open {database}: {' '.join(text.split())[:200]}") from exc


def _mart_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? "
        "order by table_name, ordinal_position",
        [MARTS],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _limited(key: str, columns: list[str], rows: list[dict[str, Any]], limit: int) -> Section:
    return Section(key, columns, rows[:limit], max(len(rows) - limit, 0))


def _popular(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], limit: int) -> Section:
    rows = _query(
        con,
        """
        select
            w.workbook_name,
            w.workbook_url_id,
            w.owner_email,
            w.total_impressions_14d as impressions_14d,
            w.unique_users_14d,
            w.impressions_previous_14d,
            w.total_impressions_30d as impressions_30d,
            w.last_impression_at
        from marts.sigma_workbook_impressions as w
        where w.total_impressions_14d > 0
        order by w.total_impressions_14d desc, w.unique_users_14d desc, w.workbook_name
        """,
    )
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
        row["trend"] = trend(row["impressions_14d"], row["impressions_previous_14d"])
    cols = [
        "rank",
        "workbook_name",
        "workbook_url_id",
        "owner_email",
        "impressions_14d",
        "unique_users_14d",
        "impressions_previous_14d",
        "trend",
        "impressions_30d",
        "last_impression_at",
    ]
    return _limited("popular", cols, rows, limit)


def trend(current: int | None, previous: int | None) -> str:
    """'+35%', '-20%', 'flat', 'new' (nothing before) or '' (nothing in either period)."""
    current, previous = int(current or 0), int(previous or 0)
    if previous == 0:
        return "new" if current > 0 else ""
    change = round(100 * (current - previous) / previous)
    return "flat" if change == 0 else f"{change:+d}%"


def _unused_workbooks(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], limit: int) -> Section:
    rows = _query(
        con,
        """
        select
            workbook_name,
            workbook_url_id,
            path,
            owner_email,
            last_impression_at,
            days_since_last_impression,
            total_impressions_90d as impressions_90d,
            is_stale
        from marts.sigma_workbook_impressions
        where
            total_impressions_30d = 0
            -- An archived or deleted workbook is no cleanup candidate.
            and not is_archived
            and not is_deleted
        order by last_impression_at asc nulls first, workbook_name
        """,
    )
    for row in rows:
        row["status"] = "never opened" if row["last_impression_at"] is None else "not opened in 30 days"
    cols = [
        "workbook_name",
        "workbook_url_id",
        "path",
        "owner_email",
        "status",
        "last_impression_at",
        "days_since_last_impression",
        "impressions_90d",
        "is_stale",
    ]
    return _limited("unused_workbooks", cols, rows, limit)


def _unused_elements(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], limit: int) -> Section:
    rows = _query(
        con,
        """
        select
            e.element_name,
            e.element_id,
            e.page_name,
            e.element_type,
            w.workbook_name,
            e.workbook_url_id,
            w.owner_email,
            e.last_impression_at,
            e.total_impressions_90d as impressions_90d,
            e.is_stale
        from marts.sigma_element_impressions as e
        left join marts.sigma_workbook_impressions as w
            on e.workbook_url_id = w.workbook_url_id
        where
            e.total_impressions_30d = 0
            -- A deleted element, or one of an archived workbook, is no cleanup candidate.
            and not e.is_deleted
            and not coalesce(w.is_archived, false)
        order by e.last_impression_at asc nulls first, w.workbook_name, e.page_name, e.element_name
        """,
    )
    cols = [
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
    ]
    return _limited("unused_elements", cols, rows, limit)


def _users(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], limit: int) -> Section:
    rows = _query(
        con,
        """
        select
            user_email,
            impressions_7d,
            impressions_14d,
            impressions_30d,
            workbooks_viewed_30d,
            last_impression_at,
            is_active_14d
        from marts.sigma_user_activity
        order by impressions_30d desc, impressions_14d desc, user_email
        """,
    )
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    cols = [
        "rank",
        "user_email",
        "impressions_7d",
        "impressions_14d",
        "impressions_30d",
        "workbooks_viewed_30d",
        "last_impression_at",
        "is_active_14d",
    ]
    return _limited("users", cols, rows, limit)


def _rejected(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], limit: int) -> Section:
    rows = _query(
        con,
        """
        select
            reason,
            count(*) as rows_rejected,
            count(distinct _file_uri) as files,
            min(_file_uri) as example_file
        from marts.sigma_rejected_impressions
        group by reason
        order by rows_rejected desc, reason
        """,
    )
    for row in rows:
        row["fix"] = FIXES.get(row["reason"], "")
    cols = ["reason", "rows_rejected", "files", "example_file", "fix"]
    return _limited("rejected", cols, rows, limit)


def _unmatched(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], limit: int) -> Section:
    rows = _query(
        con,
        """
        select
            workbook_url_id,
            element_id,
            reason,
            impressions,
            unique_users,
            first_seen_at,
            last_seen_at
        from marts.sigma_unmatched_impressions
        order by impressions desc, workbook_url_id, element_id nulls first, reason
        """,
    )
    for row in rows:
        row["fix"] = FIXES.get(row["reason"], "")
    cols = [
        "workbook_url_id",
        "element_id",
        "reason",
        "impressions",
        "unique_users",
        "first_seen_at",
        "last_seen_at",
        "fix",
    ]
    return _limited("unmatched", cols, rows, limit)


def _aliases() -> dict[str, list[str]] | None:
    """The header aliases from dbt_project.yml; None when no project is next to the package."""
    try:
        return load_aliases()
    except (OSError, ValueError):
        return None


def _files(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], limit: int) -> Section:
    """Failed files, and loaded files whose header lacks a column (the README's "no data appears")."""
    cols = ["file_uri", "status", "rows_loaded", "problem", "fix"]
    present = con.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = current_database() and table_schema = 'sigma_raw' "
        "and table_name = 'loaded_files'"
    ).fetchone()[0]
    if not present:
        return Section("files", cols)
    files = _query(
        con,
        "select file_uri, status, rows_loaded, headers, error from sigma_raw.loaded_files "
        "order by last_modified desc, file_uri",
    )
    aliases = _aliases()
    rows = []
    for file in files:
        if file["status"] == "failed":
            problem = f"cannot be read: {file['error']}"
            fix = FILE_FIXES["failed"]
        elif aliases is not None and file["rows_loaded"]:
            mapping = map_headers(list(file["headers"] or []), aliases)
            missing = missing_required(mapping)
            if missing:
                problem = "no column for " + ", ".join(missing) + " (every row is rejected)"
                fix = FILE_FIXES["missing_required"]
            elif not mapping.get("element_id"):
                problem = "no element_id column: workbook-level impressions only"
                fix = FILE_FIXES["missing_element_id"]
            else:
                continue
        else:
            continue
        rows.append({**file, "problem": problem, "fix": fix})
    return _limited("files", cols, rows, limit)


FILE_FIXES = {
    "failed": "check read access (s3:GetObject / storage.objects.get) or re-upload the file; the next load retries it",
    "missing_required": "add the column to the Sigma export, or add the file's header spelling to "
    "vars.sigma_column_aliases in dbt_project.yml",
    "missing_element_id": "add the element id (element_id or node_id) to the export to get element metrics",
}
