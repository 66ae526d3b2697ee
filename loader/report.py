"""`sigma-impressions report`: read the marts (read-only) and print what an admin acts on.

Sections: the most viewed workbooks over 14 days with their trend against the previous 14 days,
workbooks and elements with no impression in 30 days (deprecation candidates, with owner), the
most active users, rejected rows and unmatched impressions with the fix to make.

Formats: `table` (rich tables for a terminal), `markdown`, `json` (one object, a list of rows per
section) and `csv` (one block per section, each with its own header row whose first column is
`section`, blocks separated by a blank line; `--section` prints a single plain CSV table).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

import duckdb

from loader.columns import load_aliases, map_headers

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
# Columns the marts may carry for the previous 14 days (the contract leaves the name open).
_PREVIOUS_14D = (
    "total_impressions_prev_14d",
    "total_impressions_previous_14d",
    "impressions_prev_14d",
    "impressions_previous_14d",
    "previous_14d_impressions",
    "prev_14d_impressions",
)


class ReportError(Exception):
    """The report cannot be read; the message is one line that says what to do."""


@dataclass
class Section:
    key: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0  # rows beyond --limit

    @property
    def title(self) -> str:
        return TITLES[self.key]


def print_report(database: str, fmt: str, limit: int, stream: TextIO, sections: tuple[str, ...] = SECTIONS) -> int:
    """Print the report; return the exit code (0 ok, 1 when the marts cannot be read)."""
    try:
        report = build_report(database, max(limit, 0), sections)
    except ReportError as exc:
        print(f"sigma-impressions: error: {exc}", file=sys.stderr)
        return 1
    RENDERERS[fmt](report, stream)
    return 0


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
        return [builders[key](con, columns, limit) for key in sections]
    except duckdb.Error as exc:
        raise ReportError(f"cannot read the marts in {database}: {' '.join(str(exc).split())[:200]}") from exc
    finally:
        con.close()


def _connect(database: str) -> duckdb.DuckDBPyConnection:
    import os

    if not os.path.exists(database):
        raise ReportError(f"no database at {database}: {NOT_BUILT}")
    try:
        return duckdb.connect(database, read_only=True)
    except duckdb.Error as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise ReportError(
                f"the database {database} is in use by another process (a load or dbt build?): "
                "wait for it to finish, then run the report again"
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


def _previous_14d_sql(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]]) -> str:
    """An expression for the previous 14 days' impressions of `w` (a workbook mart row)."""
    present = set(columns["sigma_workbook_impressions"])
    for name in _PREVIOUS_14D:
        if name in present:
            return f"w.{name}"
    # Fallback: the days 15..28 before the as-of date, from the events. The as-of date is
    # recovered from the mart (last impression + days since), else today in UTC.
    return (
        "(select coalesce(sum(f.impression_count), 0) from marts.fct_sigma_impressions f "
        "where f.workbook_url_id = w.workbook_url_id and f.request_time >= a.as_of - interval 27 day "
        "and f.request_time < a.as_of - interval 13 day)"
    )


def _optional(columns: dict[str, list[str]], table: str, column: str, alias: str = "") -> str:
    """The column if the mart has it (columns beyond the contract), else NULL."""
    if column in columns.get(table, []):
        return f"{alias}.{column}" if alias else column
    return "null"


