"""`sigma-impressions report --format html`: one self-contained page with charts.

Every number on the page is read from the marts (their contracts) by the SQL below, at the marts'
`as_of_date`; Python only lays the rows out. The charts are Plotly figures drawn by plotly.js,
which is inlined into the page with the styles and the table-sorting script, so the file opens
offline and makes no network request. The HTML comes from the Jinja2 template
`templates/report.html.j2` (package data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import jinja2
import plotly.graph_objects as go
import plotly.offline

from sigma_impressions.report.sections import ReportError, _as_of_date, _connect, _mart_columns, build_report

# Rows shown per table; charts show the whole 90 days.
TABLE_ROWS = 25
# Workbooks drawn as their own line in the daily chart, and given a drill-down section.
TOP_WORKBOOK_LINES = 5
DRILL_DOWN_WORKBOOKS = 25
DAYS = 90
# Sections of the text report that the page shows as they are.
SHARED_SECTIONS = ("rejected", "unmatched", "files")


@dataclass
class Table:
    """Rows for one table on the page; `empty` says why there are none."""

    rows: list[dict[str, Any]]
    empty: str
    more: int = 0


@dataclass
class Page:
    as_of_date: date
    generated_at: datetime
    database: str
    days_loaded: int
    headline: dict[str, Any]
    charts: dict[str, str | None]  # chart id -> figure JSON, or None when there is nothing to draw
    chart_empty: dict[str, str]
    tables: dict[str, Table]
    drill_down: list[dict[str, Any]] = field(default_factory=list)
    drill_down_more: int = 0
    newest_file: dict[str, Any] | None = None
    lifecycle: dict[str, bool] = field(default_factory=dict)


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict[str, Any]:
    rows = _query(con, sql, params)
    return rows[0] if rows else {}


def _optional(columns: list[str], column: str, alias: str) -> str:
    """`alias.column` when the mart has the column (the API inventory adds some), else NULL."""
    return f"{alias}.{column}" if column in columns else "null"


def as_of_date(con: duckdb.DuckDBPyConnection) -> date:
    """The marts' as_of_date (the report's own reading of it); today when the marts hold no workbook."""
    value = _as_of_date(con)
    return value if isinstance(value, date) else datetime.now(UTC).date()


def _headline(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    # The 60-day window minus the 30-day window is exactly the 30 days before (both end at the
    # window end).
    workbooks = _one(
        con,
        """
        with totals as (
            select
                sum(total_impressions_30d) as impressions_30d,
                sum(total_impressions_60d - total_impressions_30d) as impressions_previous_30d,
                count(*) as workbooks,
                count(*) filter (where total_impressions_30d > 0) as workbooks_viewed_30d,
                count(*) filter (where last_impression_at is null) as workbooks_never_viewed,
                count(*) filter (where is_stale) as workbooks_stale,
                bool_or(has_enough_history) as has_enough_history
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
    users = _one(
        con,
        """
        select
            count(*) filter (where is_active_14d) as active_users_14d,
            count(*) filter (where impressions_30d = 0) as inactive_users_30d,
            count(*) as users
        from marts.sigma_user_activity
        """,
    )
    return {**workbooks, **users}


def _days_loaded(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """Days from the earliest deduplicated event to as_of_date, both included (0: nothing loaded)."""
    row = _one(
        con,
        "select coalesce(date_diff('day', min(cast(request_time as date)), cast(? as date)) + 1, 0) as days "
        "from marts.fct_sigma_impressions where request_time < cast(? as date) + 1",
        [as_of, as_of],
    )
    return max(int(row.get("days") or 0), 0)


def _daily_impressions(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, Any]:
    """Impressions per day over the last 90 days: the total and the top workbooks' lines."""
    days = _query(
        con,
        f"""
        with days as (
            select cast(? as date) - cast(i as integer) as impression_date from range(0, {DAYS}) as t (i)
        ),
        totals as (
            select impression_date, sum(impressions) as impressions
            from marts.sigma_daily_impressions
            group by impression_date
        )
        select days.impression_date, coalesce(totals.impressions, 0) as impressions
        from days
        left join totals on days.impression_date = totals.impression_date
        order by days.impression_date
        """,
        [as_of],
    )
    top = _query(
        con,
        f"""
        with top_workbooks as (
            select workbook_url_id, workbook_name, total_impressions_90d
            from marts.sigma_workbook_impressions
            where total_impressions_90d > 0
            order by total_impressions_90d desc, workbook_name
            limit {TOP_WORKBOOK_LINES}
        ),
        days as (
            select cast(? as date) - cast(i as integer) as impression_date from range(0, {DAYS}) as t (i)
        )
        select
            top_workbooks.workbook_url_id,
            top_workbooks.workbook_name,
            days.impression_date,
            coalesce(daily.impressions, 0) as impressions
        from top_workbooks
        cross join days
        left join marts.sigma_daily_impressions as daily
            on daily.workbook_url_id = top_workbooks.workbook_url_id
            and daily.impression_date = days.impression_date
        order by top_workbooks.total_impressions_90d desc, top_workbooks.workbook_name, days.impression_date
        """,
        [as_of],
    )
    lines: dict[str, dict[str, list]] = {}
    for row in top:
        line = lines.setdefault(row["workbook_url_id"], {"name": row["workbook_name"], "x": [], "y": []})
        line["x"].append(row["impression_date"])
        line["y"].append(row["impressions"])
    return {"days": days, "lines": list(lines.values())}


def _daily_active_users(con: duckdb.DuckDBPyConnection, as_of: date) -> list[dict[str, Any]]:
    """Distinct users with a deduplicated impression per UTC day (any workbook, known or not)."""
    return _query(
        con,
        f"""
        with days as (
            select cast(? as date) - cast(i as integer) as activity_date from range(0, {DAYS}) as t (i)
        ),
        daily as (
            select cast(request_time as date) as activity_date, count(distinct user_email) as active_users
            from marts.fct_sigma_impressions
            where request_time >= cast(? as date) - {DAYS - 1} and request_time < cast(? as date) + 1
            group by activity_date
        )
        select days.activity_date, coalesce(daily.active_users, 0) as active_users
        from days
        left join daily on days.activity_date = daily.activity_date
        order by days.activity_date
        """,
        [as_of, as_of, as_of],
    )


def _top_workbooks(con: duckdb.DuckDBPyConnection, columns: list[str]) -> list[dict[str, Any]]:
    return _query(
        con,
        f"""
        select
            w.workbook_name,
            w.workbook_url_id,
            {_optional(columns, "workbook_url", "w")} as workbook_url,
            w.owner_email,
            w.total_impressions_14d as impressions_14d,
            w.impressions_previous_14d,
            w.impressions_trend_14d,
            w.impressions_trend_14d_pct,
            w.unique_users_14d,
            w.total_impressions_30d as impressions_30d,
            w.last_impression_at
        from marts.sigma_workbook_impressions as w
        where w.total_impressions_14d > 0
        order by w.total_impressions_14d desc, w.unique_users_14d desc, w.workbook_name
        """,
    )


def _drill_down(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]]) -> tuple[list[dict[str, Any]], int]:
    workbook_columns = columns["sigma_workbook_impressions"]
    workbooks = _query(
        con,
        f"""
        select
            w.workbook_url_id,
            w.workbook_name,
            w.path,
            w.owner_email,
            {_optional(workbook_columns, "workbook_url", "w")} as workbook_url,
            w.total_impressions_14d as impressions_14d,
            w.total_impressions_30d as impressions_30d,
            w.total_impressions_90d as impressions_90d,
            w.unique_users_30d,
            w.last_impression_at,
            w.days_since_last_impression
        from marts.sigma_workbook_impressions as w
        order by w.total_impressions_90d desc, w.last_impression_at desc nulls last, w.workbook_name
        """,
    )
    shown = workbooks[:DRILL_DOWN_WORKBOOKS]
    ids = [w["workbook_url_id"] for w in shown]
    elements = _query(
        con,
        """
        select
            workbook_url_id, element_id, element_name, page_name, element_type,
            total_impressions_14d as impressions_14d,
            total_impressions_30d as impressions_30d,
            total_impressions_90d as impressions_90d,
            unique_users_30d,
            last_impression_at
        from marts.sigma_element_impressions
        where list_contains(?, workbook_url_id)
        order by total_impressions_90d desc, page_name, element_name
        """,
        [ids],
    )
    users = _query(
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
        workbook["users"] = [u for u in users if u["workbook_url_id"] == key]
    return shown, len(workbooks) - len(shown)


def _cleanup_workbooks(con: duckdb.DuckDBPyConnection, columns: list[str]) -> list[dict[str, Any]]:
    return _query(
        con,
        f"""
        select
            w.workbook_name,
            w.workbook_url_id,
            {_optional(columns, "workbook_url", "w")} as workbook_url,
            w.path,
            w.owner_email,
            case
                when w.last_impression_at is null then 'never viewed'
                when w.is_stale then 'stale'
                else 'no views in 30 days'
            end as status,
            w.is_stale,
            {_optional(columns, "is_archived", "w")} as is_archived,
            {_optional(columns, "is_deleted", "w")} as is_deleted,
            w.last_impression_at,
            w.days_since_last_impression,
            w.total_impressions_90d as impressions_90d
        from marts.sigma_workbook_impressions as w
        where w.total_impressions_30d = 0 or w.is_stale
        order by w.last_impression_at asc nulls first, w.workbook_name
        """,
    )


def _cleanup_elements(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]]) -> list[dict[str, Any]]:
    element_columns = columns["sigma_element_impressions"]
    workbook_columns = columns["sigma_workbook_impressions"]
    return _query(
        con,
        f"""
        select
            e.element_name,
            e.element_id,
            e.page_name,
            e.element_type,
            coalesce(e.workbook_name, w.workbook_name) as workbook_name,
            e.workbook_url_id,
            w.path,
            w.owner_email,
            case
                when e.last_impression_at is null then 'never viewed'
                when e.is_stale then 'stale'
                else 'no views in 30 days'
            end as status,
            e.is_stale,
            {_optional(workbook_columns, "is_archived", "w")} as is_archived,
            -- deleted: the element, or its whole workbook
            ({_optional(element_columns, "is_deleted", "e")} or {_optional(workbook_columns, "is_deleted", "w")})
                as is_deleted,
            e.last_impression_at,
            e.days_since_last_impression,
            e.total_impressions_90d as impressions_90d
        from marts.sigma_element_impressions as e
        left join marts.sigma_workbook_impressions as w
            on e.workbook_url_id = w.workbook_url_id
        where e.total_impressions_30d = 0 or e.is_stale
        order by e.last_impression_at asc nulls first, workbook_name, e.page_name, e.element_name
        """,
    )


