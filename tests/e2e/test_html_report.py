"""The HTML report in a real browser: Debian's chromium, headless, driven by Playwright.

Four warehouses built by the real pipeline (`sigma-impressions demo` or hand-written export files,
then `sigma-impressions run`: load + dbt build) under tmp_path: the demo `make run` shows (with its
exclusion rule; the session's `make run` of tests/e2e/conftest.py, shared), a differently seeded
demo on another day that the page was never tuned on (plus a raw audit-log file with event names,
and exclusion rules that match), a warehouse with a single day of history, and one with no export
at all. For each, `sigma-impressions report --format html --out FILE` writes the page, and the
browser opens it with every request intercepted. Every number shown is compared with the marts,
queried by SQL here. The tests that
open a page are marked `browser`; every test here runs dbt (`dbt`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sigma_impressions.cli import main
from sigma_impressions.demo import write_demo
from sigma_impressions.demo.sigma_api_server import SigmaApiServer, SigmaApiStandIn, demo_org

REPO = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = REPO / "target" / "html-report"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHARTS = ("daily-impressions", "daily-users", "top-workbooks", "teams", "rejected")
# Exclusion rules that match in the other warehouse: its service account, and owners' own views.
OTHER_VARS = '{sigma_excluded_users: ["*@svc.acme.example"], sigma_exclude_owner_views: true}'

pytestmark = pytest.mark.dbt
# A drawn mark: a line trace's path or a bar's path, with a non-empty outline.
MARKS = "path.js-line, .point path"


def _build(
    root: Path, exports: Path, as_of: date, api: SigmaApiServer, no_files: bool = False, dbt_vars: str | None = None
) -> Path:
    """`sigma-impressions run` into root/warehouse, the inventory synced from the demo's Sigma API
    stand-in (as `make run` does). With no export file at all the build succeeds but the exports'
    freshness check fails the run (exit 1): the marts are built, empty."""
    database = root / "warehouse" / "sigma_impressions.duckdb"
    patch = pytest.MonkeyPatch()
    patch.setenv("DBT_TARGET_PATH", str(root / "target"))
    patch.setenv("DBT_LOG_PATH", str(root / "logs"))
    patch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    patch.delenv("SIGMA_IMPRESSIONS_DUCKDB_PATH", raising=False)
    try:
        run = ["run", "--bucket-uri", f"file://{exports}", "--database", str(database), "--days-back", "6"]
        run += ["--sigma-api-url", api.url, "--sigma-client-id", api.state.client_id]
        run += ["--sigma-client-secret", api.state.client_secret]
        run += ["--vars", dbt_vars] if dbt_vars else []
        assert main([*run, "--as-of-date", as_of.isoformat()]) == (1 if no_files else 0)
    finally:
        patch.undo()
    return database


def _page(database: Path, out: Path) -> Path:
    assert main(["report", "--database", str(database), "--format", "html", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory, make_run_pipeline: dict) -> dict[str, dict[str, Any]]:
    """name -> {database, page, as_of}."""
    # The demo exactly as `make run` builds it (tests/e2e/conftest.py, shared with its step-by-step checks).
    database = make_run_pipeline["database"]
    page = _page(database, tmp_path_factory.mktemp("html_demo") / "report.html")
    as_of = make_run_pipeline["as_of"]
    built: dict[str, dict[str, Any]] = {"demo": {"database": database, "page": page, "as_of": as_of}}
    now = datetime.now(UTC)
    api = SigmaApiServer(SigmaApiStandIn(demo_org())).start()
    try:
        _build_all(tmp_path_factory, built, now, api)
    finally:
        api.stop()
    return built


def _build_all(
    tmp_path_factory: pytest.TempPathFactory, built: dict[str, dict[str, Any]], now: datetime, api: SigmaApiServer
) -> None:
    """Build the other three warehouses and their pages into `built`."""
    # Another seed and another day (three days ago): data the page was not tuned on; with a raw
    # audit-log file (event names and statuses: views, a sign-in, a failed view, a service account).
    root = tmp_path_factory.mktemp("html_other")
    then = now - timedelta(days=3)
    write_demo(root / "exports", seed=20261127, now=then)
    day = (then - timedelta(days=1)).date()
    (root / "exports" / "sigma_audit_raw_events.csv").write_text(
        "request_time,user_email,workbook_url_id,element_id,event_name,event_status\n"
        f"{day} 09:00:00,ann@acme.example,Revenue-Overview-4kTq8ZpL2mWx9RbN,,Open Workbook,Success\n"
        f"{day} 09:01:00,ann@acme.example,,,Sign In,Success\n"
        f"{day} 09:02:00,bob@acme.example,Sales-Pipeline-7HcV3nJd5QsY1uEa,,Open Workbook,Failure\n"
        f"{day} 09:03:00,etl-bot@svc.acme.example,Revenue-Overview-4kTq8ZpL2mWx9RbN,,Open Workbook,Success\n"
        f"{day} 09:04:00,etl-bot@svc.acme.example,Sales-Pipeline-7HcV3nJd5QsY1uEa,,Open Workbook,Success\n",
        encoding="utf-8",
    )
    database = _build(root, root / "exports", then.date(), api, dbt_vars=OTHER_VARS)  # events end the day before
    built["other"] = {"database": database, "page": _page(database, root / "report.html"), "as_of": then.date()}

    # One day of history (events on the as-of day only): the daily charts cannot be drawn and say why.
    root = tmp_path_factory.mktemp("html_one_day")
    exports = root / "exports"
    exports.mkdir()
    day = now.date()
    (exports / "sigma_audit_one_day.csv").write_text(
        "request_time,user_email,workbook_url_id,element_id,count\n"
        f"{day} 00:00:01,ann@acme.example,Revenue-Overview-4kTq8ZpL2mWx9RbN,,2\n"
        f"{day} 00:00:02,bob@acme.example,Sales-Pipeline-7HcV3nJd5QsY1uEa,,1\n",
        encoding="utf-8",
    )
    database = _build(root, exports, now.date(), api)
    built["one_day"] = {"database": database, "page": _page(database, root / "report.html"), "as_of": now.date()}

    # Nothing exported yet: the marts are built empty.
    root = tmp_path_factory.mktemp("html_empty")
    (root / "exports").mkdir()
    database = _build(root, root / "exports", now.date(), api, no_files=True)
    built["empty"] = {"database": database, "page": _page(database, root / "report.html"), "as_of": now.date()}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is not installed: apt-get install -y chromium (.ci/run does it)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Opened:
    """A page opened in the browser with every request intercepted and every console error kept."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-charts-drawn]", state="attached", timeout=30_000)

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