def _popular(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], limit: int) -> Section:
    previous = _previous_14d_sql(con, columns)
    rows = _query(
        con,
        f"""
        with as_of as (
            select coalesce(
                max(cast(last_impression_at as date) + cast(days_since_last_impression as integer)),
                current_date
            )::timestamp as as_of
            from marts.sigma_workbook_impressions
            where days_since_last_impression is not null
        )
        select
            w.workbook_name,
            w.workbook_url_id,
            w.owner_email,
            w.total_impressions_14d as impressions_14d,
            w.unique_users_14d,
            {previous} as impressions_previous_14d,
            w.total_impressions_30d as impressions_30d,
            w.last_impression_at
        from marts.sigma_workbook_impressions as w
        cross join as_of as a
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
        f"""
        select
            workbook_name,
            workbook_url_id,
            path,
            owner_email,
            last_impression_at,
            days_since_last_impression,
            total_impressions_90d as impressions_90d,
            {_optional(columns, "sigma_workbook_impressions", "is_stale")} as is_stale
        from marts.sigma_workbook_impressions
        where
            total_impressions_30d = 0
            -- An archived or deleted workbook is no cleanup candidate.
            and not coalesce({_optional(columns, "sigma_workbook_impressions", "is_archived")}, false)
            and not coalesce({_optional(columns, "sigma_workbook_impressions", "is_deleted")}, false)
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
        f"""
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
            {_optional(columns, "sigma_element_impressions", "is_stale", "e")} as is_stale
        from marts.sigma_element_impressions as e
        left join marts.sigma_workbook_impressions as w
            on e.workbook_url_id = w.workbook_url_id
        where
            e.total_impressions_30d = 0
            and not coalesce({_optional(columns, "sigma_element_impressions", "is_deleted", "e")}, false)
            and not coalesce({_optional(columns, "sigma_workbook_impressions", "is_archived", "w")}, false)
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
            missing = [c for c in ("request_time", "user_email", "workbook_url_id") if not mapping.get(c)]
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


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A JSON/CSV-friendly value: ISO times, ints for decimals."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _shown(value: Any) -> str:
    """A value as a table cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(_plain(value))


def render_json(report: list[Section], stream: TextIO) -> None:
    data = {s.key: [{c: _plain(row.get(c)) for c in s.columns} for row in s.rows] for s in report}
    data["more_rows"] = {s.key: s.more for s in report if s.more}
    json.dump(data, stream, indent=2)
    stream.write("\n")


def render_csv(report: list[Section], stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    single = len(report) == 1
    for index, section in enumerate(report):
        if index:
            stream.write("\n")
        prefix = [] if single else ["section"]
        writer.writerow([*prefix, *section.columns])
        for row in section.rows:
            cells = ["" if row.get(c) is None else _plain(row.get(c)) for c in section.columns]
            writer.writerow([*([] if single else [section.key]), *cells])


def _md_cell(value: Any) -> str:
    return _shown(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: list[Section], stream: TextIO) -> None:
    stream.write("# Sigma impressions report\n")
    for section in report:
        stream.write(f"\n## {section.title}\n\n")
        if not section.rows:
            stream.write(f"_{EMPTY[section.key]}_\n")
            continue
        stream.write("| " + " | ".join(section.columns) + " |\n")
        stream.write("|" + "|".join("---" for _ in section.columns) + "|\n")
        for row in section.rows:
            stream.write("| " + " | ".join(_md_cell(row.get(c)) for c in section.columns) + " |\n")
        if section.more:
            stream.write(f"\n_and {section.more} more (raise --limit)_\n")


# The terminal view shows fewer columns than the data formats, with short labels.
TABLE_COLUMNS = {
    "popular": [
        "rank",
        "workbook_name",
        "owner_email",
        "impressions_14d",
        "unique_users_14d",
        "impressions_previous_14d",
        "trend",
        "impressions_30d",
        "last_impression_at",
    ],
    "unused_workbooks": [
        "workbook_name",
        "workbook_url_id",
        "owner_email",
        "status",
        "last_impression_at",
        "impressions_90d",
        "is_stale",
    ],
    "unused_elements": [
        "workbook_name",
        "page_name",
        "element_name",
        "element_type",
        "owner_email",
        "last_impression_at",
        "impressions_90d",
        "is_stale",
    ],
    "users": [
        "rank",
        "user_email",
        "impressions_7d",
        "impressions_14d",
        "impressions_30d",
        "workbooks_viewed_30d",
        "last_impression_at",
        "is_active_14d",
    ],
    "rejected": ["reason", "rows_rejected", "files", "fix"],
    "unmatched": ["workbook_url_id", "element_id", "reason", "impressions", "unique_users", "last_seen_at", "fix"],
    "files": ["file_uri", "status", "problem", "fix"],
}
LABELS = {
    "rank": "#",
    "workbook_name": "workbook",
    "element_name": "element",
    "page_name": "page",
    "element_type": "type",
    "owner_email": "owner",
    "user_email": "user",
    "impressions_7d": "7d",
    "impressions_14d": "14d",
    "impressions_30d": "30d",
    "impressions_90d": "90d",
    "unique_users_14d": "users 14d",
    "impressions_previous_14d": "prev 14d",
    "last_impression_at": "last seen",
    "last_seen_at": "last seen",
    "workbooks_viewed_30d": "workbooks 30d",
    "is_active_14d": "active 14d",
    "is_stale": "stale",
    "rows_rejected": "rows",
    "unique_users": "users",
}


def render_table(report: list[Section], stream: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    terminal = hasattr(stream, "isatty") and stream.isatty()
    console = Console(file=stream, width=None if terminal else 200, highlight=False)
    for section in report:
        table = Table(title=section.title, title_justify="left", show_lines=False)
        if not section.rows:
            console.print(f"[bold]{section.title}[/bold]\n  {EMPTY[section.key]}\n")
            continue
        shown = [c for c in TABLE_COLUMNS.get(section.key, section.columns) if c in section.columns]
        for column in shown:
            values = [row.get(column) for row in section.rows if row.get(column) is not None]
            numeric = bool(values) and all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in values)
            table.add_column(LABELS.get(column, column), justify="right" if numeric else "left", overflow="fold")
        for row in section.rows:
            table.add_row(*(_shown(row.get(c)) for c in shown))
        if section.more:
            table.caption = f"and {section.more} more (raise --limit)"
        console.print(table)
        console.print()


RENDERERS: dict[str, Callable[[list[Section], TextIO], None]] = {
    "table": render_table,
    "markdown": render_markdown,
    "json": render_json,
    "csv": render_csv,
}