def _users_active(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return _query(
        con,
        """
        select user_email, impressions_7d, impressions_14d, impressions_30d, workbooks_viewed_30d, last_impression_at
        from marts.sigma_user_activity
        where impressions_30d > 0
        order by impressions_30d desc, impressions_14d desc, user_email
        """,
    )


def _users_inactive(con: duckdb.DuckDBPyConnection, as_of: date) -> list[dict[str, Any]]:
    return _query(
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


def _newest_file(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    present = _one(
        con,
        "select count(*) as n from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'sigma_raw' and table_name = 'loaded_files'",
    )
    if not present.get("n"):
        return None
    row = _one(
        con,
        """
        select
            max(last_modified) as newest_modified_at,
            arg_max(file_uri, last_modified) as newest_file_uri,
            date_diff('hour', max(last_modified), cast(now() at time zone 'UTC' as timestamp)) as age_hours,
            count(*) as files,
            count(*) filter (where status = 'failed') as files_failed
        from sigma_raw.loaded_files
        """,
    )
    return row if row.get("files") else None


def _table(rows: list[dict[str, Any]], empty: str, limit: int = TABLE_ROWS) -> Table:
    return Table(rows[:limit], empty, max(len(rows) - limit, 0))


def _section_table(section: Any, empty: str) -> Table:
    return Table(list(section.rows), empty, section.more)


# ---------------------------------------------------------------------------------------------
# Charts: Plotly figures from the rows above (no arithmetic here), drawn by the inlined plotly.js.
# ---------------------------------------------------------------------------------------------
def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "height": 320,
        "template": "plotly_white",
        "legend": {"orientation": "h", "y": -0.15},
        **extra,
    }


def _daily_impressions_figure(series: dict[str, Any]) -> go.Figure:
    days = series["days"]
    figure = go.Figure(
        go.Scatter(
            x=[d["impression_date"] for d in days],
            y=[d["impressions"] for d in days],
            name="all workbooks",
            mode="lines",
            line={"width": 3, "color": "#1f3a5f"},
        )
    )
    for line in series["lines"]:
        figure.add_trace(go.Scatter(x=line["x"], y=line["y"], name=line["name"], mode="lines", line={"width": 1.5}))
    figure.update_layout(**_layout(f"Impressions per day, last {DAYS} days", hovermode="x unified"))
    return figure


def _daily_users_figure(days: list[dict[str, Any]]) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            x=[d["activity_date"] for d in days],
            y=[d["active_users"] for d in days],
            name="active users",
            marker={"color": "#3d7ea6"},
        )
    )
    figure.update_layout(**_layout(f"Active users per day, last {DAYS} days"))
    return figure


