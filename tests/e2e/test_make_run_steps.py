"""`make run`, step by step, in a temporary folder: demo -> load -> dbt build -> report.

The steps go through the real CLI (`sigma-impressions demo/load/run/report` via sigma_impressions.cli.main)
and the real dbt runner, into a DuckDB file under tmp_path, with dbt's target and log folders
under tmp_path too (DBT_TARGET_PATH / DBT_LOG_PATH), so it never clashes with other tests or with
a `make run` in the checkout. The report (--format json) and the marts are checked against the
facts the demo generated (computed in Python with the documented dedup and window rules).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from sigma_impressions.cli import main
from sigma_impressions.demo import write_demo
from tests.helpers.demo_facts import WINDOWS, DemoFacts, demo_facts


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`make run` on one day, then twice on the next day, into the same folder and database.

    The first run writes the demo as it would have been written yesterday (its files are older,
    hence --days-back 6); the next runs rewrite the same files, so the loader replaces their rows
    and the incremental fct drops yesterday's shifted events: the marts must equal today's facts.
    """
    root = tmp_path_factory.mktemp("make_run")
    exports = root / "demo_exports"
    database = root / "warehouse" / "sigma_impressions.duckdb"
    snapshot = root / "warehouse" / "sigma_impressions_marts.duckdb"
    patch = pytest.MonkeyPatch()
    patch.setenv("DBT_TARGET_PATH", str(root / "target"))
    patch.setenv("DBT_LOG_PATH", str(root / "logs"))
    patch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    patch.delenv("SIGMA_IMPRESSIONS_DUCKDB_PATH", raising=False)
    now = datetime.now(UTC)
    reports = []
    try:
        for when in (now - timedelta(days=1), now, now):
            facts = demo_facts(write_demo(exports, now=when))
            run = [
                "run",
                "--bucket-uri",
                f"file://{exports}",
                "--database",
                str(database),
                "--published-database",
                str(snapshot),
                "--days-back",
                "6",
                "--as-of-date",
                facts.as_of_date.isoformat(),
            ]
            assert main(run) == 0
            reports.append(_report(database))
    finally:
        patch.undo()
    return {"facts": facts, "database": str(database), "snapshot": str(snapshot), "reports": reports}


def _report(database: Path | str, *options: str) -> dict:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["report", *options, "--format", "json", "--limit", "1000"] + ["--database", str(database)] * bool(database)
        )
    assert code == 0
    return json.loads(out.getvalue())


def test_the_snapshot_holds_the_working_marts_and_the_report_reads_it(pipeline: dict) -> None:
    def marts(path: str) -> dict[str, list[tuple]]:
        with duckdb.connect(path, read_only=True) as con:
            names = con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = current_database() and table_schema = 'marts' order by 1"
            ).fetchall()
            return {n: con.execute(f'select * from marts."{n}" order by all').fetchall() for (n,) in names}

    published = marts(pipeline["snapshot"])
    assert published == marts(pipeline["database"])
    assert set(published) >= {"sigma_workbook_impressions", "fct_sigma_impressions", "sigma_user_activity"}
    assert _report("", "--published-database", pipeline["snapshot"]) == pipeline["reports"][-1]


def _facts(pipeline: dict) -> DemoFacts:
    return pipeline["facts"]


def test_running_again_gives_the_same_report(pipeline: dict) -> None:
    yesterday, today, again = pipeline["reports"]
    assert today == again
    assert yesterday != today  # the demo moves with the clock


