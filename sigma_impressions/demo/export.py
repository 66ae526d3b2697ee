"""A realistic demo export: what Sigma's scheduled audit-log exports write into a bucket prefix.

`write_demo(out_dir)` writes seven files and returns what it wrote (`DemoExport`: the files, every
valid row of the view exports as written, and every row of the raw audit log). The tests compute
the marts' expected numbers from those rows with an oracle of their own
(tests/helpers/demo_facts.py).

What the files hold (the shipped seeds `seeds/sigma_workbooks.csv` and
`seeds/sigma_workbook_elements.csv` are the matching inventory, with fixed ids; the members and
teams the demo's Sigma API stand-in serves are in `seeds/sigma_members.csv` and the team seeds):

- Six view exports in the recommended shape (one impression event per row, with a count), one
  per run of an admin's export schedule filtered to views (`sigma_audit_run-1.csv.gz` ...
  `sigma_audit_run-6.csv`). The first is a backfill (the first run of a new schedule sends the
  history): events of the last ~95 days. The five later runs, twelve hours apart, each re-send
  the last six hours of the previous run (exports overlap; Sigma delivers at least once), and a
  few re-sent events carry a corrected count (the later file wins). The last run is yesterday
  18:00 UTC.
- One export in Sigma's raw audit-log shape (`sigma_audit_log-7.csv`): the latest file of a
  second, daily schedule an admin set up on the whole, unfiltered AUDIT_LOGS element, the 24
  hours up to yesterday 22:00 UTC. One row per event (no count column: an event the view
  exports count n times is n rows here), under the log's friendly column names: `Event Time`,
  `Event Type` (the category), `Event Name`, `Event Status`, `Event Status Reason Code`,
  `User Email`, `Workbook URL ID`, `Element ID`, `Object Name`.
  Categories: ACCESS_SIGMA (`Sign In`, `Sign Out`, without a workbook id; a few sign-ins fail),
  OBJECT_INTERACTION (`Open Workbook`, `View Element`: the impressions, one row each; some
  fail: two attempts to open the unused workbook are denied, now and then an element's query
  times out), QUERY_EXECUTIONS (`Run Query`, one per element view, on the same workbook,
  element and second; failing with the view it belongs to) and EXPORTS (`Download CSV`,
  `Export Workbook`). Only successful opens and views are impressions (the default
  vars.sigma_view_event_pattern and sigma_success_status_pattern classify the names so).
  Where it overlaps the view exports (up to yesterday 18:00) its views are the same events,
  and being the newest file it wins them; the evening after the view exports' last run
  (18:00-22:00) only it holds.
- A service account, `etl-bot@svc.acme.example` (not a Sigma member), opens two workbooks every
  hour for the last 45 days, in every export that covers the hour, and exports one workbook
  daily (in the raw log): counted, it would top the report. `make run` excludes it by the
  demo's rule DEMO_EXCLUDED_USERS (vars.sigma_excluded_users).
- Event times are anchored to midnight UTC of `now`'s day, and every event is before yesterday
  22:00 UTC, so writing the demo twice on the same day writes the same content. The files'
  modification times are set (os.utime) 62, 50, 38, 26, 14, 2 and 1 hours before now, in file
  order, so the loader's default 3-day lookback takes all seven, while their rows span ~95 days.
- File names are stable, unlike a real schedule's timestamped names: writing the demo again on
  a later day rewrites the same seven files with the events shifted by the days passed, and the
  loader then replaces their rows (changed etag) instead of adding a second, shifted copy of the
  history. So `make run` gives the same report on any day, as many times as it runs.
- Header spellings differ between the view exports (`Request Time`, `USER_EMAIL`, `email`,
  `workbookUrlId`, `NODE_ID`, `IMPRESSIONS`...), one has no count column (repeated rows add up),
  one starts with a UTF-8 BOM, three are gzipped, timestamps come with `Z`, `UTC`, offsets and
  fractions.
- Workbook-level rows (empty element id) and element-level rows; 15 people and the service
  account; rows with count > 1.
- A workbook nobody opens, a workbook that stopped being used 35 days ago, a workbook missing
  from the inventory, an element missing from the inventory, elements nobody views.
- Bad rows in the view exports: blank and invalid timestamps, a missing email, a missing
  workbook id, invalid counts, and a line with one field too many. The raw log has none: its
  sign-ins lack a workbook id, but they are other events, not rejected impressions.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

DOMAIN = "acme.example"

# ---------------------------------------------------------------------------------------------
# The demo inventory (static: the seeds must match whatever --seed is used).
# ---------------------------------------------------------------------------------------------
REVENUE = "Revenue-Overview-4kTq8ZpL2mWx9RbN"
PIPELINE = "Sales-Pipeline-7HcV3nJd5QsY1uEa"
MARKETING = "Marketing-Funnel-2wGf6LkR8tPz0XmC"
SUPPORT = "Support-Tickets-9PbK1sDq4VhT6yJn"
PRODUCT = "Product-Usage-5RmZ7cXa3NfW8eLq"
LEGACY = "Legacy-KPI-Board-2023-1AsE4gHu6JkO9iBv"
UNKNOWN = "Ad-hoc-Churn-Analysis-3TyU5oPq7WeR2zXs"  # not in the inventory (created after the sync)
UNKNOWN_ELEMENT = (PIPELINE, "dLtElm0Xq9")  # deleted from the workbook after the sync

# (workbook_url_id, workbook_id, name, path, owner_email, created_at, updated_at)
WORKBOOKS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    (
        REVENUE,
        "0b7f5c1e-8d2a-4c3e-9f61-2a4b8e7d1c01",
        "Revenue Overview",
        "Finance/Executive",
        f"maria.lopez@{DOMAIN}",
        "2025-03-04 09:12:00",
        "2026-10-28 16:40:00",
    ),
    (
        PIPELINE,
        "1c8a6d2f-9e3b-4d4f-8a72-3b5c9f8e2d02",
        "Sales Pipeline",
        "Sales/Forecasting",
        f"james.chen@{DOMAIN}",
        "2025-05-19 14:03:00",
        "2026-11-02 10:15:00",
    ),
    (
        MARKETING,
        "2d9b7e3a-0f4c-4e5a-9b83-4c6d0a9f3e03",
        "Marketing Funnel",
        "Marketing/Growth",
        f"priya.patel@{DOMAIN}",
        "2025-07-01 08:30:00",
        "2026-09-14 11:22:00",
    ),
    (
        SUPPORT,
        "3e0c8f4b-1a5d-4f6b-8c94-5d7e1b0a4f04",
        "Support Tickets",
        "Customer Success/Support",
        f"tom.baker@{DOMAIN}",
        "2025-02-11 13:45:00",
        "2026-08-20 09:05:00",
    ),
    (
        PRODUCT,
        "4f1d9a5c-2b6e-4a7c-9da5-6e8f2c1b5a05",
        "Product Usage",
        "Product/Analytics",
        f"sofia.rossi@{DOMAIN}",
        "2025-09-23 10:00:00",
        "2026-11-10 15:30:00",
    ),
    (
        LEGACY,
        "5a2e0b6d-3c7f-4b8d-8eb6-7f9a3d2c6b06",
        "Legacy KPI Board 2023",
        "Archive/2023",
        f"alex.kim@{DOMAIN}",
        "2023-01-09 09:00:00",
        "2023-12-18 17:20:00",
    ),
)

# (workbook_url_id, element_id, page_name, name, element_type)
ELEMENTS: tuple[tuple[str, str, str, str, str], ...] = (
    (REVENUE, "rvKpiT0tal", "Summary", "Total Revenue", "kpi"),
    (REVENUE, "rvTrndM0n1", "Summary", "Revenue by Month", "visualization"),
    (REVENUE, "rvRegnMap2", "Regions", "Revenue by Region", "visualization"),
    (REVENUE, "rvRawTbl03", "Data", "Raw Invoice Lines", "table"),  # nobody views it
    (PIPELINE, "spFunnel01", "Pipeline", "Pipeline by Stage", "visualization"),
    (PIPELINE, "spDeals002", "Pipeline", "Open Deals", "table"),
    (PIPELINE, "spFcstOld3", "Forecast", "Forecast (old model)", "visualization"),  # nobody views it
    (MARKETING, "mkChanl001", "Acquisition", "Signups by Channel", "visualization"),
    (MARKETING, "mkCnvRate2", "Acquisition", "Conversion Rate", "kpi"),
    (SUPPORT, "stBacklog1", "Queue", "Ticket Backlog", "visualization"),
    (SUPPORT, "stSlaTbl02", "Queue", "SLA Breaches", "table"),
    (PRODUCT, "puDau00001", "Engagement", "Daily Active Users", "visualization"),
    (PRODUCT, "puFeatAdp2", "Engagement", "Feature Adoption", "pivot-table"),
    (PRODUCT, "puRetCoh03", "Retention", "Retention Cohorts", "visualization"),
    (PRODUCT, "puNotes004", "Retention", "Analyst Notes", "text"),  # nobody views it
    (LEGACY, "lgKpiGrid1", "Overview", "KPI Grid", "table"),
    (LEGACY, "lgTrend002", "Overview", "KPI Trends", "visualization"),
)

# Elements people open, per workbook, with weights (the others in ELEMENTS are never viewed).
VIEWED_ELEMENTS: dict[str, list[tuple[str, int]]] = {
    REVENUE: [("rvKpiT0tal", 5), ("rvTrndM0n1", 4), ("rvRegnMap2", 2)],
    PIPELINE: [("spFunnel01", 5), ("spDeals002", 4)],
    MARKETING: [("mkChanl001", 3), ("mkCnvRate2", 2)],
    SUPPORT: [("stBacklog1", 3), ("stSlaTbl02", 2)],
    PRODUCT: [("puDau00001", 4), ("puFeatAdp2", 3), ("puRetCoh03", 2)],
    UNKNOWN: [("chrnTbl001", 1)],
}

# user -> (activity level, workbooks they use, first and last active day as days before as-of)
USERS: dict[str, tuple[float, tuple[str, ...], int, int]] = {
    f"maria.lopez@{DOMAIN}": (1.0, (REVENUE, PIPELINE, MARKETING), 1, 95),
    f"james.chen@{DOMAIN}": (1.0, (PIPELINE, REVENUE), 1, 95),
    f"priya.patel@{DOMAIN}": (0.9, (MARKETING, PRODUCT, REVENUE), 1, 95),
    f"sofia.rossi@{DOMAIN}": (0.8, (PRODUCT, REVENUE), 1, 95),
    f"tom.baker@{DOMAIN}": (0.6, (SUPPORT, REVENUE), 1, 95),
    f"nina.ivanova@{DOMAIN}": (0.7, (PIPELINE, REVENUE, UNKNOWN), 1, 95),
    f"omar.haddad@{DOMAIN}": (0.6, (PIPELINE, MARKETING), 1, 95),
    f"lena.schmidt@{DOMAIN}": (0.5, (PRODUCT, MARKETING), 1, 95),
    f"raj.singh@{DOMAIN}": (0.5, (REVENUE, PRODUCT, UNKNOWN), 1, 95),
    f"emma.wilson@{DOMAIN}": (0.4, (SUPPORT, MARKETING), 1, 95),
    f"lucas.martin@{DOMAIN}": (0.3, (REVENUE,), 1, 95),
    f"yuki.tanaka@{DOMAIN}": (0.25, (PIPELINE, PRODUCT), 1, 95),
    f"grace.okafor@{DOMAIN}": (0.3, (REVENUE, PIPELINE), 20, 95),  # not active in the last 14 days
    f"daniel.novak@{DOMAIN}": (0.6, (SUPPORT, MARKETING), 40, 95),  # left the company 40 days ago
    f"chloe.dubois@{DOMAIN}": (0.5, (UNKNOWN, REVENUE), 1, 12),  # joined 12 days ago
}

# A service account (not a Sigma member): a job that opens these workbooks every hour, at
# SERVICE_ACCOUNT_OPENS_AT past the hour, for the last SERVICE_ACCOUNT_DAYS days.
SERVICE_ACCOUNT = "etl-bot@svc.acme.example"
SERVICE_ACCOUNT_WORKBOOKS = (REVENUE, PIPELINE)
SERVICE_ACCOUNT_OPENS_AT = (timedelta(minutes=5), timedelta(minutes=5, seconds=20))
SERVICE_ACCOUNT_DAYS = 45
# The demo's exclusion rule (vars.sigma_excluded_users): `make run` passes it to `run`.
DEMO_EXCLUDED_USERS = ("*@svc.acme.example",)


def _workbook_rate(workbook: str, days_ago: int) -> float:
    """Expected sessions per weekday for a user who uses this workbook."""
    if workbook == REVENUE:
        return 1.2 if days_ago <= 14 else 0.7  # growing
    if workbook == PIPELINE:
        return 0.8
    if workbook == MARKETING:
        return 0.15 if days_ago <= 14 else 0.6  # declining
    if workbook == SUPPORT:
        return 0.6 if days_ago >= 35 else 0.0  # abandoned 35 days ago
    if workbook == PRODUCT:
        return 0.5
    if workbook == UNKNOWN:
        return 0.5 if days_ago <= 20 else 0.0
    return 0.0  # LEGACY: nobody opens it


# ---------------------------------------------------------------------------------------------
# The export files: one per scheduled run.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _FileSpec:
    headers: tuple[str, ...]  # the header spelling of this export
    gzip: bool
    bom: bool = False
    crlf: bool = True
    email_style: str = "lower"  # lower | upper-first | padded
    time_style: str = "space"


# Canonical order of the fields: request_time, user_email, workbook_url_id, element_id, count,
# plus an optional extra column that the models ignore. A None header means "no such column".
_SPECS: tuple[_FileSpec, ...] = (
    _FileSpec(("Request Time", "User Email", "Workbook URL ID", "Element ID", "Count"), gzip=True),
    _FileSpec(
        ("request_time", "user_email", "workbook_url_id", "element_id", "count", "workbook_name"),
        gzip=False,
        time_style="z-millis",
    ),
    _FileSpec(
        ("TIMESTAMP", "USER_EMAIL", "WORKBOOK_URL_ID", "NODE_ID", "IMPRESSIONS"),
        gzip=True,
        email_style="upper-first",
        time_style="utc",
    ),
    _FileSpec(
        ("event_time", "email", "workbookUrlId", "elementId"),  # no count column: 1 per row
        gzip=False,
        crlf=False,
        time_style="offset",
    ),
    _FileSpec(
        ("Request Time", "email", "Workbook URL ID", "Element ID", "Impression Count"),
        gzip=True,
        bom=True,
        email_style="padded",
        time_style="t",
    ),
    _FileSpec(
        ("request_time", "USER_EMAIL", "workbook_url_id", "element_id", "count"),
        gzip=False,
        time_style="minus-offset",
    ),
)
RUN_INTERVAL = timedelta(hours=12)
OVERLAP = timedelta(hours=6)
# The view exports' then the audit log's, within the loader's default 3-day lookback.
MTIME_HOURS_AGO = (62, 50, 38, 26, 14, 2, 1)
BACKFILL_DAYS = 95

# The raw audit log (a daily export of the last day): the AUDIT_LOG_WINDOW up to
# AUDIT_LOG_END_BEFORE_MIDNIGHT before midnight (the demo's last event), every category, one
# row per event.
AUDIT_LOG_NAME = "sigma_audit_log-7.csv"
AUDIT_LOG_WINDOW = timedelta(hours=24)
AUDIT_LOG_END_BEFORE_MIDNIGHT = timedelta(hours=2)
AUDIT_LOG_HEADERS = (
    "Event Time",
    "Event Type",
    "Event Name",
    "Event Status",
    "Event Status Reason Code",
    "User Email",
    "Workbook URL ID",
    "Element ID",
    "Object Name",
)
# The event names the demo writes as impressions (a successful one is one impression). The default
# vars.sigma_view_event_pattern ("view|open") matches them and none of the demo's other names
# (Sign In, Sign Out, Run Query, Download CSV, Export Workbook).
VIEW_EVENTS = ("Open Workbook", "View Element")
SUCCESS, FAILURE = "Success", "Failure"
# Views that fail yesterday whatever else happens (user, workbook, element, time of day, reason
# code): two attempts to open a workbook the user may not see, an element whose query times out.
FAILED_VIEWS: tuple[tuple[str, str, str | None, timedelta, str], ...] = (
    (f"lucas.martin@{DOMAIN}", LEGACY, None, timedelta(hours=9, minutes=41, seconds=7), "PERMISSION_DENIED"),
    (f"yuki.tanaka@{DOMAIN}", LEGACY, None, timedelta(hours=14, minutes=3, seconds=52), "PERMISSION_DENIED"),
    (f"raj.singh@{DOMAIN}", PRODUCT, "puRetCoh03", timedelta(hours=11, minutes=27, seconds=45), "QUERY_TIMEOUT"),
)
# Names of the objects the inventory does not list (the audit log still names them).
_OTHER_OBJECT_NAMES = {
    UNKNOWN: "Ad-hoc Churn Analysis",
    UNKNOWN_ELEMENT[1]: "Win Rate by Rep",
    "chrnTbl001": "Churn by Segment",
}

# The bad rows of the demo, by the reason the models give them (plus one malformed line).
EXPECTED_REJECTED = {
    "missing_request_time": 1,
    "invalid_request_time": 3,
    "missing_user_email": 1,
    "missing_workbook_url_id": 1,
    "invalid_count": 2,
    "malformed_line": 1,
}


@dataclass(frozen=True)
class DemoEvent:
    """One valid impression as the demo writes it (a row, or the event behind it)."""

    at: datetime  # UTC, naive
    user: str
    workbook: str
    element: str | None
    count: int

    @property
    def key(self) -> tuple[datetime, str, str, str | None]:
        return (self.at, self.user, self.workbook, self.element)


@dataclass(frozen=True)
class AuditRow:
    """One row of the raw audit log as the demo writes it (empty fields are None)."""

    at: datetime  # UTC, naive
    event_type: str  # the category: ACCESS_SIGMA, OBJECT_INTERACTION, QUERY_EXECUTIONS, EXPORTS
    event_name: str
    event_status: str  # Success | Failure
    user: str
    workbook: str | None = None
    element: str | None = None
    reason_code: str | None = None  # why an event failed

    @property
    def is_view(self) -> bool:
        """Written as an impression: a successful workbook open or element view."""
        return self.event_name in VIEW_EVENTS and self.event_status == SUCCESS

    def as_event(self) -> DemoEvent:
        """The impression event of a view row (one impression)."""
        if self.workbook is None:
            raise ValueError(f"{self.event_name} at {self.at} has no workbook")
        return DemoEvent(self.at, self.user, self.workbook, self.element, 1)


@dataclass(frozen=True)
class DemoExport:
    """What write_demo wrote."""

    files: list[Path]
    total_rows: int  # data records written, bad and re-sent ones included
    as_of_date: date  # the day the demo is anchored to (UTC)
    written: list[tuple[int, DemoEvent]]  # view exports: (file index, valid row as written), in write order
    audit_rows: list[tuple[int, AuditRow]]  # the raw audit log: (file index, row), every row in write order

    @property
    def impressions_written(self) -> list[tuple[int, DemoEvent]]:
        """Every row written as an impression, in file order: the view exports' valid rows, then
        the audit log's successful views (one impression each)."""
        return self.written + [(index, row.as_event()) for index, row in self.audit_rows if row.is_view]

    @property
    def events(self) -> int:
        """Distinct events (an event re-sent by a later run, or split over rows, counts once)."""
        return len({event.key for _, event in self.impressions_written})

    @property
    def users(self) -> list[str]:
        """Every user with a valid impression (the service account included)."""
        return sorted({event.user for _, event in self.impressions_written})

    @property
    def audit_log_events(self) -> dict[tuple[str, str], int]:
        """The raw audit log's rows by (event name, event status)."""
        counts: dict[tuple[str, str], int] = {}
        for _, row in self.audit_rows:
            counts[(row.event_name, row.event_status)] = counts.get((row.event_name, row.event_status), 0) + 1
        return counts

    @property
    def service_account_events(self) -> list[tuple[int, DemoEvent]]:
        """The service account's impressions as written, in every file."""
        return [(index, event) for index, event in self.impressions_written if event.user == SERVICE_ACCOUNT]


