"""The demo export: deterministic, inside the loader's lookback, matching the shipped seeds; its raw
audit log in Sigma's shape, and its service account."""

from __future__ import annotations

import csv
import gzip
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loader.contract import REQUIRED, EventPatterns, counts_as_view, load_aliases, map_headers, project_dir
from sigma_impressions.demo import (
    AUDIT_LOG_HEADERS,
    AUDIT_LOG_NAME,
    DEMO_EXCLUDED_USERS,
    EXPECTED_REJECTED,
    LEGACY,
    SERVICE_ACCOUNT,
    SERVICE_ACCOUNT_WORKBOOKS,
    VIEW_EVENTS,
    DemoEvent,
    seed_rows,
    write_demo,
)
from tests.helpers.demo_facts import (
    dedupe,
    demo_facts,
    excluded_user_globs,
    impressions_written,
    make_run_vars,
    matches_glob,
)

NOW = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


def _read(path: Path) -> list[list[str]]:
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    return list(csv.reader(data.decode("utf-8-sig").splitlines()))


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    first = demo_facts(write_demo(tmp_path / "a", seed=7, now=NOW))
    again = demo_facts(write_demo(tmp_path / "b", seed=7, now=NOW))
    other = demo_facts(write_demo(tmp_path / "c", seed=8, now=NOW))
    assert [p.name for p in first.files] == [p.name for p in again.files]
    assert [p.read_bytes() for p in first.files] == [p.read_bytes() for p in again.files]
    assert first.workbook_impressions == again.workbook_impressions
    assert first.total_impressions != other.total_impressions
    # later in the same day: same content (only the modification times move)
    later = write_demo(tmp_path / "d", seed=7, now=NOW + timedelta(hours=3))
    assert [p.read_bytes() for p in later.files] == [p.read_bytes() for p in first.files]


def test_files_look_like_sigma_exports(tmp_path: Path) -> None:
    facts = write_demo(tmp_path, now=NOW)
    names = [p.name for p in facts.files]
    assert len(names) == 7
    assert any(n.endswith(".csv.gz") for n in names) and any(n.endswith(".csv") for n in names)
    assert names[0] == "sigma_audit_run-1.csv.gz" and names[5] == "sigma_audit_run-6.csv"
    assert names[6] == AUDIT_LOG_NAME == "sigma_audit_log-7.csv"
    aliases = load_aliases(project_dir())
    headers = [_read(p)[0] for p in facts.files]
    assert len({tuple(h) for h in headers}) >= 6  # spellings differ between files
    for header in headers:
        mapping = map_headers(header, aliases)
        assert all(mapping[c] for c in (*REQUIRED, "element_id"))
        # only the raw audit log has event columns: the view exports' rows all count
        assert bool(mapping["event_name"]) == bool(mapping["event_status"]) == (header == list(AUDIT_LOG_HEADERS))
    assert facts.files[4].read_bytes()[:2] == b"\x1f\x8b"  # gzip, with a BOM inside
    assert gzip.decompress(facts.files[4].read_bytes())[:3] == b"\xef\xbb\xbf"
    assert sum(len(_read(p)) - 1 for p in facts.files) == facts.total_rows


def test_modification_times_fall_in_the_default_lookback(tmp_path: Path) -> None:
    facts = write_demo(tmp_path)  # now = the real clock, as `make run` does
    mtimes = [os.stat(p).st_mtime for p in facts.files]
    assert len(mtimes) == 7
    assert mtimes == sorted(mtimes)
    assert all(time.time() - 3 * 24 * 3600 + 600 < m <= time.time() for m in mtimes)


def test_the_demo_has_what_the_issue_asks(tmp_path: Path) -> None:
    export = write_demo(tmp_path, now=NOW)
    facts = demo_facts(export)
    assert (export.events, export.users) == (facts.events, facts.users)  # what `demo` prints
    assert len(facts.users) >= 12
    workbooks, _ = seed_rows()
    known = {w[0] for w in workbooks}
    assert facts.unused_workbook_url_id in known
    assert facts.workbook_impressions[facts.unused_workbook_url_id][90] == 0
    assert facts.workbook_impressions[facts.stale_workbook_url_id][30] == 0
    assert facts.workbook_impressions[facts.stale_workbook_url_id][90] > 0
    assert facts.unknown_workbook_url_id not in known
    assert any(k[0] == facts.unknown_workbook_url_id for k in facts.unmatched)
    assert facts.unmatched[(*facts.unknown_element, "unknown_element")] > 0
    assert facts.unviewed_element_ids
    assert facts.events < facts.total_rows  # re-sent and split rows
    assert facts.total_impressions > facts.events  # counts > 1
    assert sum(EXPECTED_REJECTED.values()) == sum(facts.rejected.values())
    rows = [r for p in facts.files for r in _read(p)[1:]]
    assert any(len(r) > 5 and r[0] == "MALFORMED" for r in rows)
    # windows nest
    for counts in facts.workbook_impressions.values():
        assert counts[7] <= counts[14] <= counts[30] <= counts[60] <= counts[90]


