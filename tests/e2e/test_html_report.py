"""The HTML report in a real browser: Debian's chromium, headless, driven by Playwright.

Three warehouses are built by the real pipeline (`sigma-impressions demo` or hand-written export
files, then `sigma-impressions run`: load + dbt build) under tmp_path: the demo `make run` shows,
a differently seeded demo on another day that the page was never tuned on, and a warehouse with a
single day of history. For each, `sigma-impressions report --format html --out FILE` writes the
page, and the browser opens it with every request intercepted. The numbers are compared with the
marts, queried by SQL here.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sigma_impressions.cli import main
from sigma_impressions.demo import write_demo

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
CHARTS = ("daily-impressions", "daily-users", "top-workbooks", "rejected")
# A drawn mark: a line trace's path or a bar's path, with a non-empty outline.
MARKS = "path.js-line, .point path"


def _build(root: Path, exports: Path, as_of: date, no_files: bool = False) -> Path:
    """`sigma-impressions run` into root/warehouse. With no export file at all the build succeeds
    but the exports' freshness check fails the run (exit 1): the marts are built, empty."""
    database = root / "warehouse" / "sigma_impressions.duckdb"
    patch = pytest.MonkeyPatch()
    patch.setenv("DBT_TARGET_PATH", str(root / "target"))
    patch.setenv("DBT_LOG_PATH", str(root / "logs"))
    patch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    patch.delenv("SIGMA_IMPRESSIONS_DUCKDB_PATH", raising=False)
    try:
        run = ["run", "--bucket-uri", f"file://{exports}", "--database", str(database), "--days-back", "6"]
        assert main([*run, "--as-of-date", as_of.isoformat()]) == (1 if no_files else 0)
    finally:
        patch.undo()
    return database


