"""Every query the report runs: one function per section of the report, and the parts only the
HTML page shows (headline, daily series, drill-down, inactive users, teams' workbooks, the newest
export file).

Each returns rows (dicts) read from the marts' contract columns (models/marts/*.yml): the rules a
reader sees (cleanup candidate, usage status, popularity rank, trend label, a file's problem,
what counts as a view event, what an exclusion rule left out) are mart columns, read as they are.
The SQL here selects, joins, filters on those columns, sorts, and counts or sums a mart's rows
into the totals a part shows. The few figures no mart holds are computed here, in SQL, and their
function says so: a user's place in the list, the page's change against the previous 30 days,
an inactive user's days since the last impression, the newest file's age now. Nothing is computed
in Python.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from sigma_impressions.report.source import read_rows

Rows = list[dict[str, Any]]

# The marts the report reads (the published snapshot holds them all).
MARTS = (
    "sigma_workbook_impressions",
    "sigma_element_impressions",
    "sigma_user_activity",
    "sigma_daily_impressions",
    "sigma_daily_activity",
    "sigma_team_usage",
    "sigma_team_workbook_impressions",
    "sigma_rejected_impressions",
    "sigma_unmatched_impressions",
    "sigma_excluded_impressions",
    "sigma_export_events",
    "sigma_export_files",
)


# ---------------------------------------------------------------------------------------------
# Sections (every format shows them)
# ---------------------------------------------------------------------------------------------
def popular(con: duckdb.DuckDBPyConnection) -> Rows:
    """Workbooks viewed in the last 30 days, in the mart's popularity_rank order."""
    return read_rows(
        con,
        """
        select
            popularity_rank as rank,
            workbook_name,
            workbook_url_id,
            workbook_url,
            owner_email,
            total_impressions_14d as impressions_14d,
            unique_users_14d,
            impressions_previous_14d,
            impressions_trend_14d_label as trend,
            impressions_trend_14d_pct,
            total_impressions_30d as impressions_30d,
            unique_users_30d,
            last_impression_at
        from marts.sigma_workbook_impressions
        where total_impressions_30d > 0
        order by popularity_rank, workbook_name, workbook_url_id
        """,
    )


def unused_workbooks(con: duckdb.DuckDBPyConnection) -> Rows:
    """The workbooks the mart flags is_cleanup_candidate, least recently viewed first."""
    return read_rows(
        con,
        """
        select
            workbook_name,
            workbook_url_id,
            workbook_url,
            path,
            owner_email,
            usage_status as status,
            last_impression_at,
            days_since_last_impression,
            total_impressions_90d as impressions_90d,
            is_stale
        from marts.sigma_workbook_impressions
        where is_cleanup_candidate
        order by last_impression_at asc nulls first, workbook_name, workbook_url_id
        """,
    )


def unused_elements(con: duckdb.DuckDBPyConnection) -> Rows:
    """The elements the mart flags is_cleanup_candidate, with their workbook's path and owner."""
    return read_rows(
        con,
        """
        select
            elements.element_name,
            elements.element_id,
            elements.page_name,
            elements.element_type,
            elements.workbook_name,
            elements.workbook_url_id,
            workbooks.workbook_url,
            workbooks.path,
            workbooks.owner_email,
            elements.usage_status as status,
            elements.last_impression_at,
            elements.days_since_last_impression,
            elements.total_impressions_90d as impressions_90d,
            elements.is_stale
        from marts.sigma_element_impressions as elements
        left join marts.sigma_workbook_impressions as workbooks
            on elements.workbook_url_id = workbooks.workbook_url_id
        where elements.is_cleanup_candidate
        order by
            elements.last_impression_at asc nulls first,
            elements.workbook_name,
            elements.page_name,
            elements.element_name,
            elements.element_id
        """,
    )


def users(con: duckdb.DuckDBPyConnection) -> Rows:
    """Users with impressions in the last 30 days, most first (rank: the row's place)."""
    return read_rows(
        con,
        """
        select
            row_number() over (order by impressions_30d desc, impressions_14d desc, user_email) as rank,
            user_email,
            impressions_7d,
            impressions_14d,
            impressions_30d,
            workbooks_viewed_30d,
            last_impression_at,
            is_active_14d
        from marts.sigma_user_activity
        where impressions_30d > 0
        order by rank
        """,
    )


def teams(con: duckdb.DuckDBPyConnection) -> Rows:
    """Every team Sigma lists and the `(no team)` row, most impressions in 30 days first."""
    return read_rows(
        con,
        """
        select
            team_name,
            team_id,
            member_count,
            active_members_14d,
            impressions_30d,
            workbooks_viewed_30d
        from marts.sigma_team_usage
        order by impressions_30d desc, active_members_14d desc, team_name, team_id
        """,
    )


