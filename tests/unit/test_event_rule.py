"""The event rule (loader.contract.counts_as_view): which rows of a raw audit-log export are impressions,
the patterns read from dbt_project.yml, and `check`'s tally of a file's events."""

from __future__ import annotations

from pathlib import Path

import pytest

from loader.check import EVENT_LINES, EventMix, tally_events
from loader.contract import (
    EventPatterns,
    counts_as_view,
    event_patterns,
    load_aliases,
    map_header_positions,
    resolve_value,
)

DEFAULT = EventPatterns()


def counts(name: str | None, status: str | None, patterns: EventPatterns = DEFAULT) -> bool:
    """The rule for a file that has both columns."""
    return counts_as_view(name, status, True, True, patterns)


def test_the_defaults_are_the_dbt_project_vars() -> None:
    assert event_patterns() == EventPatterns("view|open", "success|succeeded|ok")
    assert {"event_name", "event_status"} <= set(load_aliases())


@pytest.mark.parametrize(
    ("name", "status", "counted"),
    [
        ("Open Workbook", "Success", True),
        ("OPEN WORKBOOK", "SUCCEEDED", True),
        ("view element", "oK", True),
        ("Workbook Viewed", "success", True),  # searched anywhere in the name
        (" \tView Workbook\t ", "\t Success  ", True),  # trimmed: spaces and tabs
        ("Open Workbook", "", True),  # an empty status counts
        ("Open Workbook", " \t ", True),  # blank is empty
        ("Open Workbook", None, True),
        ("", "Success", False),  # an empty name never counts
        (" \t", "Success", False),
        (None, "Success", False),
        ("Sign In", "Success", False),
        ("Open Workbook", "Failed", False),
        ("Open Workbook", "successful", False),  # the status must match in full
        ("Open Workbook", "not ok", False),
        ("Open Workbook", "okay", False),
    ],
)
def test_a_file_with_both_columns(name: str | None, status: str | None, counted: bool) -> None:
    assert counts(name, status) is counted


def test_a_file_with_neither_column_counts_every_row() -> None:
    for name, status in [(None, None), ("", ""), ("Sign In", "Failed")]:
        assert counts_as_view(name, status, False, False, DEFAULT)


def test_only_the_columns_the_file_has_are_judged() -> None:
    # No status column: the name decides (a status value cannot come from nowhere, but it is ignored).
    assert counts_as_view("Open Workbook", "Failed", True, False, DEFAULT)
    assert not counts_as_view("Sign In", None, True, False, DEFAULT)
    assert not counts_as_view("", None, True, False, DEFAULT)
    # No name column: the status decides.
    assert counts_as_view(None, "Success", False, True, DEFAULT)
    assert counts_as_view(None, "", False, True, DEFAULT)
    assert not counts_as_view("Open Workbook", "Failed", False, True, DEFAULT)


def test_patterns_with_regex_metacharacters() -> None:
    patterns = EventPatterns(view_event=r"view\.workbook|a+b", success_status=r"(?:done|complete)d?")
    assert counts("View.Workbook", "done", patterns)
    assert not counts("viewXworkbook", "done", patterns)  # the dot is escaped
    assert counts("xAAAB", "Completed", patterns)  # a+b, case-insensitive, anywhere
    assert not counts("b", "done", patterns)
    assert counts("View.Workbook", "COMPLETE", patterns)
    assert not counts("View.Workbook", "completely", patterns)  # in full
    grouped = EventPatterns(view_event="(?:open)", success_status="success")
    assert counts("Reopen Workbook", "Success", grouped)
    assert not counts("Close Workbook", "Success", grouped)
    assert not counts("Open Workbook", "successful", grouped)  # partial, not full


def test_a_name_column_with_every_value_empty_counts_nothing() -> None:
    headers = ["Event Name", "Event Status", "User Email", "Timestamp", "Workbook URL ID"]
    records = [["", "Success", "a@x.com", "2026-11-25 10:00", "wb1"], [" \t", "", "b@x.com", "2026-11-25", "wb1"]]
    mix = tally_events(headers, records, load_aliases(), DEFAULT)
    assert (mix.has_name_column, mix.has_status_column) == (True, True)
    assert (mix.total, mix.counted, mix.no_view_events) == (2, 0, True)


def test_each_value_is_the_first_non_blank_alias_of_its_row() -> None:
    aliases = load_aliases()
    headers = ["Action", "user_email", "EVENT", "status"]  # event_name aliases: event_name, event, action
    positions = map_header_positions(headers, aliases)
    assert positions["event_name"] == [2, 0] and positions["event_status"] == [3]
    assert resolve_value(["Open", "a@x.com", "  View  ", "ok"], positions["event_name"]) == "View"
    assert resolve_value(["Open", "a@x.com", " \t ", "ok"], positions["event_name"]) == "Open"
    assert resolve_value(["", "a@x.com", "", "ok"], positions["event_name"]) == ""
    mix = tally_events(headers, [["Open", "a@x.com", "", " OK "], ["Sign In", "b@x.com", "", ""]], aliases, DEFAULT)
    assert mix.rows == {("Open", "OK"): 1, ("Sign In", ""): 1}
    assert mix.counted == 1


def test_a_file_without_event_columns_is_not_read_for_events() -> None:
    def unread() -> list[list[str]]:
        raise AssertionError("the records of a file without event columns are not read")

    headers = ["request_time", "user_email", "workbook_url_id"]
    mix = tally_events(headers, iter(unread, None), load_aliases(), DEFAULT)
    assert not mix.no_view_events
    assert mix.lines("file:///x.csv") == ["events in file:///x.csv: no event name or status column: every row counts"]


def test_the_event_lines_are_bounded() -> None:
    mix = EventMix(True, True, DEFAULT)
    for n in range(EVENT_LINES + 5):
        mix.rows[f"Event {n:02d}", "Success"] = 100 - n
    mix.rows["Open Workbook", "Success"] = 500
    lines = mix.lines("s3://b/x.csv")
    assert lines[0] == f"events in s3://b/x.csv (event name / status: rows): 500 of {mix.total:,} rows counted"
    assert lines[1] == "  'Open Workbook' / 'Success': 500 rows, counted"
    assert lines[2] == "  'Event 00' / 'Success': 100 rows, not counted"
    assert len(lines) == 1 + EVENT_LINES + 1
    assert lines[-1] == f"  ... 6 more: {sum(100 - n for n in range(EVENT_LINES - 1, EVENT_LINES + 5)):,} rows"


def _project(tmp_path: Path, text: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "dbt_project.yml").write_text(text)
    return tmp_path


def test_patterns_are_read_from_the_project_vars(tmp_path: Path) -> None:
    assert event_patterns(_project(tmp_path / "none", "name: p\n")) == DEFAULT
    custom = "vars:\n  sigma_view_event_pattern: 'workbook (opened|viewed)'\n  sigma_success_status_pattern: '200'\n"
    assert event_patterns(_project(tmp_path / "custom", custom)) == EventPatterns("workbook (opened|viewed)", "200")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("''", "must be a regular expression"), ("42", "must be a regular expression"), ("'(open'", "not a valid")],
)
def test_a_bad_pattern_names_its_var(tmp_path: Path, value: str, fragment: str) -> None:
    project = _project(tmp_path, f"vars:\n  sigma_view_event_pattern: {value}\n")
    with pytest.raises(ValueError, match=fragment) as raised:
        event_patterns(project)
    assert "vars.sigma_view_event_pattern" in str(raised.value)
