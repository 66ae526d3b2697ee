"""The test oracle for the demo export: the marts' expected numbers, computed in Python from the
rows the demo wrote with the documented rules (latest file wins, rows of one file add up, windows
of vars.impression_windows ending at as_of_date), independently of the SQL models."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from loader.contract import impression_windows
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


@dataclass
class DemoFacts:
    """What the demo export contains, after the documented validation and dedup rules."""

    files: list[Path]
    total_rows: int  # data records written, bad and re-sent ones included
    as_of_date: date
    unused_workbook_url_id: str  # in the inventory, never opened
    stale_workbook_url_id: str  # opened 35+ days ago, not in the last 30 days
    unknown_workbook_url_id: str  # opened, but not in the inventory
    unknown_element: tuple[str, str]  # (workbook_url_id, element_id) not in the inventory
    unviewed_element_ids: list[tuple[str, str]]  # inventory elements nobody views
    users: list[str]  # every user with a valid impression
    events: int  # deduplicated events
    total_impressions: int  # over all deduplicated events
    workbook_impressions: dict[str, dict[int, int]]  # inventory workbook -> window -> impressions
    workbook_unique_users: dict[str, dict[int, int]]
    element_impressions: dict[tuple[str, str], dict[int, int]]  # inventory element -> window -> n
    user_impressions: dict[str, dict[int, int]]  # user -> window -> impressions (any workbook)
    unmatched: dict[tuple[str, str | None, str], int]  # (workbook, element, reason) -> impressions
    rejected: dict[str, int] = field(default_factory=lambda: dict(EXPECTED_REJECTED))


def dedupe(written: list[tuple[int, DemoEvent]]) -> dict[tuple, int]:
    """Event key -> impressions: the latest file holding the key wins; its rows for the key add up."""
    winner: dict[tuple, int] = {}
    for index, event in written:
        winner[event.key] = max(index, winner.get(event.key, -1))
    counts: dict[tuple, int] = defaultdict(int)
    for index, event in written:
        if winner[event.key] == index:
            counts[event.key] += event.count
    return dict(counts)


def window_start(as_of: date, days: int) -> datetime:
    start = as_of - timedelta(days=days - 1)
    return datetime(start.year, start.month, start.day)


def demo_facts(export: DemoExport) -> DemoFacts:
    """The marts' expected numbers for a demo export, by the documented rules."""
    as_of, written = export.as_of_date, export.written
    counts = dedupe(written)
    known_workbooks = {w[0] for w in WORKBOOKS}
    known_elements = {(e[0], e[1]) for e in ELEMENTS}
    end = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    starts = {n: window_start(as_of, n) for n in WINDOWS}

    wb_imp = {w: dict.fromkeys(WINDOWS, 0) for w in sorted(known_workbooks)}
    wb_users: dict[str, dict[int, set[str]]] = {w: {n: set() for n in WINDOWS} for w in known_workbooks}
    el_imp = {e: dict.fromkeys(WINDOWS, 0) for e in sorted(known_elements)}
    user_imp: dict[str, dict[int, int]] = {}
    unmatched: dict[tuple[str, str | None, str], int] = defaultdict(int)
    for (at, user, workbook, element), n in counts.items():
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
    viewed = {(w, e) for (_, _, w, e) in counts if e is not None}
    return DemoFacts(
        files=export.files,
        total_rows=export.total_rows,
        as_of_date=as_of,
        unused_workbook_url_id=LEGACY,
        stale_workbook_url_id=SUPPORT,
        unknown_workbook_url_id=UNKNOWN,
        unknown_element=UNKNOWN_ELEMENT,
        unviewed_element_ids=sorted(known_elements - viewed),
        users=sorted(user_imp),
        events=len(counts),
        total_impressions=sum(counts.values()),
        workbook_impressions=wb_imp,
        workbook_unique_users={w: {n: len(u) for n, u in d.items()} for w, d in wb_users.items()},
        element_impressions=el_imp,
        user_impressions=user_imp,
        unmatched=dict(unmatched),
    )