def rejected(con: duckdb.DuckDBPyConnection) -> Rows:
    """Rejected rows per reason: how many, in how many files, and one of those files."""
    return read_rows(
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


def unmatched(con: duckdb.DuckDBPyConnection) -> Rows:
    """Impressions the inventory does not know, most first."""
    return read_rows(
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


def excluded(con: duckdb.DuckDBPyConnection) -> Rows:
    """What the exclusion rules leave out, per reason: users, workbooks and impressions."""
    return read_rows(
        con,
        """
        select
            reason,
            count(distinct user_email) as users,
            count(distinct workbook_url_id) as workbooks,
            sum(impressions_total) as impressions_total,
            sum(impressions_30d) as impressions_30d
        from marts.sigma_excluded_impressions
        group by reason
        order by impressions_total desc, reason
        """,
    )


def events(con: duckdb.DuckDBPyConnection) -> Rows:
    """The event mix of the loaded history: rows and files per event name and status, and whether
    they count (is_view_event), most rows first. Name and status are NULL for files without
    those columns."""
    return read_rows(
        con,
        """
        select
            event_name,
            event_status,
            sum(row_count) as rows,
            count(distinct file_uri) as files,
            is_view_event as counted
        from marts.sigma_export_events
        where row_count > 0
        group by event_name, event_status, is_view_event
        order by rows desc, event_name nulls first, event_status nulls first
        """,
    )


def files(con: duckdb.DuckDBPyConnection) -> Rows:
    """Export files with a problem (the mart's `problem`), newest first."""
    return read_rows(
        con,
        """
        select
            file_uri,
            status,
            last_modified,
            rows_loaded,
            view_event_rows,
            rejected_rows,
            problem,
            is_blocking
        from marts.sigma_export_files
        where problem is not null
        order by last_modified desc nulls last, file_uri
        """,
    )


# ---------------------------------------------------------------------------------------------
# Parts only the HTML page shows
# ---------------------------------------------------------------------------------------------
def as_of_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The marts' as_of_date (None when the workbook mart has no row)."""
    row = con.execute("select max(as_of_date) from marts.sigma_workbook_impressions").fetchone()
    return row[0] if row else None


def headline(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Totals over the workbook and user marts, and the change of the last 30 days against the 30
    days before: the 60-day window minus the 30-day window is exactly those (both end at the
    window end)."""
    (workbooks,) = read_rows(
        con,
        """
        with totals as (
            select
                coalesce(sum(total_impressions_30d), 0) as impressions_30d,
                coalesce(sum(total_impressions_60d - total_impressions_30d), 0) as impressions_previous_30d,
                coalesce(sum(excluded_impressions_30d), 0) as excluded_impressions_30d,
                count(*) as workbooks,
                count(*) filter (where total_impressions_30d > 0) as workbooks_viewed_30d,
                count(*) filter (where usage_status = 'never viewed') as workbooks_never_viewed,
                count(*) filter (where is_stale) as workbooks_stale,
                count(*) filter (where is_cleanup_candidate) as cleanup_candidates,
                coalesce(bool_or(has_enough_history), false) as has_enough_history
            from marts.sigma_workbook_impressions
        )
        select
            *,
            impressions_30d - impressions_previous_30d as impressions_change_30d,
            round(100.0 * (impressions_30d - impressions_previous_30d) / nullif(impressions_previous_30d, 0), 1)
                as impressions_change_30d_pct
        from totals
        """,
    )
    (people,) = read_rows(
        con,
        """
        select
            count(*) filter (where is_active_14d) as active_users_14d,
            count(*) filter (where impressions_30d = 0) as inactive_users_30d,
            count(*) as users
        from marts.sigma_user_activity
        """,
    )
    return {**workbooks, **people}


def days_loaded(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """Days from the first day with counted impressions to as_of_date, both included (0: none)."""
    row = con.execute(
        "select date_diff('day', min(impression_date), cast(? as date)) + 1 from marts.sigma_daily_activity "
        "where impression_date <= cast(? as date)",
        [as_of, as_of],
    ).fetchone()
    return max(int(row[0] or 0), 0) if row else 0


def daily_activity(con: duckdb.DuckDBPyConnection, as_of: date, days: int) -> Rows:
    """One row per day of the last `days` days: the mart's impressions, active users and workbooks
    viewed (0 on a day without a row)."""
    return read_rows(
        con,
        """
        with days as (
            select cast(? as date) - cast(i as integer) as impression_date from range(0, ?) as t (i)
        )
        select
            days.impression_date,
            coalesce(daily.impressions, 0) as impressions,
            coalesce(daily.active_users, 0) as active_users,
            coalesce(daily.workbooks_viewed, 0) as workbooks_viewed
        from days
        left join marts.sigma_daily_activity as daily
            on days.impression_date = daily.impression_date
        order by days.impression_date
        """,
        [as_of, days],
    )


def top_workbook_days(con: duckdb.DuckDBPyConnection, as_of: date, days: int, count: int) -> Rows:
    """The `count` most viewed workbooks over 90 days, one row per workbook and day of the last
    `days` days with the daily mart's impressions (0 on a day without a row)."""
    return read_rows(
        con,
        """
        with top_workbooks as (
            select workbook_url_id, workbook_name, total_impressions_90d
            from marts.sigma_workbook_impressions
            where total_impressions_90d > 0
            order by total_impressions_90d desc, workbook_name, workbook_url_id
            limit ?
        ),
        days as (
            select cast(? as date) - cast(i as integer) as impression_date from range(0, ?) as t (i)
        )
        select
            top_workbooks.workbook_url_id,
            top_workbooks.workbook_name,
            days.impression_date,
            coalesce(daily.impressions, 0) as impressions
        from top_workbooks
        cross join days
        left join marts.sigma_daily_impressions as daily
            on
                top_workbooks.workbook_url_id = daily.workbook_url_id
                and days.impression_date = daily.impression_date
        order by
            top_workbooks.total_impressions_90d desc,
            top_workbooks.workbook_name,
            top_workbooks.workbook_url_id,
            days.impression_date
        """,
        [count, as_of, days],
    )


def drill_down(con: duckdb.DuckDBPyConnection, count: int) -> tuple[Rows, int]:
    """The `count` most viewed workbooks over 90 days, each with its elements and its users (the
    mart's `used` list); and how many workbooks are left out."""
    workbooks = read_rows(
        con,
        """
        select
            workbook_url_id,
            workbook_name,
            path,
            owner_email,
            workbook_url,
            is_archived,
            is_deleted,
            usage_status,
            total_impressions_14d as impressions_14d,
            total_impressions_30d as impressions_30d,
            total_impressions_90d as impressions_90d,
            unique_users_30d,
            last_impression_at,
            days_since_last_impression
        from marts.sigma_workbook_impressions
        order by total_impressions_90d desc, last_impression_at desc nulls last, workbook_name, workbook_url_id
        """,
    )
    shown = workbooks[:count]
    ids = [w["workbook_url_id"] for w in shown]
    elements = read_rows(
        con,
        """
        select
            workbook_url_id,
            element_id,
            element_name,
            page_name,
            element_type,
            total_impressions_14d as impressions_14d,
            total_impressions_30d as impressions_30d,
            total_impressions_90d as impressions_90d,
            unique_users_30d,
            last_impression_at
        from marts.sigma_element_impressions
        where list_contains(?, workbook_url_id)
        order by total_impressions_90d desc, page_name, element_name, element_id
        """,
        [ids],
    )
    used = read_rows(
        con,
        """
        with used as (
            select workbook_url_id, unnest(used, recursive := true)
            from marts.sigma_workbook_impressions
            where list_contains(?, workbook_url_id)
        )
        select workbook_url_id, user_email, impressions, last_impression_at
        from used
        order by workbook_url_id, impressions desc, user_email
        """,
        [ids],
    )
    for workbook in shown:
        key = workbook["workbook_url_id"]
        workbook["elements"] = [e for e in elements if e["workbook_url_id"] == key]
        workbook["users"] = [u for u in used if u["workbook_url_id"] == key]
    return shown, len(workbooks) - len(shown)


def inactive_users(con: duckdb.DuckDBPyConnection, as_of: date) -> Rows:
    """Users with impressions before, none in the last 30 days, most recently seen first; days
    since their last impression counted as the marts count it (UTC date to as_of_date)."""
    return read_rows(
        con,
        """
        select
            user_email,
            impressions_60d,
            first_impression_at,
            last_impression_at,
            date_diff('day', cast(last_impression_at as date), cast(? as date)) as days_since_last_impression
        from marts.sigma_user_activity
        where impressions_30d = 0
        order by last_impression_at desc, user_email
        """,
        [as_of],
    )


def team_workbooks(con: duckdb.DuckDBPyConnection, per_team: int) -> Rows:
    """Each team's (and `(no team)`'s) `per_team` most viewed workbooks in the last 30 days."""
    return read_rows(
        con,
        """
        select team_id, team_name, workbook_url_id, workbook_name, impressions_30d, users_30d
        from marts.sigma_team_workbook_impressions
        where impressions_30d > 0
        qualify row_number() over (
            partition by team_id order by impressions_30d desc, users_30d desc, workbook_name, workbook_url_id
        ) <= ?
        order by team_id nulls last, impressions_30d desc, users_30d desc, workbook_name, workbook_url_id
        """,
        [per_team],
    )


def newest_file(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The newest export file (by last_modified) and its age in hours now; how many files are known
    and how many failed. None when no export file is known."""
    (row,) = read_rows(
        con,
        """
        select
            max(last_modified) as newest_modified_at,
            arg_max(file_uri, last_modified) as newest_file_uri,
            date_diff('hour', max(last_modified), cast(now() at time zone 'UTC' as timestamp)) as age_hours,
            count(*) as files,
            count(*) filter (where status = 'failed') as files_failed,
            count(*) filter (where is_blocking) as files_blocking
        from marts.sigma_export_files
        """,
    )
    return row if row["files"] else None
