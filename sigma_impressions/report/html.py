"""`sigma-impressions report --format html`: one self-contained page with charts.

The page shows every section of the report (sigma_impressions.report.sections, the rows every
format shows, read once) and the parts only a page has (headline numbers, daily series, each
workbook's users and elements, each team's workbooks, inactive users, the newest export file),
all read from the marts by sigma_impressions.report.queries at the marts' `as_of_date`. This
module only lays the rows out: the Plotly figures come from charts.py, the HTML from the Jinja2
template `templates/report.html.j2` (package data). plotly.js is inlined with the styles and the
table-sorting script, so the file opens offline and makes no network request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import jinja2
import plotly.offline

from sigma_impressions.report import charts, queries
from sigma_impressions.report.sections import SECTIONS, read_sections
from sigma_impressions.report.source import ReportError, connect, one_line

# Rows shown per table; the daily charts show the whole 90 days.
TABLE_ROWS = 25
DAYS = 90
# Workbooks drawn as their own line in the daily chart, as bars in the top-workbooks chart, and
# given a drill-down part; workbooks listed per team.
TOP_WORKBOOK_LINES = 5
TOP_WORKBOOK_BARS = 10
DRILL_DOWN_WORKBOOKS = 25
TEAM_WORKBOOKS = 5


@dataclass
class Table:
    """Rows for one table on the page; `empty` says why there are none."""

    rows: list[dict[str, Any]]
    empty: str
    more: int = 0
    note: str = ""


@dataclass
class Page:
    """Everything the template shows."""

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
    teams: list[dict[str, Any]] = field(default_factory=list)  # each team's row and its top workbooks
    newest_file: dict[str, Any] | None = None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def read_page(con: duckdb.DuckDBPyConnection, database: str) -> Page:
    """Read everything the page shows from the open marts."""
    sections = {s.key: s for s in read_sections(con, TABLE_ROWS, SECTIONS)}
    as_of = queries.as_of_date(con) or datetime.now(UTC).date()
    days_loaded = queries.days_loaded(con, as_of)
    headline = queries.headline(con)
    daily = queries.daily_activity(con, as_of, DAYS)
    top = sections["popular"].rows
    teams = sections["teams"].rows
    rejected = sections["rejected"].rows
    drill, drill_more = queries.drill_down(con, DRILL_DOWN_WORKBOOKS)

    history = (
        "no impressions loaded yet"
        if days_loaded == 0
        else f"no history yet: {_plural(days_loaded, 'day')} loaded (a daily chart needs 2)"
    )
    charts_json: dict[str, str | None] = {
        "daily-impressions": charts.daily_impressions(
            daily, queries.top_workbook_days(con, as_of, DAYS, TOP_WORKBOOK_LINES)
        )
        if days_loaded >= 2
        else None,
        "daily-users": charts.daily_users(daily) if days_loaded >= 2 else None,
        "top-workbooks": charts.top_workbooks(top[:TOP_WORKBOOK_BARS]) if top else None,
        "teams": charts.teams(teams) if any(t["impressions_30d"] or t["active_members_14d"] for t in teams) else None,
        "rejected": charts.rejected(rejected) if rejected else None,
    }
    chart_empty = {
        "daily-impressions": history,
        "daily-users": history,
        "top-workbooks": sections["popular"].empty_text,
        "teams": "no team member viewed a workbook in the last 30 days",
        "rejected": sections["rejected"].empty_text,
    }
    stale_note = (
        ""
        if headline["has_enough_history"]
        else f" (stale is judged once the whole stale window is loaded: {_plural(days_loaded, 'day')} so far)"
    )
    tables = {key: Table(s.rows, s.empty_text, s.more, s.note) for key, s in sections.items()}
    for key in ("unused_workbooks", "unused_elements"):
        tables[key].empty += stale_note
    inactive = queries.inactive_users(con, as_of)
    tables["users_inactive"] = Table(
        inactive[:TABLE_ROWS],
        "every user seen so far viewed something in the last 30 days"
        if headline["users"]
        else "no user activity loaded yet",
        max(len(inactive) - TABLE_ROWS, 0),
    )
    return Page(
        as_of_date=as_of,
        generated_at=datetime.now(UTC),
        database=database,
        days_loaded=days_loaded,
        headline=headline,
        charts=charts_json,
        chart_empty=chart_empty,
        tables=tables,
        drill_down=drill,
        drill_down_more=drill_more,
        teams=_team_parts(teams, queries.team_workbooks(con, TEAM_WORKBOOKS)),
        newest_file=queries.newest_file(con),
    )


def _team_parts(teams: list[dict[str, Any]], workbooks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each team row with its workbooks (the `(no team)` row's are those with no team_id)."""
    return [{**team, "workbooks": [w for w in workbooks if w["team_id"] == team["team_id"]]} for team in teams]


# ---------------------------------------------------------------------------------------------
# Formatting (the template's filters)
# ---------------------------------------------------------------------------------------------
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
        return str(int(value)) if value == value.to_integral_value() else str(float(value))
    return str(value)


def _signed_percent(value: Any) -> str:
    """A percentage the SQL already computed (12.3 = +12.3%)."""
    if value is None:
        return ""
    return f"{float(value):+.1f}%"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__ or "sigma_impressions.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(cell=_cell, sortkey=_sort_key, number=_number, signed=_signed_percent)
    return env


def render_page(page: Page) -> str:
    """The page as one HTML document, plotly.js and every style and script inlined."""
    template = _environment().get_template("report.html.j2")
    return template.render(page=page, plotly_js=plotly.offline.get_plotlyjs())


def html_report(database: str) -> str:
    """The page for the marts in `database`; raises ReportError (one line) when they cannot be read."""
    con = connect(database, queries.MARTS)
    try:
        page = read_page(con, database)
    except duckdb.Error as exc:
        raise ReportError(f"cannot read the marts in {database}: {one_line(str(exc))}") from exc
    finally:
        con.close()
    return render_page(page)