def _top_workbooks_figure(rows: list[dict[str, Any]]) -> go.Figure:
    shown = list(reversed(rows[:10]))
    names = [r["workbook_name"] or r["workbook_url_id"] for r in shown]
    figure = go.Figure(
        [
            go.Bar(
                y=names,
                x=[r["impressions_previous_14d"] for r in shown],
                name="previous 14 days",
                orientation="h",
                marker={"color": "#b8c4d6"},
            ),
            go.Bar(
                y=names,
                x=[r["impressions_14d"] for r in shown],
                name="last 14 days",
                orientation="h",
                marker={"color": "#1f3a5f"},
            ),
        ]
    )
    figure.update_layout(
        **_layout("Top workbooks: last 14 days against the 14 days before", barmode="group"),
    )
    figure.update_layout(margin={"l": 180}, height=max(260, 60 + 45 * len(shown)))
    return figure


def _rejected_figure(rows: list[dict[str, Any]]) -> go.Figure:
    figure = go.Figure(
        go.Bar(x=[r["reason"] for r in rows], y=[r["rows_rejected"] for r in rows], marker={"color": "#b5523b"})
    )
    figure.update_layout(**{**_layout("Rejected rows by reason"), "height": 280})
    return figure


def _figure_json(figure: go.Figure) -> str:
    # Inside <script type="application/json">: no "</" may close the element early.
    return figure.to_json().replace("</", "<\\/")


