"""The test oracle for the demo export: the marts' expected numbers, computed in Python from the
rows the demo wrote with the documented rules, independently of the SQL models:

- the event rule (loader.contract.counts_as_view, the patterns of dbt_project.yml): which rows of
  the raw audit log are impressions; the others are neither counted nor rejected;
- dedup: the latest file holding an event wins, its rows of the event add up;
- who counts: impressions of users matching an excluded-user glob (vars.sigma_excluded_users,
  `*` any run of characters, case-insensitive) stay in fct_sigma_impressions and count nowhere
  else but sigma_excluded_impressions and the marts' excluded_impressions_30d;
- windows of vars.impression_windows ending at as_of_date; teams as the demo's Sigma API
  stand-in serves them (the seeds).

`demo_facts(export)` gives the facts with no exclusion rule, `demo_facts(export,
excluded_user_globs(make_run_vars()))` those of `make run`."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from loader.contract import EventPatterns, counts_as_view, event_patterns, impression_windows, project_dir
from sigma_impressions.demo import (
    ELEMENTS,
    EXPECTED_REJECTED,
    LEGACY,
    SUPPORT,
    UNKNOWN,
    UNKNOWN_ELEMENT,
    WORKBOOKS,
    DemoEvent,
    DemoExport,
)

WINDOWS = impression_windows()
NO_TEAM = "(no team)"


@dataclass
class DemoFacts:
    """What the demo export contains, after the documented event, validation, dedup and
    exclusion rules."""

    files: list[Path]
    total_rows: int  # data records written, bad and re-sent ones included
    as_of_date: date
    excluded_users: tuple[str, ...]  # the globs applied (vars.sigma_excluded_users)
    unused_workbook_url_id: str  # in the inventory, never opened
    stale_workbook_url_id: str  # opened 35+ days ago, not in the last 30 days
    unknown_workbook_url_id: str  # opened, but not in the inventory
    unknown_element: tuple[str, str]  # (workbook_url_id, element_id) not in the inventory
    unviewed_element_ids: list[tuple[str, str]]  # inventory elements with no counted impression
    users: list[str]  # every user with a counted impression (sigma_user_activity's rows)
    events: int  # deduplicated events, excluded ones included (fct_sigma_impressions' rows)
    total_impressions: int  # over all deduplicated events, excluded ones included
    events_by_file: dict[str, int]  # file name -> the deduplicated events that file wins
    workbook_impressions: dict[str, dict[int, int]]  # inventory workbook -> window -> impressions
    workbook_unique_users: dict[str, dict[int, int]]
    workbook_excluded_30d: dict[str, int]  # inventory workbook -> excluded impressions, 30 days
    element_impressions: dict[tuple[str, str], dict[int, int]]  # inventory element -> window -> n
    user_impressions: dict[str, dict[int, int]]  # user -> window -> impressions (any workbook)
    unmatched: dict[tuple[str, str | None, str], int]  # (workbook, element, reason) -> impressions
    # (user, workbook, reason) -> (impressions, impressions in the 30-day window)
    excluded: dict[tuple[str, str, str], tuple[int, int]]
    # The raw audit log's rows: (event name, event status) -> (rows, whether they count)
    audit_log_events: dict[tuple[str, str], tuple[int, bool]]
    # team name -> (member_count, active_members_14d, impressions_30d, workbooks_viewed_30d)
    team_usage: dict[str, tuple[int, int, int, int]]
    rejected: dict[str, int] = field(default_factory=lambda: dict(EXPECTED_REJECTED))


def dedupe(written: list[tuple[int, DemoEvent]]) -> dict[tuple, int]:
    """Event key -> impressions: the latest file holding the key wins; its rows for the key add up."""
    return {key: n for key, (_, n) in _dedupe_with_file(written).items()}


def _dedupe_with_file(written: list[tuple[int, DemoEvent]]) -> dict[tuple, tuple[int, int]]:
    """Event key -> (the winning file's index, impressions)."""
    winner: dict[tuple, int] = {}
    for index, event in written:
        winner[event.key] = max(index, winner.get(event.key, -1))
    counts: dict[tuple, int] = defaultdict(int)
    for index, event in written:
        if winner[event.key] == index:
            counts[event.key] += event.count
    return {key: (winner[key], n) for key, n in counts.items()}


def window_start(as_of: date, days: int) -> datetime:
    start = as_of - timedelta(days=days - 1)
    return datetime(start.year, start.month, start.day)


def make_run_vars() -> str:
    """The --vars text `make run` passes to `sigma-impressions run` ('' when none): the Makefile's
    run target is the one statement of the demo's rules."""
    makefile = (project_dir() / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    match = re.search(r"--vars '([^']*)'", recipe)
    return match.group(1) if match else ""


def excluded_user_globs(vars_text: str) -> tuple[str, ...]:
    """vars.sigma_excluded_users of a --vars text."""
    values = yaml.safe_load(vars_text) if vars_text else None
    return tuple((values or {}).get("sigma_excluded_users") or ())


def matches_glob(email: str, glob: str) -> bool:
    """The exclusion rule's glob: `*` any run of characters, the rest literal, case-insensitive."""
    pattern = ".*".join(re.escape(part) for part in glob.split("*"))
    return re.fullmatch(pattern, email, re.IGNORECASE | re.DOTALL) is not None


def impressions_written(export: DemoExport, patterns: EventPatterns) -> list[tuple[int, DemoEvent]]:
    """The rows that are impressions, by the event rule: every valid row of the view exports
    (they have no event columns), and the audit log's rows whose name and status count (each
    has a workbook id: the demo writes none of its view rows invalid)."""
    counted = [
        (index, row.as_event())
        for index, row in export.audit_rows
        if counts_as_view(row.event_name, row.event_status, True, True, patterns)
    ]
    return export.written + counted


def demo_facts(
    export: DemoExport, excluded_users: Sequence[str] = (), patterns: EventPatterns | None = None
) -> DemoFacts:
    """The marts' expected numbers for a demo export, by the documented rules, with these
    excluded-user globs (vars.sigma_excluded_users) and event patterns (default: dbt_project.yml's)."""
    patterns = patterns or event_patterns()
    as_of = export.as_of_date
    winners = _dedupe_with_file(impressions_written(export, patterns))
    counts = {key: n for key, (_, n) in winners.items()}
    known_workbooks = {w[0] for w in WORKBOOKS}
    known_elements = {(e[0], e[1]) for e in ELEMENTS}
    end = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    starts = {n: window_start(as_of, n) for n in WINDOWS}

    def excluded(user: str) -> bool:
        return any(matches_glob(user, glob) for glob in excluded_users)

    wb_imp = {w: dict.fromkeys(WINDOWS, 0) for w in sorted(known_workbooks)}
    wb_users: dict[str, dict[int, set[str]]] = {w: {n: set() for n in WINDOWS} for w in known_workbooks}
    wb_excluded = dict.fromkeys(sorted(known_workbooks), 0)
    el_imp = {e: dict.fromkeys(WINDOWS, 0) for e in sorted(known_elements)}
    user_imp: dict[str, dict[int, int]] = {}
    unmatched: dict[tuple[str, str | None, str], int] = defaultdict(int)
    excluded_totals: dict[tuple[str, str, str], list[int]] = {}
    for (at, user, workbook, element), n in counts.items():
        if excluded(user):
            totals = excluded_totals.setdefault((user, workbook, "user_pattern"), [0, 0])
            totals[0] += n
            if starts[30] <= at < end:
                totals[1] += n
                if workbook in known_workbooks:
                    wb_excluded[workbook] += n
            continue
        user_imp.setdefault(user, dict.fromkeys(WINDOWS, 0))
        if workbook not in known_workbooks:
            unmatched[(workbook, element, "unknown_workbook")] += n
        elif element is not None and (workbook, element) not in known_elements:
            unmatched[(workbook, element, "unknown_element")] += n
        for days, start in starts.items():
            if not start <= at < end:
                continue
            user_imp[user][days] += n
            if workbook in known_workbooks:
                wb_imp[workbook][days] += n
                wb_users[workbook][days].add(user)
                if element is not None and (workbook, element) in known_elements:
                    el_imp[(workbook, element)][days] += n
    counted = {key: n for key, n in counts.items() if not excluded(key[1])}
    viewed = {(w, e) for (_, _, w, e) in counted if e is not None}
    names = [path.name for path in export.files]
    events_by_file: dict[str, int] = dict.fromkeys(names, 0)
    for index, _ in winners.values():
        events_by_file[names[index]] += 1
    audit_rows: dict[tuple[str, str], int] = defaultdict(int)
    for _, row in export.audit_rows:
        audit_rows[(row.event_name, row.event_status)] += 1
    return DemoFacts(
        files=export.files,
        total_rows=export.total_rows,
        as_of_date=as_of,
        excluded_users=tuple(excluded_users),
        unused_workbook_url_id=LEGACY,
        stale_workbook_url_id=SUPPORT,
        unknown_workbook_url_id=UNKNOWN,
        unknown_element=UNKNOWN_ELEMENT,
        unviewed_element_ids=sorted(known_elements - viewed),
        users=sorted(user_imp),
        events=len(counts),
        total_impressions=sum(counts.values()),
        events_by_file=events_by_file,
        workbook_impressions=wb_imp,
        workbook_unique_users={w: {n: len(u) for n, u in d.items()} for w, d in wb_users.items()},
        workbook_excluded_30d=wb_excluded,
        element_impressions=el_imp,
        user_impressions=user_imp,
        unmatched=dict(unmatched),
        excluded={key: (total, in_30d) for key, (total, in_30d) in excluded_totals.items()},
        audit_log_events={
            key: (n, counts_as_view(key[0], key[1], True, True, patterns)) for key, n in audit_rows.items()
        },
        team_usage=team_usage(counted, as_of),
    )


def _seed(name: str) -> list[dict[str, str]]:
    """A seed's rows, those with a deleted_at left out (the demo's Sigma API stand-in lists them not)."""
    with open(project_dir() / "seeds" / name, newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if not row.get("deleted_at")]


def team_usage(counted: dict[tuple, int], as_of: date) -> dict[str, tuple[int, int, int, int]]:
    """sigma_team_usage from the counted impressions and the demo's teams: team name ->
    (member_count, active_members_14d, impressions_30d, workbooks_viewed_30d). A user counts for
    each of their teams; `(no team)` has the members in no team, and the impressions of every
    user in no team, member or not."""
    emails = {row["member_id"]: row["email"].strip().lower() for row in _seed("sigma_members.csv")}
    teams = {row["team_id"]: row["name"] for row in _seed("sigma_teams.csv")}
    members: dict[str | None, set[str]] = {team_id: set() for team_id in teams}
    for row in _seed("sigma_team_members.csv"):
        if row["team_id"] in teams and row["member_id"] in emails:
            members[row["team_id"]].add(emails[row["member_id"]])
    in_a_team = set().union(*members.values())
    members[None] = set(emails.values()) - in_a_team
    start_30, start_14 = window_start(as_of, 30), window_start(as_of, 14)
    end = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    recent = [(at, user, workbook, n) for (at, user, workbook, _), n in counted.items() if start_30 <= at < end]
    active = {user for at, user, _, _ in recent if at >= start_14}
    usage = {}
    for team_id, team_members in members.items():
        if team_id is None:
            in_team = [r for r in recent if r[1] not in in_a_team]
        else:
            in_team = [r for r in recent if r[1] in team_members]
        usage[teams.get(team_id, NO_TEAM)] = (
            len(team_members),
            len(team_members & active),
            sum(n for *_, n in in_team),
            len({workbook for _, _, workbook, _ in in_team}),
        )
    return usage