def write_demo(out_dir: Path, seed: int = 42, now: datetime | None = None) -> DemoExport:
    """Write the demo's seven export files into out_dir (the six view exports, then the raw audit
    log) and return what was written."""
    now = now or datetime.now(UTC)
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)  # naive = UTC
    as_of = now.date()
    midnight = datetime(as_of.year, as_of.month, as_of.day)  # naive UTC
    rng = random.Random(seed)  # noqa: S311 (demo data, not security)
    events = _generate_events(rng, midnight)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    first_run = midnight - timedelta(days=3) + timedelta(hours=6)
    runs = [first_run + RUN_INTERVAL * i for i in range(len(_SPECS))]
    written: list[tuple[int, DemoEvent]] = []  # (file index, valid row as written)
    files: list[Path] = []
    total_rows = 0
    for index, (spec, run_at) in enumerate(zip(_SPECS, runs, strict=True)):
        start = midnight - timedelta(days=BACKFILL_DAYS) if index == 0 else run_at - RUN_INTERVAL - OVERLAP
        in_file = [e for e in events if start <= e.at < run_at]
        rows = _file_rows(rng, spec, index, in_file, written)
        if index == 4:
            rows = _with_bad_rows(rows, spec, midnight, first=True)
        if index == 5:
            rows = _with_bad_rows(rows, spec, midnight, first=False)
        name = f"sigma_audit_run-{index + 1}.csv" + (".gz" if spec.gzip else "")
        path = out_dir / name
        _write_file(path, spec, rows)
        _set_mtime(path, now, index)
        files.append(path)
        total_rows += len(rows)

    # The raw audit log: a random stream of its own (per day), so it leaves the view exports as they are.
    index = len(_SPECS)
    end = midnight - AUDIT_LOG_END_BEFORE_MIDNIGHT
    audit_rng = random.Random(f"audit-log-{seed}-{as_of}")  # noqa: S311 (demo data, not security)
    audit = _audit_log(audit_rng, events, midnight, end - AUDIT_LOG_WINDOW, end)
    path = out_dir / AUDIT_LOG_NAME
    _write_file(path, _FileSpec(AUDIT_LOG_HEADERS, gzip=False), [_audit_fields(row) for row in audit])
    _set_mtime(path, now, index)
    files.append(path)
    total_rows += len(audit)
    return DemoExport(files, total_rows, as_of, written, [(index, row) for row in audit])