def test_seeds_match_the_demo_inventory() -> None:
    workbooks, elements = seed_rows()
    seeds = project_dir() / "seeds"
    with open(seeds / "sigma_workbooks.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "workbook_url_id",
        "workbook_id",
        "name",
        "path",
        "owner_email",
        "created_at",
        "updated_at",
    ]
    assert rows[1:] == workbooks
    with open(seeds / "sigma_workbook_elements.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["workbook_url_id", "element_id", "page_name", "name", "element_type"]
    assert rows[1:] == elements


def test_dedupe_latest_file_wins_and_rows_of_one_file_add_up() -> None:
    at = datetime(2026, 11, 20, 10, 0)
    a = DemoEvent(at, "u@x", "wb", None, 1)
    written = [(0, a), (1, DemoEvent(at, "u@x", "wb", None, 2)), (1, DemoEvent(at, "u@x", "wb", None, 1))]
    assert dedupe(written) == {a.key: 3}
    assert dedupe([(0, a), (0, a)]) == {a.key: 2}


def test_cli_demo_writes_the_files(tmp_path: Path, capsys) -> None:
    from sigma_impressions.cli import main

    assert main(["demo", "--out", str(tmp_path / "out"), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "wrote 7 export file(s)" in out
    assert f"file://{tmp_path / 'out'}" in out
    assert len(list((tmp_path / "out").iterdir())) == 7


def test_the_audit_log_is_sigmas_raw_shape(tmp_path: Path) -> None:
    export = write_demo(tmp_path, now=NOW)
    path = export.files[-1]
    rows = _read(path)
    header, data = rows[0], rows[1:]
    # the log's friendly names, Title Case; the category is no event name alias
    assert header == list(AUDIT_LOG_HEADERS)
    assert all(word[:1].isupper() for name in header for word in name.split())
    mapping = map_headers(header, load_aliases(project_dir()))
    assert mapping["request_time"] == ["Event Time"] and mapping["event_name"] == ["Event Name"]
    assert mapping["event_status"] == ["Event Status"] and not mapping["count"]
    assert all("Event Type" not in feeding for feeding in mapping.values())
    # the file holds exactly the rows the export describes, one per event, in time order
    audit = [row for _, row in export.audit_rows]
    assert {index for index, _ in export.audit_rows} == {6}
    assert len(data) == len(audit) == sum(export.audit_log_events.values())
    column = {name: header.index(name) for name in header}
    assert [r[column["Event Name"]] for r in data] == [row.event_name for row in audit]
    assert [r[column["Workbook URL ID"]] for r in data] == [row.workbook or "" for row in audit]
    assert [row.at for row in audit] == sorted(row.at for row in audit)
    # several categories, views that succeed and fail, other events that never count
    assert {r[column["Event Type"]] for r in data} == {
        "ACCESS_SIGMA",
        "OBJECT_INTERACTION",
        "QUERY_EXECUTIONS",
        "EXPORTS",
    }
    events = export.audit_log_events
    for name, status in [
        ("Open Workbook", "Success"),
        ("View Element", "Success"),
        ("Open Workbook", "Failure"),
        ("View Element", "Failure"),
        ("Sign In", "Success"),
        ("Sign In", "Failure"),
        ("Sign Out", "Success"),
        ("Run Query", "Success"),
        ("Run Query", "Failure"),
        ("Export Workbook", "Success"),
    ]:
        assert events.get((name, status), 0) > 0, (name, status)
    denied = {row.workbook for row in audit if row.event_name == "Open Workbook" and row.event_status == "Failure"}
    assert denied == {LEGACY}  # the unused workbook stays unopened
    sign_ins = [row for row in audit if row.event_type == "ACCESS_SIGMA"]
    assert sign_ins and all(row.workbook is None and row.element is None for row in sign_ins)
    assert all(r[column["Workbook URL ID"]] == "" for r in data if r[column["Event Type"]] == "ACCESS_SIGMA")
    assert all(r[column["Event Status Reason Code"]] for r in data if r[column["Event Status"]] == "Failure")
    # an element view's query shares its event key: only the view is an impression
    views = {row.as_event().key for row in audit if row.is_view}
    queries = {(row.at, row.user, row.workbook, row.element) for row in audit if row.event_name == "Run Query"}
    assert queries & views


def test_the_default_patterns_count_only_what_the_demo_writes_as_views(tmp_path: Path) -> None:
    export = write_demo(tmp_path, now=NOW)
    patterns = EventPatterns()  # the defaults, as dbt_project.yml sets them
    names = {(row.event_name, row.event_status, row.is_view) for _, row in export.audit_rows}
    for name, status, is_view in names:
        assert counts_as_view(name, status, True, True, patterns) == is_view, (name, status)
    assert {name for name, _, is_view in names if is_view} == set(VIEW_EVENTS)
    # rows without a workbook id (sign-ins, sign-outs) are never views, so never rejected
    assert all(row.workbook is not None for _, row in export.audit_rows if row.is_view)
    facts = demo_facts(export)
    assert facts.rejected == EXPECTED_REJECTED
    assert facts.audit_log_events == {
        key: (n, key[0] in VIEW_EVENTS and key[1] == "Success") for key, n in export.audit_log_events.items()
    }
    assert impressions_written(export, patterns) == export.impressions_written


def test_the_audit_log_overlaps_the_view_exports_and_adds_the_evening(tmp_path: Path) -> None:
    export = write_demo(tmp_path, now=NOW)
    in_view_exports = {event.key for _, event in export.written}
    in_audit_log = {event.key for index, event in export.impressions_written if index == 6}
    shared, only_here = in_audit_log & in_view_exports, in_audit_log - in_view_exports
    assert shared and only_here
    last_view_run = datetime(2026, 11, 25, 18, 0)
    assert all(key[0] >= last_view_run for key in only_here)
    assert any(key[1] != SERVICE_ACCOUNT for key in only_here)  # people's impressions move the marts too
    facts = demo_facts(export)
    # the newest file wins the events it holds
    assert facts.events_by_file[AUDIT_LOG_NAME] == len(in_audit_log)
    assert sum(facts.events_by_file.values()) == facts.events


def test_the_service_account(tmp_path: Path) -> None:
    export = write_demo(tmp_path, now=NOW)
    rows = export.service_account_events
    assert SERVICE_ACCOUNT in export.users
    assert {event.workbook for _, event in rows} == set(SERVICE_ACCOUNT_WORKBOOKS)
    assert all(event.element is None for _, event in rows)  # workbook opens
    assert {index for index, _ in rows} == set(range(7))  # in every file
    # every hour of yesterday (up to the audit log's end, 22:00), a couple of workbooks
    yesterday = {event.key for _, event in rows if event.at.date() == datetime(2026, 11, 25).date()}
    assert len(yesterday) == 22 * len(SERVICE_ACCOUNT_WORKBOOKS)
    assert any(row.user == SERVICE_ACCOUNT and row.event_name == "Export Workbook" for _, row in export.audit_rows)
    # not a Sigma member
    with open(project_dir() / "seeds" / "sigma_members.csv", newline="", encoding="utf-8") as handle:
        assert SERVICE_ACCOUNT not in {row["email"].lower() for row in csv.DictReader(handle)}

    # counted, it tops the report; under the demo's rule it counts only as excluded
    counted = demo_facts(export)
    top = max(counted.user_impressions, key=lambda user: counted.user_impressions[user][14])
    assert top == SERVICE_ACCOUNT and not counted.excluded
    facts = demo_facts(export, DEMO_EXCLUDED_USERS)
    assert SERVICE_ACCOUNT not in facts.users and set(facts.users) == set(counted.users) - {SERVICE_ACCOUNT}
    assert {key[0] for key in facts.excluded} == {SERVICE_ACCOUNT}
    assert {key[2] for key in facts.excluded} == {"user_pattern"}
    assert all(total > in_30d > 0 for total, in_30d in facts.excluded.values())  # it began before the 30 days
    own = dedupe(rows)
    assert sum(total for total, _ in facts.excluded.values()) == sum(own.values())
    assert (facts.events, facts.total_impressions) == (counted.events, counted.total_impressions)  # all in fct
    for workbook in SERVICE_ACCOUNT_WORKBOOKS:
        assert facts.workbook_excluded_30d[workbook] > 0
        assert facts.workbook_impressions[workbook][30] < counted.workbook_impressions[workbook][30]
    assert facts.team_usage["(no team)"][2] < counted.team_usage["(no team)"][2]


def test_make_run_passes_the_demos_exclusion_rule() -> None:
    assert excluded_user_globs(make_run_vars()) == DEMO_EXCLUDED_USERS
    assert matches_glob(SERVICE_ACCOUNT, DEMO_EXCLUDED_USERS[0])
    assert not matches_glob("maria.lopez@acme.example", DEMO_EXCLUDED_USERS[0])


def test_the_exclusion_glob() -> None:
    assert matches_glob("ETL-Bot@SVC.acme.example", "*@svc.acme.example")
    assert matches_glob("etl-nightly@x.io", "etl-*")
    assert not matches_glob("maria.etl-@x.io", "etl-*")  # the whole email
    assert matches_glob("a.b@x.io", "a.b@x.io") and not matches_glob("axb@x.io", "a.b@x.io")  # `.` is literal
    assert matches_glob("a?b@x.io", "a?b@*") and not matches_glob("acb@x.io", "a?b@*")  # only `*` is special