# ---------------------------------------------------------------------------------------------
# Reading and rendering
# ---------------------------------------------------------------------------------------------
def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def read_page(
    con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], database: str, sections: dict[str, Any]
) -> Page:
    """Read everything the page shows from the marts. `sections` are the report's own sections
    (key -> Section) for the tables the page shares with the text report: rejected rows by
    reason, unmatched impressions and files with a problem, each with the fix to make."""
    as_of = as_of_date(con)
    days_loaded = _days_loaded(con, as_of)
    workbook_columns = columns["sigma_workbook_impressions"]
    headline = _headline(con)
    daily = _daily_impressions(con, as_of)
    daily_users = _daily_active_users(con, as_of)
    top = _top_workbooks(con, workbook_columns)
    rejected = sections["rejected"].rows
    drill, drill_more = _drill_down(con, columns)

    history = (
        "no impressions loaded yet"
        if days_loaded == 0
        else f"no history yet: {_plural(days_loaded, 'day')} loaded (a daily chart needs 2)"
    )
    charts: dict[str, str | None] = {
        "daily-impressions": _figure_json(_daily_impressions_figure(daily)) if days_loaded >= 2 else None,
        "daily-users": _figure_json(_daily_users_figure(daily_users)) if days_loaded >= 2 else None,
        "top-workbooks": _figure_json(_top_workbooks_figure(top)) if top else None,
        "rejected": _figure_json(_rejected_figure(rejected)) if rejected else None,
    }
    chart_empty = {
        "daily-impressions": history,
        "daily-users": history,
        "top-workbooks": "no workbook impressions in the last 14 days",
        "rejected": "no rejected rows",
    }
    stale_note = (
        ""
        if headline.get("has_enough_history")
        else f" (stale is judged once the whole stale window is loaded: {_plural(days_loaded, 'day')} so far)"
    )
    tables = {
        "top_workbooks": _table(top, "no workbook impressions in the last 14 days"),
        "cleanup_workbooks": _table(
            _cleanup_workbooks(con, workbook_columns),
            "every workbook was viewed in the last 30 days and none is stale" + stale_note,
        ),
        "cleanup_elements": _table(
            _cleanup_elements(con, columns),
            "every element was viewed in the last 30 days and none is stale" + stale_note,
        ),
        "users_active": _table(_users_active(con), "nobody viewed a workbook in the last 30 days"),
        "users_inactive": _table(
            _users_inactive(con, as_of),
            "every user seen so far viewed something in the last 30 days"
            if headline.get("users")
            else "no user activity loaded yet",
        ),
        "rejected": _section_table(sections["rejected"], "no rejected rows: every landed row counts"),
        "unmatched": _section_table(sections["unmatched"], "every impression matched the inventory"),
        "files": _section_table(sections["files"], "every loaded file was read and has the required columns"),
    }
    lifecycle = {
        "is_archived": "is_archived" in workbook_columns,
        "is_deleted": "is_deleted" in workbook_columns or "is_deleted" in columns.get("sigma_element_impressions", []),
    }
    return Page(
        as_of_date=as_of,
        generated_at=datetime.now(UTC),
        database=database,
        days_loaded=days_loaded,
        headline=headline,
        charts=charts,
        chart_empty=chart_empty,
        tables=tables,
        drill_down=drill,
        drill_down_more=drill_more,
        newest_file=_newest_file(con),
        lifecycle=lifecycle,
    )


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _cell(value: Any) -> str:
    """A value as a table cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return _number(value)


def _sort_key(value: Any) -> str:
    """The value the table-sorting script compares: numbers as numbers, times as ISO text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(float(value))
    return str(value)