def test_workbook_impressions_match_the_demo(pipeline: dict) -> None:
    facts = _facts(pipeline)
    report = pipeline["reports"][-1]
    popular = {r["workbook_url_id"]: r for r in report["popular"]}
    expected_popular = {w for w, c in facts.workbook_impressions.items() if c[14] > 0}
    assert set(popular) == expected_popular
    for workbook, row in popular.items():
        assert row["impressions_14d"] == facts.workbook_impressions[workbook][14], workbook
        assert row["impressions_30d"] == facts.workbook_impressions[workbook][30], workbook
        assert row["unique_users_14d"] == facts.workbook_unique_users[workbook][14], workbook
    ranked = [r["impressions_14d"] for r in report["popular"]]
    assert ranked == sorted(ranked, reverse=True)

    with duckdb.connect(pipeline["database"], read_only=True) as con:
        columns = ", ".join(f"total_impressions_{n}d" for n in WINDOWS)
        rows = con.execute(f"select workbook_url_id, {columns} from marts.sigma_workbook_impressions").fetchall()
        marts = {r[0]: dict(zip(WINDOWS, r[1:], strict=True)) for r in rows}
        assert marts == facts.workbook_impressions
        rows = con.execute(
            f"select workbook_url_id, element_id, {columns} from marts.sigma_element_impressions"
        ).fetchall()
        elements = {(r[0], r[1]): dict(zip(WINDOWS, r[2:], strict=True)) for r in rows}
        assert elements == facts.element_impressions
        events, impressions = con.execute(
            "select count(*), sum(impression_count) from marts.fct_sigma_impressions"
        ).fetchone()
        assert (events, impressions) == (facts.events, facts.total_impressions)


def test_unused_workbook_and_elements_are_listed(pipeline: dict) -> None:
    facts = _facts(pipeline)
    report = pipeline["reports"][-1]
    unused = {r["workbook_url_id"]: r for r in report["unused_workbooks"]}
    assert unused[facts.unused_workbook_url_id]["status"] == "never opened"
    assert unused[facts.unused_workbook_url_id]["owner_email"]
    assert unused[facts.stale_workbook_url_id]["status"] == "not opened in 30 days"
    expected = {w for w, c in facts.workbook_impressions.items() if c[30] == 0}
    assert set(unused) == expected
    unused_elements = {(r["workbook_url_id"], r["element_id"]) for r in report["unused_elements"]}
    assert set(facts.unviewed_element_ids) <= unused_elements
    assert unused_elements == {e for e, c in facts.element_impressions.items() if c[30] == 0}


def test_unknown_workbook_and_element_are_unmatched(pipeline: dict) -> None:
    facts = _facts(pipeline)
    report = pipeline["reports"][-1]
    unmatched = {(r["workbook_url_id"], r["element_id"], r["reason"]): r for r in report["unmatched"]}
    assert {k: r["impressions"] for k, r in unmatched.items()} == facts.unmatched
    assert any(k[0] == facts.unknown_workbook_url_id and k[2] == "unknown_workbook" for k in unmatched)
    assert (*facts.unknown_element, "unknown_element") in unmatched
    assert all(r["fix"] for r in report["unmatched"])


def test_users_and_rejected_rows(pipeline: dict) -> None:
    facts = _facts(pipeline)
    report = pipeline["reports"][-1]
    users = {r["user_email"]: r for r in report["users"]}
    assert set(users) == set(facts.users)
    for user, row in users.items():
        for days in (7, 14, 30):
            assert row[f"impressions_{days}d"] == facts.user_impressions[user][days], (user, days)
        assert row["is_active_14d"] == (facts.user_impressions[user][14] > 0)
    assert report["files"] == []  # every demo file has the columns it needs
    rejected = {r["reason"]: r["rows_rejected"] for r in report["rejected"]}
    assert rejected == facts.rejected
    assert all(r["fix"] for r in report["rejected"])


def test_a_failed_publish_after_a_good_build_exits_1_with_one_line(
    pipeline: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the snapshot's folder should be")
    before = Path(pipeline["snapshot"]).read_bytes()
    argv = ["run", "--bucket-uri", f"file://{tmp_path}/none", "--database", pipeline["database"]]
    argv += ["--days-back", "6", "--as-of-date", _facts(pipeline).as_of_date.isoformat()]
    patch = pytest.MonkeyPatch()
    patch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    patch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    try:
        (tmp_path / "none").mkdir()
        code = main([*argv, "--published-database", str(blocker / "snap.duckdb")])
    finally:
        patch.undo()
    out, err = capsys.readouterr()
    assert code == 1
    assert "dbt build: " in out and "publish: " not in out
    errors = err.strip().splitlines()
    assert len(errors) == 1, err
    assert errors[0].startswith("sigma-impressions: error: publish failed, the previous snapshot is unchanged: ")
    assert "cannot write the snapshot" in errors[0]
    assert Path(pipeline["snapshot"]).read_bytes() == before