def _set_mtime(path: Path, now: datetime, index: int) -> None:
    stamp = (now - timedelta(hours=MTIME_HOURS_AGO[index])).timestamp()
    os.utime(path, (stamp, stamp))


def _generate_events(rng: random.Random, midnight: datetime) -> list[DemoEvent]:
    """Sessions per user and day (a workbook-level row, then a few element-level rows), and the
    service account's hourly opens."""
    last_event = midnight - AUDIT_LOG_END_BEFORE_MIDNIGHT
    events: dict[tuple, DemoEvent] = {}
    for days_ago in range(BACKFILL_DAYS, 0, -1):
        day = midnight - timedelta(days=days_ago)
        weekend = day.weekday() >= 5
        for user, (activity, workbooks, first_day, last_day) in USERS.items():
            if not first_day <= days_ago <= last_day:
                continue
            for workbook in workbooks:
                rate = _workbook_rate(workbook, days_ago) * activity * (0.2 if weekend else 1.0)
                sessions = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
                for _ in range(sessions):
                    _session(rng, events, day, days_ago, user, workbook, last_event)
    for days_ago in range(SERVICE_ACCOUNT_DAYS, 0, -1):
        for hour in range(24):
            for workbook, past_the_hour in zip(SERVICE_ACCOUNT_WORKBOOKS, SERVICE_ACCOUNT_OPENS_AT, strict=True):
                at = midnight - timedelta(days=days_ago) + timedelta(hours=hour) + past_the_hour
                if at < last_event:
                    event = DemoEvent(at, SERVICE_ACCOUNT, workbook, None, 1)
                    events.setdefault(event.key, event)
    return sorted(events.values(), key=lambda e: (e.at, e.user, e.workbook, e.element or ""))