def _signed_percent(value: Any) -> str:
    """A percentage the SQL already computed (12.3 = +12.3%)."""
    if value is None:
        return ""
    return f"{float(value):+.1f}%"


def _trend_percent(fraction: Any) -> str:
    """impressions_trend_14d_pct is a fraction of the previous 14 days (-0.33 = -33%)."""
    if fraction is None:
        return "new"
    percent = round(float(fraction) * 100)
    return "flat" if percent == 0 else f"{percent:+d}%"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__ or "sigma_impressions.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(cell=_cell, sortkey=_sort_key, number=_number, signed=_signed_percent, trend=_trend_percent)
    return env


def render_page(page: Page) -> str:
    """The page as one HTML document, plotly.js and every style and script inlined."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        page=page,
        plotly_js=plotly.offline.get_plotlyjs(),
    )


def html_report(database: str) -> str:
    """The page for the marts in `database`; raises ReportError (one line) when they cannot be read."""
    # The shared sections (this also checks that the marts are built).
    sections = {s.key: s for s in build_report(database, TABLE_ROWS, SHARED_SECTIONS)}
    con = _connect(database)
    try:
        return render_page(read_page(con, _mart_columns(con), database, sections))
    except duckdb.Error as exc:
        raise ReportError(f"cannot read the marts in {database}: {' '.join(str(exc).split())[:200]}") from exc
    finally:
        con.close()
