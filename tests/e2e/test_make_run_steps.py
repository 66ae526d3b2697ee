"""`make run`, step by step, in a temporary folder (tests/helpers/make_run.py: demo -> API stand-in
+ run with the demo's vars -> report, yesterday, today and again today), once per session
(tests/e2e/conftest.py). Everything goes under tmp_path: the DuckDB files, and dbt's target and
log folders (DBT_TARGET_PATH / DBT_LOG_PATH), so it never clashes with other tests or with a
`make run` in the checkout. The report (--format json) and the marts are checked against the facts
of the demo's oracle (tests/helpers/demo_facts.py: the event rule, dedup, windows and the exclusion
rule, in Python).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from sigma_impressions.cli import main
from sigma_impressions.demo import AUDIT_LOG_NAME, SERVICE_ACCOUNT
from tests.helpers.demo_facts import NO_TEAM, WINDOWS, DemoFacts
from tests.helpers.make_run import report_json

pytestmark = pytest.mark.dbt


@pytest.fixture
def pipeline(make_run_pipeline: dict) -> dict:
    built = make_run_pipeline
    return {**built, "database": str(built["database"]), "snapshot": str(built["snapshot"])}


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
    assert report_json(pipeline["database"]) == pipeline["reports"][-1]


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
    expected_popular = {w for w, c in facts.workbook_impressions.items() if c[30] > 0}
    assert set(popular) == expected_popular
    for workbook, row in popular.items():
        assert row["impressions_14d"] == facts.workbook_impressions[workbook][14], workbook
        assert row["impressions_30d"] == facts.workbook_impressions[workbook][30], workbook
        assert row["unique_users_14d"] == facts.workbook_unique_users[workbook][14], workbook
        assert row["unique_users_30d"] == facts.workbook_unique_users[workbook][30], workbook
    ranked = [r["impressions_30d"] for r in report["popular"]]
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
    assert unused[facts.unused_workbook_url_id]["status"] == "never viewed"  # its failed opens do not count
    assert unused[facts.unused_workbook_url_id]["owner_email"]
    assert unused[facts.stale_workbook_url_id]["status"] == "stale"
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
    assert set(users) == {user for user in facts.users if facts.user_impressions[user][30] > 0}
    with duckdb.connect(pipeline["database"], read_only=True) as con:
        columns = ", ".join(f"impressions_{n}d" for n in (7, 14, 30, 60))
        rows = con.execute(f"select user_email, {columns} from marts.sigma_user_activity").fetchall()
    assert {r[0]: list(r[1:]) for r in rows} == {
        user: [counts[n] for n in (7, 14, 30, 60)] for user, counts in facts.user_impressions.items()
    }
    for user, row in users.items():
        for days in (7, 14, 30):
            assert row[f"impressions_{days}d"] == facts.user_impressions[user][days], (user, days)
        assert row["is_active_14d"] == (facts.user_impressions[user][14] > 0)
    assert report["files"] == []  # every demo file has the columns it needs
    rejected = {r["reason"]: r["rows_rejected"] for r in report["rejected"]}
    assert rejected == facts.rejected
    assert all(r["fix"] for r in report["rejected"])


def _query(pipeline: dict, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(pipeline["database"], read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _file_name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def test_the_service_account_is_excluded_in_the_open(pipeline: dict) -> None:
    facts, unexcluded = _facts(pipeline), pipeline["unexcluded"]
    rows = _query(
        pipeline,
        "select user_email, workbook_url_id, reason, impressions_total, impressions_30d "
        "from marts.sigma_excluded_impressions",
    )
    assert {
        (user, workbook, reason): (total, in_30d) for user, workbook, reason, total, in_30d in rows
    } == facts.excluded
    assert {row[0] for row in rows} == {SERVICE_ACCOUNT} and {row[2] for row in rows} == {"user_pattern"}
    # its impressions stay in fct_sigma_impressions, with the reason
    in_fct = _query(
        pipeline,
        "select exclusion_reason, sum(impression_count) from marts.fct_sigma_impressions "
        "where user_email = ? group by all",
        SERVICE_ACCOUNT,
    )
    assert in_fct == [("user_pattern", sum(total for total, _ in facts.excluded.values()))]
    assert _query(
        pipeline, "select distinct user_email from marts.fct_sigma_impressions where exclusion_reason is not null"
    ) == [(SERVICE_ACCOUNT,)]
    # counted, it would top the users; excluded, it is in no count but excluded_impressions_30d
    top = max(unexcluded.user_impressions, key=lambda user: unexcluded.user_impressions[user][14])
    assert top == SERVICE_ACCOUNT
    assert SERVICE_ACCOUNT not in {row["user_email"] for row in pipeline["reports"][-1]["users"]}
    assert not _query(pipeline, "select 1 from marts.sigma_user_activity where user_email = ?", SERVICE_ACCOUNT)
    excluded_30d = _query(
        pipeline, "select workbook_url_id, excluded_impressions_30d from marts.sigma_workbook_impressions"
    )
    assert dict(excluded_30d) == facts.workbook_excluded_30d
    # the report says so (it reads the snapshot the run published)
    shown = [(r["reason"], r["users"], r["impressions_total"]) for r in pipeline["reports"][-1]["excluded"]]
    assert shown == [("user_pattern", 1, sum(total for total, _ in facts.excluded.values()))]


def test_the_audit_logs_event_mix_and_what_counts(pipeline: dict) -> None:
    facts = _facts(pipeline)
    rows = _query(
        pipeline, "select file_uri, event_name, event_status, row_count, is_view_event from marts.sigma_export_events"
    )
    mix: dict[str, dict[tuple, tuple[int, bool]]] = {}
    for uri, name, status, count, is_view in rows:
        mix.setdefault(_file_name(uri), {})[(name, status)] = (count, is_view)
    assert set(mix) == {path.name for path in facts.files}
    assert mix[AUDIT_LOG_NAME] == facts.audit_log_events
    assert {is_view for _, is_view in mix[AUDIT_LOG_NAME].values()} == {True, False}  # counted and not
    for name, events in mix.items():
        if name != AUDIT_LOG_NAME:  # no event columns: every row counts
            assert list(events) == [(None, None)] and events[(None, None)][1], name
    # sign-ins without a workbook id are other events, not rejected impressions
    rejected_files = _query(pipeline, "select distinct _file_uri from marts.sigma_rejected_impressions")
    assert rejected_files and not any(_file_name(uri) == AUDIT_LOG_NAME for (uri,) in rejected_files)
    # the newest file wins the events it holds: the audit log's views are counted once
    won = _query(pipeline, "select _file_uri, count(*) from marts.fct_sigma_impressions group by all")
    assert {_file_name(uri): n for uri, n in won} == {name: n for name, n in facts.events_by_file.items() if n}
    assert facts.events_by_file[AUDIT_LOG_NAME] > 0


def test_team_usage_has_every_team_and_no_team(pipeline: dict) -> None:
    facts = _facts(pipeline)
    rows = _query(
        pipeline,
        "select team_name, member_count, active_members_14d, impressions_30d, workbooks_viewed_30d "
        "from marts.sigma_team_usage",
    )
    usage = {row[0]: tuple(row[1:]) for row in rows}
    assert len(rows) == len(usage) == len(facts.team_usage)  # a row per team, plus (no team)
    assert NO_TEAM in usage and usage == facts.team_usage
    assert _query(pipeline, "select team_id from marts.sigma_team_usage where team_name = ?", NO_TEAM) == [(None,)]
    shown = {r["team_name"]: r["impressions_30d"] for r in pipeline["reports"][-1]["teams"]}
    assert shown == {team: counts[2] for team, counts in facts.team_usage.items()}


def test_a_failed_publish_after_a_good_build_exits_1_with_one_line(
    pipeline: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the snapshot's folder should be")
    before = Path(pipeline["snapshot"]).read_bytes()
    # A copy of the shared warehouse (same file name: DuckDB names the catalog after the file).
    database = tmp_path / "copy" / Path(pipeline["database"]).name
    database.parent.mkdir()
    shutil.copy(pipeline["database"], database)
    argv = ["run", "--bucket-uri", f"file://{tmp_path}/none", "--database", str(database)]
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