def _session(
    rng: random.Random,
    events: dict[tuple, DemoEvent],
    day: datetime,
    days_ago: int,
    user: str,
    workbook: str,
    last_event: datetime,
) -> None:
    """A user opens a workbook: one workbook-level row, then the elements they look at."""
    opened = day + timedelta(hours=rng.randint(7, 20), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
    if opened >= last_event:
        return
    count = 1 if rng.random() < 0.85 else rng.randint(2, 3)
    session = [DemoEvent(opened, user, workbook, None, count)]
    choices, weights = zip(*VIEWED_ELEMENTS[workbook], strict=True)
    for offset, element in enumerate(sorted(set(rng.choices(choices, weights, k=rng.randint(1, 3))))):
        at = opened + timedelta(seconds=5 + 17 * offset + rng.randint(0, 9))
        session.append(DemoEvent(at, user, workbook, element, rng.randint(1, 4)))
    if workbook == PIPELINE and days_ago <= 10 and rng.random() < 0.3:
        at = opened + timedelta(seconds=90)
        session.append(DemoEvent(at, user, workbook, UNKNOWN_ELEMENT[1], 1))
    for event in session:
        if event.at < last_event:
            events.setdefault(event.key, event)


def _file_rows(
    rng: random.Random,
    spec: _FileSpec,
    index: int,
    in_file: list[DemoEvent],
    written: list[tuple[int, DemoEvent]],
) -> list[list[str]]:
    """Render a file's events as CSV rows; record what was written for the facts."""
    has_count = len(spec.headers) >= 5
    has_extra = len(spec.headers) == 6
    rows: list[list[str]] = []
    previous = {e.key for i, e in written if i == index - 1}
    for event in in_file:
        count = event.count
        # An event re-sent by this run (it was in the previous run too) sometimes carries a
        # corrected count: the later file wins.
        if event.key in previous and rng.random() < 0.1:
            count += 1
        if not has_count:
            parts = [1] * count  # no count column: one row per impression
        elif count > 1 and rng.random() < 0.15:
            parts = [count - 1, 1]  # the same event split over two rows of one file: they add up
        else:
            parts = [count]
        for part in parts:
            row = [
                _render_time(event.at, spec.time_style, rng),
                _render_email(event.user, spec.email_style),
                event.workbook,
                event.element or "",
            ]
            if has_count:
                row.append(str(part) if part != 1 or rng.random() < 0.8 else "")  # empty count = 1
            if has_extra:
                row.append(_workbook_name(event.workbook))
            rows.append(row)
            written.append((index, DemoEvent(event.at, event.user, event.workbook, event.element, part)))
    return rows


def _with_bad_rows(rows: list[list[str]], spec: _FileSpec, midnight: datetime, first: bool) -> list[list[str]]:
    """Insert the demo's bad rows at fixed places (they count nowhere but in the rejected mart)."""
    day = midnight - timedelta(days=2)
    good = f"{day:%Y-%m-%d} 10:15:00"
    width = len(spec.headers)

    def row(when: str, email: str, workbook: str, count: str = "1") -> list[str]:
        values = [when, email, workbook, ""]
        if width >= 5:
            values.append(count)
        if width == 6:
            values.append("")
        return values

    if first:
        bad = [
            row("", f"lucas.martin@{DOMAIN}", REVENUE),  # missing_request_time
            row(f"{day:%Y}-13-01 09:00:00", f"lucas.martin@{DOMAIN}", REVENUE),  # invalid_request_time
            row(f"{day:%Y-%m-%d}", f"lucas.martin@{DOMAIN}", REVENUE),  # invalid: a date alone
            row(f"{day:%Y-%m-%d} 24:00:00", f"raj.singh@{DOMAIN}", PIPELINE),  # invalid: 24:00
            row(good, "", REVENUE),  # missing_user_email
            ["MALFORMED", *row(good, f"raj.singh@{DOMAIN}", PRODUCT)],  # one field too many
        ]
    else:
        bad = [
            row(good, f"yuki.tanaka@{DOMAIN}", ""),  # missing_workbook_url_id
            row(good, f"yuki.tanaka@{DOMAIN}", PRODUCT, "0"),  # invalid_count
            row(good, f"omar.haddad@{DOMAIN}", PIPELINE, "-2"),  # invalid_count
        ]
    out = list(rows)
    for offset, bad_row in enumerate(bad):
        out.insert(min(len(out), 7 + 11 * offset), bad_row)
    return out


def _audit_log(
    rng: random.Random, events: list[DemoEvent], midnight: datetime, start: datetime, end: datetime
) -> list[AuditRow]:
    """The raw audit log from `start` to `end`: each impression of `events` in it as its own row,
    and around them the events that are not impressions, in time order."""
    rows: list[AuditRow] = []
    for event in (e for e in events if start <= e.at < end):
        name = "Open Workbook" if event.element is None else "View Element"
        for _ in range(event.count):  # one row per impression
            rows.append(
                AuditRow(event.at, "OBJECT_INTERACTION", name, SUCCESS, event.user, event.workbook, event.element)
            )
            if event.element is not None:  # an element view runs its query: same workbook, element and second
                query = AuditRow(
                    event.at, "QUERY_EXECUTIONS", "Run Query", SUCCESS, event.user, event.workbook, event.element
                )
                rows.append(query)
        if event.element is None and event.user != SERVICE_ACCOUNT:
            rows += _session_events(rng, event)
    for user, workbook, element, time_of_day, reason in FAILED_VIEWS:
        rows += _failed_view(midnight - timedelta(days=1) + time_of_day, user, workbook, element, reason)
    for days_ago in range(SERVICE_ACCOUNT_DAYS, 0, -1):  # the service account's daily export
        at = midnight - timedelta(days=days_ago) + timedelta(hours=6, minutes=5, seconds=40)
        if start <= at < end:
            rows.append(AuditRow(at, "EXPORTS", "Export Workbook", SUCCESS, SERVICE_ACCOUNT, REVENUE))
    rows += _sign_ins(rng, rows, end)
    return sorted(rows, key=lambda row: row.at)


def _session_events(rng: random.Random, opened: DemoEvent) -> list[AuditRow]:
    """What a person may do after opening a workbook besides viewing: a view whose query times out
    (both fail), a CSV download of an element, a PDF export of the workbook."""
    user, workbook = opened.user, opened.workbook
    elements = [element for element, _ in VIEWED_ELEMENTS[workbook]]
    roll = rng.random()
    if roll < 0.06:
        at = opened.at + timedelta(seconds=200 + rng.randint(0, 30))
        return _failed_view(at, user, workbook, rng.choice(elements), "QUERY_TIMEOUT")
    if roll < 0.16:
        at = opened.at + timedelta(seconds=120 + rng.randint(0, 20))
        return [AuditRow(at, "EXPORTS", "Download CSV", SUCCESS, user, workbook, rng.choice(elements))]
    if roll < 0.2:
        at = opened.at + timedelta(seconds=170 + rng.randint(0, 20))
        return [AuditRow(at, "EXPORTS", "Export Workbook", SUCCESS, user, workbook)]
    return []


def _failed_view(at: datetime, user: str, workbook: str, element: str | None, reason: str) -> list[AuditRow]:
    """A workbook open or element view that fails (an element's query fails with it)."""
    if element is None:
        return [AuditRow(at, "OBJECT_INTERACTION", "Open Workbook", FAILURE, user, workbook, None, reason)]
    return [
        AuditRow(at, "OBJECT_INTERACTION", "View Element", FAILURE, user, workbook, element, reason),
        AuditRow(at, "QUERY_EXECUTIONS", "Run Query", FAILURE, user, workbook, element, reason),
    ]


def _sign_ins(rng: random.Random, rows: list[AuditRow], end: datetime) -> list[AuditRow]:
    """A person's day in the log starts with a sign-in (now and then after a failed attempt) and
    ends with a sign-out, unless that is after the log's end. No workbook id: not impressions."""
    days: dict[tuple[str, date], list[datetime]] = {}
    for row in rows:
        if row.user != SERVICE_ACCOUNT:
            days.setdefault((row.user, row.at.date()), []).append(row.at)
    out: list[AuditRow] = []
    for (user, _), times in sorted(days.items()):
        signed_in = min(times) - timedelta(seconds=rng.randint(20, 240))
        if rng.random() < 0.12:
            failed = signed_in - timedelta(seconds=45)
            out.append(AuditRow(failed, "ACCESS_SIGMA", "Sign In", FAILURE, user, reason_code="INVALID_CREDENTIALS"))
        out.append(AuditRow(signed_in, "ACCESS_SIGMA", "Sign In", SUCCESS, user))
        signed_out = max(times) + timedelta(minutes=rng.randint(5, 40))
        if signed_out < end:
            out.append(AuditRow(signed_out, "ACCESS_SIGMA", "Sign Out", SUCCESS, user))
    return out


def _audit_fields(row: AuditRow) -> list[str]:
    """A row in AUDIT_LOG_HEADERS' order; times as the log's timestamps (milliseconds, UTC)."""
    return [
        f"{row.at:%Y-%m-%d %H:%M:%S}.000",
        row.event_type,
        row.event_name,
        row.event_status,
        row.reason_code or "",
        row.user,
        row.workbook or "",
        row.element or "",
        _object_name(row.workbook, row.element),
    ]


def _object_name(workbook: str | None, element: str | None) -> str:
    """The name of what the event acted on: the element, else the workbook, else nothing."""
    if workbook is None:
        return ""
    if element is None:
        return _workbook_name(workbook)
    names = {(e[0], e[1]): e[3] for e in ELEMENTS}
    return names.get((workbook, element)) or _OTHER_OBJECT_NAMES.get(element, "")


def _render_time(at: datetime, style: str, rng: random.Random) -> str:
    """The same instant in the spellings Sigma exports use (all valid per the models' rule)."""
    if style == "space":
        return f"{at:%Y-%m-%d %H:%M:%S}"
    if style == "z-millis":
        return f"{at:%Y-%m-%dT%H:%M:%S}.000Z"
    if style == "utc":
        return f"{at:%Y-%m-%d %H:%M:%S} UTC"
    if style == "offset":
        local = at + timedelta(hours=1)
        return f"{local:%Y-%m-%d %H:%M:%S}+01:00"
    if style == "t":
        return f"{at:%Y-%m-%dT%H:%M:%S}Z"
    if style == "minus-offset":
        local = at - timedelta(hours=5)
        return f"{local:%Y-%m-%dT%H:%M:%S}-0500"
    raise ValueError(style)


def _render_email(user: str, style: str) -> str:
    if style == "upper-first":
        return user[:1].upper() + user[1:].replace(DOMAIN, DOMAIN.upper())
    if style == "padded":
        return f" {user} "
    return user


def _workbook_name(workbook: str) -> str:
    for row in WORKBOOKS:
        if row[0] == workbook:
            return row[2]
    return _OTHER_OBJECT_NAMES.get(workbook, "")


def _write_file(path: Path, spec: _FileSpec, rows: list[list[str]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n" if spec.crlf else "\n")
    writer.writerow(spec.headers)
    for row in rows:
        writer.writerow(row)
    data = (("\ufeff" if spec.bom else "") + text.getvalue()).encode("utf-8")
    if spec.gzip:
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as handle:
            handle.write(data)
        data = buffer.getvalue()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def seed_rows() -> tuple[list[list[str]], list[list[str]]]:
    """The demo inventory as the seed CSVs hold it (used by the tests to check the seeds match)."""
    return [list(w) for w in WORKBOOKS], [list(e) for e in ELEMENTS]