# Every test of an opened page needs the browser: the params carry the mark.
@pytest.fixture(scope="module", params=[pytest.param(n, marks=pytest.mark.browser) for n in ("demo", "other")])
def opened(request: pytest.FixtureRequest, warehouses: dict, browser: Any) -> Iterator[tuple[Opened, dict]]:
    built = {**warehouses[request.param], "name": request.param}
    page = Opened(browser, built["page"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / f"report-{request.param}.png"), full_page=True)
    yield page, built
    page.close()


def _copy(database: Path, folder: Path) -> Path:
    """A copy of a warehouse to change. It keeps its file name: DuckDB names the catalog after the
    file, and dbt's views in it refer to that catalog."""
    copy = folder / "copy" / database.name
    copy.parent.mkdir()
    shutil.copy(database, copy)
    return copy


def _marts(built: dict, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(built["database"]), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _value(opened: Opened, selector: str) -> str:
    return opened.page.get_attribute(selector, "data-value")


def _key(value: Any) -> str:
    """A mart value as the page's cells carry it (data-v): what the table-sorting script compares."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else str(float(value))
    return str(value)


def _table(page: Opened, table_id: str, columns: list[str]) -> list[tuple[str, ...]]:
    return page.page.eval_on_selector_all(
        f"#{table_id} tbody tr",
        "(rows, columns) => rows.map(r => columns.map(c => r.querySelector(`td[data-col='${c}']`).dataset.v))",
        columns,
    )


def _shows(page: Opened, table_id: str, columns: list[str], expected: list[tuple]) -> None:
    """The table shows the first 25 rows of `expected` (mart values) in order, says how many more,
    or says why it is empty."""
    if not expected:
        assert page.page.query_selector(f"#{table_id}") is None
        assert page.page.text_content(f"#{table_id}-empty")
        return
    shown = _table(page, table_id, columns)
    assert [tuple(r) for r in shown] == [tuple(_key(v) for v in row) for row in expected[:25]], table_id
    if len(expected) > 25:
        assert f"and {len(expected) - 25:,} more" in page.page.inner_text(f"#{table_id} ~ p.more")


def test_no_console_error_and_no_request_leaves_the_file(opened: tuple[Opened, dict]) -> None:
    page, _ = opened
    assert page.errors == []
    assert page.blocked == []
    assert set(page.requests) == {page.url}


def test_every_chart_has_drawn_marks(opened: tuple[Opened, dict]) -> None:
    page, _ = opened
    charts = page.page.query_selector_all("div.chart")
    assert sorted(c.get_attribute("id") for c in charts) == sorted(f"chart-{c}" for c in CHARTS)
    assert page.page.get_attribute("body", "data-charts-drawn") == str(len(CHARTS))
    for chart in charts:
        drawn = [
            p for p in chart.query_selector_all(MARKS) if (p.get_attribute("d") or "").strip() not in ("", "M0,0Z")
        ]
        assert drawn, f"{chart.get_attribute('id')} has no drawn marks"


def test_headline_numbers_equal_the_marts(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    as_of = built["as_of"]
    impressions_30d, viewed, never, stale, candidates = _marts(
        built,
        "select sum(total_impressions_30d), count(*) filter (where total_impressions_30d > 0), "
        "count(*) filter (where last_impression_at is null), count(*) filter (where is_stale), "
        "count(*) filter (where is_cleanup_candidate) from marts.sigma_workbook_impressions",
    )[0]
    # The 30 days before, from the daily mart: [as_of - 59, as_of - 30] (another route than the page's).
    (previous,) = _marts(
        built,
        "select coalesce(sum(impressions), 0) from marts.sigma_daily_impressions "
        "where impression_date between cast(? as date) - 59 and cast(? as date) - 30",
        [as_of, as_of],
    )[0]
    (active,) = _marts(built, "select count(*) from marts.sigma_user_activity where impressions_14d > 0")[0]
    (mart_as_of,) = _marts(built, "select max(as_of_date) from marts.sigma_workbook_impressions")[0]
    assert mart_as_of == as_of
    assert f"As of {as_of.isoformat()}" in page.page.inner_text("header")
    assert impressions_30d > 0 and previous > 0 and active > 0
    assert int(_value(page, "#kpi-impressions-30d .value")) == impressions_30d
    change = float(_value(page, "#kpi-impressions-change [data-value]"))
    assert change == pytest.approx(round(100 * (impressions_30d - previous) / previous, 1))
    assert f"({previous:,})" in page.page.inner_text("#kpi-impressions-change")
    assert int(_value(page, "#kpi-active-users-14d .value")) == active
    assert int(_value(page, "#kpi-workbooks-viewed .value")) == viewed
    assert int(_value(page, "#kpi-workbooks-never-viewed .value")) == never
    assert int(_value(page, "#kpi-workbooks-stale .value")) == stale
    assert int(_value(page, "#kpi-cleanup-candidates .value")) == candidates


def test_top_workbooks_are_the_marts_rank_and_trend_label(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    expected = _marts(
        built,
        "select popularity_rank, workbook_name, coalesce(owner_email, ''), total_impressions_30d, unique_users_30d, "
        "total_impressions_14d, impressions_previous_14d, impressions_trend_14d_pct, unique_users_14d "
        "from marts.sigma_workbook_impressions where total_impressions_30d > 0 "
        "order by popularity_rank, workbook_name, workbook_url_id",
    )
    assert len(expected) >= 2
    columns = [
        "rank",
        "workbook_name",
        "owner_email",
        "impressions_30d",
        "unique_users_30d",
        "impressions_14d",
        "impressions_previous_14d",
        "trend",  # sorts by the mart's relative change
        "unique_users_14d",
    ]
    _shows(page, "table-top-workbooks", columns, expected)
    labels = _marts(
        built,
        "select coalesce(impressions_trend_14d_label, '') from marts.sigma_workbook_impressions "
        "where total_impressions_30d > 0 order by popularity_rank, workbook_name, workbook_url_id",
    )
    shown = page.page.eval_on_selector_all(
        "#table-top-workbooks td[data-col='trend']", "cells => cells.map(c => c.textContent.trim())"
    )
    assert shown == [label for (label,) in labels]
    bars = page.page.evaluate("document.getElementById('chart-top-workbooks').data[1]")
    assert list(reversed(bars["y"])) == [row[1] for row in expected[:10]]
    assert list(reversed(bars["x"])) == [row[5] for row in expected[:10]]


def test_daily_charts_equal_the_daily_activity_mart(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    as_of = built["as_of"]
    days = _marts(
        built,
        "select impression_date, impressions, active_users from marts.sigma_daily_activity "
        "where impression_date between cast(? as date) - 89 and cast(? as date)",
        [as_of, as_of],
    )
    impressions = page.page.evaluate("document.getElementById('chart-daily-impressions').data[0]")
    users = page.page.evaluate("document.getElementById('chart-daily-users').data[0]")
    assert len(impressions["x"]) == len(users["x"]) == 90
    assert {x: y for x, y in zip(impressions["x"], impressions["y"], strict=True) if y} == {
        d.isoformat(): n for d, n, _ in days if n
    }
    assert {x: y for x, y in zip(users["x"], users["y"], strict=True) if y} == {
        d.isoformat(): n for d, _, n in days if n
    }


def test_teams_equal_the_marts(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    teams = _marts(
        built,
        "select team_name, member_count, active_members_14d, impressions_30d, workbooks_viewed_30d, team_id "
        "from marts.sigma_team_usage order by impressions_30d desc, active_members_14d desc, team_name, team_id",
    )
    assert "(no team)" in [t[0] for t in teams]
    columns = ["team_name", "member_count", "active_members_14d", "impressions_30d", "workbooks_viewed_30d"]
    _shows(page, "table-teams", columns, [t[:5] for t in teams])
    chart = page.page.evaluate("document.getElementById('chart-teams').data")
    assert list(reversed(chart[0]["y"])) == [t[0] for t in teams]
    assert list(reversed(chart[0]["x"])) == [t[3] for t in teams]
    assert list(reversed(chart[1]["x"])) == [t[2] for t in teams]
    # Each team's most viewed workbooks, in the teams table's order.
    parts = page.page.query_selector_all("details.team")
    assert [p.get_attribute("data-team") for p in parts] == [t[0] for t in teams]
    listed = 0
    for index, team in enumerate(teams, start=1):
        expected = _marts(
            built,
            "select workbook_name, impressions_30d, users_30d from marts.sigma_team_workbook_impressions "
            "where team_id is not distinct from ? and impressions_30d > 0 "
            "order by impressions_30d desc, users_30d desc, workbook_name, workbook_url_id limit 5",
            [team[5]],
        )
        _shows(page, f"team-workbooks-{index}", ["workbook_name", "impressions_30d", "users_30d"], expected)
        listed += len(expected)
    assert listed >= 2


def test_users_equal_the_marts(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    active = _marts(
        built,
        "select row_number() over (order by impressions_30d desc, impressions_14d desc, user_email), user_email, "
        "impressions_7d, impressions_14d, impressions_30d, workbooks_viewed_30d from marts.sigma_user_activity "
        "where impressions_30d > 0 order by 1",
    )
    columns = ["rank", "user_email", "impressions_7d", "impressions_14d", "impressions_30d", "workbooks_viewed_30d"]
    _shows(page, "table-users-active", columns, active)
    inactive = _marts(
        built,
        "select user_email, impressions_60d, date_diff('day', cast(last_impression_at as date), as_of_date) "
        "from marts.sigma_user_activity where impressions_30d = 0 order by last_impression_at desc, user_email",
    )
    _shows(page, "table-users-inactive", ["user_email", "impressions_60d", "days_since_last_impression"], inactive)


def test_data_health_equals_the_marts(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    rejected = _marts(
        built,
        "select reason, count(*), count(distinct _file_uri) from marts.sigma_rejected_impressions "
        "group by reason order by 2 desc, reason",
    )
    _shows(page, "table-rejected", ["reason", "rows_rejected", "files"], rejected)
    unmatched = _marts(
        built,
        "select workbook_url_id, element_id, reason, impressions, unique_users from marts.sigma_unmatched_impressions "
        "order by impressions desc, workbook_url_id, element_id nulls first, reason",
    )
    _shows(
        page, "table-unmatched", ["workbook_url_id", "element_id", "reason", "impressions", "unique_users"], unmatched
    )
    excluded = _marts(
        built,
        "select reason, count(distinct user_email), count(distinct workbook_url_id), sum(impressions_total), "
        "sum(impressions_30d) from marts.sigma_excluded_impressions group by reason order by 4 desc, reason",
    )
    _shows(page, "table-excluded", ["reason", "users", "workbooks", "impressions_total", "impressions_30d"], excluded)
    events = _marts(
        built,
        "select event_name, event_status, sum(row_count), count(distinct file_uri), is_view_event "
        "from marts.sigma_export_events where row_count > 0 group by event_name, event_status, is_view_event "
        "order by 3 desc, event_name nulls first, event_status nulls first",
    )
    _shows(page, "table-events", ["event_name", "event_status", "rows", "files", "counted"], events)
    files = _marts(
        built,
        "select file_uri, status, rows_loaded, view_event_rows from marts.sigma_export_files "
        "where problem is not null order by last_modified desc nulls last, file_uri",
    )
    _shows(page, "table-files", ["file_uri", "status", "rows_loaded", "view_event_rows"], files)
    count, age = _marts(
        built,
        "select count(*), date_diff('hour', max(last_modified), cast(now() at time zone 'UTC' as timestamp)) "
        "from marts.sigma_export_files",
    )[0]
    assert abs(int(_value(page, "#health-newest-file .value")) - age) <= 1
    assert f"{count:,} files known" in page.page.inner_text("#health-newest-file")
    if built["name"] == "other":  # its rules match, and its raw audit-log file names its events
        assert {r[0] for r in excluded} == {"user_pattern", "owner_view"}
        counted = {(name, status): is_counted for name, status, _, _, is_counted in events}
        assert counted[("Sign In", "Success")] is False
        assert counted[("Open Workbook", "Failure")] is False
        assert counted[("Open Workbook", "Success")] is True
        assert "(no column)" in page.page.inner_text("#table-events")  # the demo's view exports have none


def test_a_workbooks_drill_down_lists_its_users(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    used = _marts(
        built,
        "select workbook_url_id, list_transform(used, u -> u.user_email) from marts.sigma_workbook_impressions",
    )
    checked = 0
    for workbook, users in used:
        details = page.page.query_selector(f"details[data-workbook='{workbook}']")
        if details is None:
            continue
        if details.get_attribute("open") is None:
            details.eval_on_selector("summary", "s => s.click()")
        shown = details.eval_on_selector_all(
            "table[id^='users-'] td[data-col='user_email']", "cells => cells.map(c => c.dataset.v)"
        )
        assert shown == list(users)
        if users:
            assert details.is_visible()
            checked += 1
    assert checked >= 2


def test_cleanup_candidates_are_the_marts_flag(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    workbooks = _marts(
        built,
        "select workbook_name, coalesce(owner_email, ''), usage_status, "
        "coalesce(cast(days_since_last_impression as varchar), '') "
        "from marts.sigma_workbook_impressions where is_cleanup_candidate "
        "order by last_impression_at asc nulls first, workbook_name, workbook_url_id",
    )
    assert workbooks  # the demo has a workbook nobody opens and one abandoned
    _shows(
        page,
        "table-cleanup-workbooks",
        ["workbook_name", "owner_email", "status", "days_since_last_impression"],
        workbooks,
    )
    elements = _marts(
        built,
        "select element_name, workbook_name, usage_status, total_impressions_90d "
        "from marts.sigma_element_impressions where is_cleanup_candidate "
        "order by last_impression_at asc nulls first, workbook_name, page_name, element_name, element_id",
    )
    _shows(page, "table-cleanup-elements", ["element_name", "workbook_name", "status", "impressions_90d"], elements)


def test_tables_sort_on_click(opened: tuple[Opened, dict]) -> None:
    page, _ = opened
    header = page.page.locator("#table-top-workbooks th[data-col='impressions_14d']")
    header.click()
    ascending = [int(v) for (v,) in _table(page, "table-top-workbooks", ["impressions_14d"])]
    assert ascending == sorted(ascending)
    header.click()
    descending = [int(v) for (v,) in _table(page, "table-top-workbooks", ["impressions_14d"])]
    assert descending == sorted(ascending, reverse=True)
    page.page.reload()  # the next test reads the rows in the page's order
    page.page.wait_for_selector("body[data-charts-drawn]", state="attached", timeout=30_000)


def test_printing_opens_every_drill_down(opened: tuple[Opened, dict]) -> None:
    page, _ = opened
    page.page.emulate_media(media="print")
    page.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    try:
        closed = page.page.eval_on_selector_all("details", "ds => ds.filter(d => !d.open).length")
        assert closed == 0
        assert page.page.query_selector_all("details.team") and page.page.query_selector_all("details.workbook")
    finally:
        page.page.emulate_media(media="screen")


@pytest.mark.browser
def test_one_day_of_history_says_why_the_daily_charts_are_empty(warehouses: dict, browser: Any) -> None:
    page = Opened(browser, warehouses["one_day"]["page"])
    try:
        assert page.errors == [] and page.blocked == []
        for chart in ("daily-impressions", "daily-users"):
            assert (
                page.page.inner_text(f"#chart-{chart}-empty") == "no history yet: 1 day loaded (a daily chart needs 2)"
            )
        assert page.page.inner_text("#chart-rejected-empty") == "no rejected rows"
        # the top-workbooks chart is drawn from the one day
        assert page.page.query_selector_all(f"#chart-top-workbooks {MARKS}")
    finally:
        page.close()


def test_report_html_without_out_writes_the_page_to_standard_output(
    warehouses: dict, capsys: pytest.CaptureFixture
) -> None:
    assert main(["report", "--database", str(warehouses["demo"]["database"]), "--format", "html"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert 'src="http' not in text and "<link" not in text


@pytest.mark.browser
def test_cleanup_follows_the_flag_and_the_drill_down_marks_archived_and_deleted(
    warehouses: dict, browser: Any, tmp_path: Path
) -> None:
    """The page lists what is_cleanup_candidate says, whatever else the row holds; a workbook's
    part says when Sigma lists it as archived or deleted."""
    database = _copy(warehouses["demo"]["database"], tmp_path)
    con = duckdb.connect(str(database))
    try:
        (unflagged,) = con.execute(
            "select workbook_url_id from marts.sigma_workbook_impressions where is_cleanup_candidate "
            "order by workbook_url_id limit 1"
        ).fetchone()
        (flagged,) = con.execute(
            "select workbook_url_id from marts.sigma_workbook_impressions where not is_cleanup_candidate "
            "order by total_impressions_30d desc, workbook_url_id limit 1"
        ).fetchone()
        con.execute(
            "update marts.sigma_workbook_impressions set is_cleanup_candidate = (workbook_url_id = ?), "
            "is_archived = (workbook_url_id = ?), is_deleted = (workbook_url_id = ?) "
            "where workbook_url_id in (?, ?)",
            [flagged, unflagged, flagged, unflagged, flagged],
        )
        expected = [
            name
            for (name,) in con.execute(
                "select workbook_name from marts.sigma_workbook_impressions where is_cleanup_candidate "
                "order by last_impression_at asc nulls first, workbook_name, workbook_url_id"
            ).fetchall()
        ]
    finally:
        con.close()
    page = Opened(browser, _page(database, tmp_path / "report.html"))
    try:
        assert page.errors == [] and page.blocked == []
        shown = [name for (name,) in _table(page, "table-cleanup-workbooks", ["workbook_name"])]
        assert shown == expected
        tags = {
            workbook: page.page.eval_on_selector_all(
                f"details[data-workbook='{workbook}'] > summary .tag", "tags => tags.map(t => t.textContent)"
            )
            for workbook in (unflagged, flagged)
        }
        assert tags == {unflagged: ["archived"], flagged: ["deleted"]}
        assert len(page.page.query_selector_all("details.workbook > summary .tag")) == 2
    finally:
        page.close()


@pytest.mark.browser
def test_names_from_the_inventory_are_text_not_markup(warehouses: dict, browser: Any, tmp_path: Path) -> None:
    """Workbook, team, element and user names come from the inventory and the exports: the page
    shows them as text, in the tables and in the charts' inlined data."""
    hostile = "</script><script>window.__injected = 1</script><img src=x onerror='window.__injected = 2'>"
    database = _copy(warehouses["demo"]["database"], tmp_path)
    con = duckdb.connect(str(database))
    try:
        (workbook,) = con.execute(
            "select workbook_url_id from marts.sigma_workbook_impressions order by popularity_rank limit 1"
        ).fetchone()
        for mart in ("sigma_workbook_impressions", "sigma_daily_impressions", "sigma_team_workbook_impressions"):
            con.execute(f"update marts.{mart} set workbook_name = ? where workbook_url_id = ?", [hostile, workbook])
        con.execute("update marts.sigma_team_usage set team_name = ? where team_name = '(no team)'", [hostile])
    finally:
        con.close()
    page = Opened(browser, _page(database, tmp_path / "report.html"))
    try:
        assert page.errors == [] and page.blocked == []
        assert page.page.evaluate("window.__injected") is None
        assert hostile in page.page.inner_text("#table-top-workbooks")
        assert hostile in page.page.evaluate("document.getElementById('chart-top-workbooks').data[0].y")
        assert hostile in page.page.inner_text("#table-teams")
        assert hostile in page.page.evaluate("document.getElementById('chart-teams').data[0].y")
    finally:
        page.close()


@pytest.mark.browser
def test_an_empty_warehouse_says_why_every_part_is_empty(warehouses: dict, browser: Any) -> None:
    page = Opened(browser, warehouses["empty"]["page"])
    try:
        assert page.errors == [] and page.blocked == []
        assert page.page.get_attribute("body", "data-charts-drawn") == "0"
        assert page.page.query_selector_all("div.chart") == []
        for chart in ("daily-impressions", "daily-users"):
            assert page.page.inner_text(f"#chart-{chart}-empty") == "no impressions loaded yet"
        assert page.page.inner_text("#chart-teams-empty") == "no team member viewed a workbook in the last 30 days"
        assert page.page.inner_text("#table-top-workbooks-empty") == "no workbook impressions in the last 30 days"
        assert page.page.inner_text("#table-users-active-empty") == "nobody viewed a workbook in the last 30 days"
        assert page.page.inner_text("#table-users-inactive-empty") == "no user activity loaded yet"
        assert page.page.inner_text("#table-excluded-empty") == "no exclusion rule is set or none matched"
        assert page.page.inner_text("#table-events-empty") == "no export row loaded yet"
        assert page.page.inner_text("#table-files-empty").startswith("every export file was read")
        assert _value(page, "#kpi-impressions-30d .value") == "0"
        assert "no export file loaded yet" in page.page.inner_text("#health-newest-file")
    finally:
        page.close()


def test_report_out_writes_any_format_to_a_file(
    warehouses: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    database = str(warehouses["demo"]["database"])
    assert main(["report", "--database", database, "--format", "markdown"]) == 0
    printed = capsys.readouterr().out
    out = tmp_path / "reports" / "report.md"
    assert main(["report", "--database", database, "--format", "markdown", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out.resolve())
    assert out.read_text(encoding="utf-8") == printed
    assert [p.name for p in out.parent.iterdir()] == ["report.md"]  # no partial file left behind


@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv"])
def test_every_section_and_format_reads_a_built_warehouse(
    warehouses: dict, fmt: str, capsys: pytest.CaptureFixture
) -> None:
    from sigma_impressions.report import SECTIONS

    for name in ("demo", "empty"):
        database = str(warehouses[name]["database"])
        for section in ("all", *SECTIONS):
            assert main(["report", "--database", database, "--format", fmt, "--section", section]) == 0
            assert capsys.readouterr().out.strip(), (name, section)
