"""A realistic demo export: what Sigma's scheduled audit-log export writes into a bucket prefix.

`write_demo(out_dir)` writes six files, one per scheduled run, the way an admin's export schedule
fills a prefix, and returns what it wrote (`DemoExport`: the files and every valid row as
written). The tests compute the marts' expected numbers from those rows with an oracle of their
own (tests/helpers/demo_facts.py).

What the files hold (the shipped seeds `seeds/sigma_workbooks.csv` and
`seeds/sigma_workbook_elements.csv` are the matching inventory, with fixed ids):

- The first file is a backfill (the first run of a new export schedule sends the history): events
  of the last ~95 days. The five later runs, twelve hours apart, each re-send the last six hours
  of the previous run (exports overlap; Sigma delivers at least once), and a few re-sent events
  carry a corrected count (the later file wins).
- Event times are anchored to midnight UTC of `now`'s day, and every event is before yesterday
  18:00 UTC, so writing the demo twice on the same day writes the same content. The files'
  modification times are set (os.utime) 62, 50, 38, 26, 14 and 2 hours before now, in run order,
  so the loader's default 3-day lookback takes all six, while their rows span ~95 days.
- File names are stable (`sigma_audit_run-1.csv.gz` ... `sigma_audit_run-6.csv`), unlike a real
  schedule's timestamped names: writing the demo again on a later day rewrites the same six files
  with the events shifted by the days passed, and the loader then replaces their rows (changed
  etag) instead of adding a second, shifted copy of the history. So `make run` gives the same
  report on any day, as many times as it runs.
- Header spellings differ between files (`Request Time`, `USER_EMAIL`, `email`, `workbookUrlId`,
  `NODE_ID`, `IMPRESSIONS`...), one file has no count column (repeated rows add up), one starts
  with a UTF-8 BOM, three are gzipped, timestamps come with `Z`, `UTC`, offsets and fractions.
- Workbook-level rows (empty element id) and element-level rows; 15 users; rows with count > 1.
- A workbook nobody opens, a workbook that stopped being used 35 days ago, a workbook missing
  from the inventory, an element missing from the inventory, elements nobody views.
- Bad rows: blank and invalid timestamps, a missing email, a missing workbook id, invalid counts,
  and a line with one field too many.
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
MTIME_HOURS_AGO = (62, 50, 38, 26, 14, 2)  # within the loader's default 3-day lookback
BACKFILL_DAYS = 95

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
class DemoExport:
    """What write_demo wrote."""

    files: list[Path]
    total_rows: int  # data records written, bad and re-sent ones included
    as_of_date: date  # the day the demo is anchored to (UTC)
    written: list[tuple[int, DemoEvent]]  # (file index, valid row as written), in write order

    @property
    def events(self) -> int:
        """Distinct events (an event re-sent by a later run, or split over rows, counts once)."""
        return len({event.key for _, event in self.written})

    @property
    def users(self) -> list[str]:
        """Every user with a valid impression."""
        return sorted({event.user for _, event in self.written})


def write_demo(out_dir: Path, seed: int = 42, now: datetime | None = None) -> DemoExport:
    """Write the demo export files into out_dir and return what was written."""
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
        stamp = (now - timedelta(hours=MTIME_HOURS_AGO[index])).timestamp()
        os.utime(path, (stamp, stamp))
        files.append(path)
        total_rows += len(rows)
    return DemoExport(files, total_rows, as_of, written)


def _generate_events(rng: random.Random, midnight: datetime) -> list[DemoEvent]:
    """Sessions per user and day: a workbook-level row, then a few element-level rows."""
    last_event = midnight - timedelta(hours=6)  # the last run is yesterday 18:00
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
    opened = day + timedelta(hours=rng.randint(7, 18), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
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
    return "Ad-hoc Churn Analysis"


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