def _page(database: Path, out: Path) -> Path:
    assert main(["report", "--database", str(database), "--format", "html", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """name -> {database, page, as_of}."""
    built: dict[str, dict[str, Any]] = {}
    now = datetime.now(UTC)

    # The demo exactly as `make run` writes it: the CLI's demo command, default seed.
    root = tmp_path_factory.mktemp("html_demo")
    assert main(["demo", "--out", str(root / "demo_exports")]) == 0
    as_of = now.date()
    database = _build(root, root / "demo_exports", as_of)
    built["demo"] = {"database": database, "page": _page(database, root / "report.html"), "as_of": as_of}

    # Another seed and another day (three days ago): data the page was not tuned on.
    root = tmp_path_factory.mktemp("html_other")
    then = now - timedelta(days=3)
    write_demo(root / "exports", seed=20261127, now=then)
    database = _build(root, root / "exports", then.date())  # the demo's events end the day before `now`
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
    database = _build(root, exports, now.date())
    built["one_day"] = {"database": database, "page": _page(database, root / "report.html"), "as_of": now.date()}

    # Nothing exported yet: the marts are built empty.
    root = tmp_path_factory.mktemp("html_empty")
    (root / "exports").mkdir()
    database = _build(root, root / "exports", now.date(), no_files=True)
    built["empty"] = {"database": database, "page": _page(database, root / "report.html"), "as_of": now.date()}
    return built


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


@pytest.fixture(scope="module", params=["demo", "other"])
def opened(request: pytest.FixtureRequest, warehouses: dict, browser: Any) -> Iterator[tuple[Opened, dict]]:
    built = warehouses[request.param]
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
    impressions_30d, viewed, never, stale = _marts(
        built,
        "select sum(total_impressions_30d), count(*) filter (where total_impressions_30d > 0), "
        "count(*) filter (where last_impression_at is null), count(*) filter (where is_stale) "
        "from marts.sigma_workbook_impressions",
    )[0]
    # The 30 days before, from the daily mart: [as_of - 59, as_of - 29] (another route than the page's).
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


def _table(page: Opened, table_id: str, columns: list[str]) -> list[tuple[str, ...]]:
    return page.page.eval_on_selector_all(
        f"#{table_id} tbody tr",
        "(rows, columns) => rows.map(r => columns.map(c => r.querySelector(`td[data-col='${c}']`).dataset.v))",
        columns,
    )


def test_top_workbooks_table_equals_the_marts(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    expected = _marts(
        built,
        "select workbook_name, coalesce(owner_email, ''), total_impressions_14d, impressions_previous_14d, "
        "unique_users_14d, total_impressions_30d from marts.sigma_workbook_impressions "
        "where total_impressions_14d > 0 order by total_impressions_14d desc, unique_users_14d desc, workbook_name",
    )
    assert len(expected) >= 2
    shown = _table(
        page,
        "table-top-workbooks",
        [
            "workbook_name",
            "owner_email",
            "impressions_14d",
            "impressions_previous_14d",
            "unique_users_14d",
            "impressions_30d",
        ],
    )
    assert [tuple(r) for r in shown] == [tuple(str(v) for v in row) for row in expected[:25]]


def test_daily_chart_total_equals_the_daily_mart(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    as_of = built["as_of"]
    (total,) = _marts(
        built,
        "select sum(impressions) from marts.sigma_daily_impressions "
        "where impression_date between cast(? as date) - 89 and cast(? as date)",
        [as_of, as_of],
    )[0]
    plotted = page.page.evaluate(
        "document.getElementById('chart-daily-impressions').data[0].y.reduce((a, b) => a + b, 0)"
    )
    assert plotted == total


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


def test_tables_sort_on_click(opened: tuple[Opened, dict]) -> None:
    page, _ = opened
    header = page.page.locator("#table-top-workbooks th[data-col='impressions_14d']")
    header.click()
    ascending = [int(v) for (v,) in _table(page, "table-top-workbooks", ["impressions_14d"])]
    assert ascending == sorted(ascending)
    header.click()
    descending = [int(v) for (v,) in _table(page, "table-top-workbooks", ["impressions_14d"])]
    assert descending == sorted(ascending, reverse=True)


def test_cleanup_candidates_name_their_owner_and_days_since(opened: tuple[Opened, dict]) -> None:
    page, built = opened
    expected = _marts(
        built,
        "select workbook_name, coalesce(owner_email, ''), coalesce(cast(days_since_last_impression as varchar), '') "
        "from marts.sigma_workbook_impressions where total_impressions_30d = 0 or is_stale "
        "order by last_impression_at asc nulls first, workbook_name",
    )
    assert expected  # the demo has a workbook nobody opens and one abandoned
    shown = _table(page, "table-cleanup-workbooks", ["workbook_name", "owner_email", "days_since_last_impression"])
    assert [tuple(r) for r in shown] == [tuple(row) for row in expected]


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


def test_archived_and_deleted_workbooks_are_marked_in_cleanup(warehouses: dict, browser: Any, tmp_path: Path) -> None:
    """With the Sigma API inventory the marts carry is_archived / is_deleted: the page marks them."""
    database = _copy(warehouses["demo"]["database"], tmp_path)
    con = duckdb.connect(str(database))
    try:
        for column in ("is_archived", "is_deleted"):
            con.execute(f"alter table marts.sigma_workbook_impressions add column if not exists {column} boolean")
        con.execute("alter table marts.sigma_element_impressions add column if not exists is_deleted boolean")
        con.execute("update marts.sigma_workbook_impressions set is_archived = false, is_deleted = false")
        con.execute("update marts.sigma_element_impressions set is_deleted = false")
        archived, deleted = (
            row[0]
            for row in con.execute(
                "select workbook_url_id from marts.sigma_workbook_impressions where total_impressions_30d = 0 "
                "order by last_impression_at nulls first, workbook_url_id limit 2"
            ).fetchall()
        )
        con.execute(
            "update marts.sigma_workbook_impressions set is_archived = true where workbook_url_id = ?", [archived]
        )
        con.execute(
            "update marts.sigma_workbook_impressions set is_deleted = true where workbook_url_id = ?", [deleted]
        )
        names = dict(
            con.execute("select workbook_url_id, workbook_name from marts.sigma_workbook_impressions").fetchall()
        )
    finally:
        con.close()
    page = Opened(browser, _page(database, tmp_path / "report.html"))
    try:
        assert page.errors == [] and page.blocked == []
        tags = page.page.eval_on_selector_all(
            "#table-cleanup-workbooks tbody tr",
            "rows => rows.map(r => [r.querySelector(\"td[data-col='workbook_name']\").dataset.v,"
            " Array.from(r.querySelectorAll('.tag')).map(t => t.textContent)])",
        )
        assert [names[archived], ["archived"]] in tags
        assert [names[deleted], ["deleted"]] in tags
        assert sum(1 for _, t in tags if t) == 2
        # the elements of a deleted workbook are marked deleted too
        element_tags = page.page.eval_on_selector_all(
            "#table-cleanup-elements tbody tr",
            "rows => rows.map(r => [r.querySelector(\"td[data-col='workbook_name']\").dataset.v,"
            " Array.from(r.querySelectorAll('.tag.deleted')).length])",
        )
        assert all(count == 1 for name, count in element_tags if name == names[deleted])
        assert all(count == 0 for name, count in element_tags if name != names[deleted])
    finally:
        page.close()


def test_names_from_the_inventory_are_text_not_markup(warehouses: dict, browser: Any, tmp_path: Path) -> None:
    """Workbook, element and user names come from the inventory and the exports: the page shows
    them as text, in the tables and in the charts' inlined data."""
    hostile = "</script><script>window.__injected = 1</script><img src=x onerror='window.__injected = 2'>"
    database = _copy(warehouses["demo"]["database"], tmp_path)
    con = duckdb.connect(str(database))
    try:
        (workbook,) = con.execute(
            "select workbook_url_id from marts.sigma_workbook_impressions order by total_impressions_14d desc limit 1"
        ).fetchone()
        for mart in ("sigma_workbook_impressions", "sigma_daily_impressions"):
            con.execute(f"update marts.{mart} set workbook_name = ? where workbook_url_id = ?", [hostile, workbook])
    finally:
        con.close()
    page = Opened(browser, _page(database, tmp_path / "report.html"))
    try:
        assert page.errors == [] and page.blocked == []
        assert page.page.evaluate("window.__injected") is None
        assert hostile in page.page.inner_text("#table-top-workbooks")
        names = page.page.evaluate("document.getElementById('chart-top-workbooks').data[0].y")
        assert hostile in names
    finally:
        page.close()


def test_an_empty_warehouse_says_why_every_part_is_empty(warehouses: dict, browser: Any) -> None:
    page = Opened(browser, warehouses["empty"]["page"])
    try:
        assert page.errors == [] and page.blocked == []
        assert page.page.get_attribute("body", "data-charts-drawn") == "0"
        assert page.page.query_selector_all("div.chart") == []
        for chart in ("daily-impressions", "daily-users"):
            assert page.page.inner_text(f"#chart-{chart}-empty") == "no impressions loaded yet"
        assert page.page.inner_text("#table-top-workbooks-empty") == "no workbook impressions in the last 14 days"
        assert page.page.inner_text("#table-users-active-empty") == "nobody viewed a workbook in the last 30 days"
        assert page.page.inner_text("#table-users-inactive-empty") == "no user activity loaded yet"
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
