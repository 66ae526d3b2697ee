"""`check`: is the source usable? List the prefix, read the newest export file, map its columns and
tally its events.

The header is read by csv_reader's rule and mapped by contract's; the rows are read as `load` lands
them (csv_reader.export_records, streaming, gzip too) and judged by contract's event rule
(counts_as_view); so `check` says what `load` and `dbt build` will do with the file.

Usable (exit 0): the window holds an export file, and the newest one can be read, has a header with
every required column, and, where it has an event name or event status column and rows, at least one
row that counts as a view. A file whose rows are all other events (sign-ins, admin changes,
exports...) is not usable (exit 1): nothing of it would be counted, and the line names the two vars
to set.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from loader.config import LoadConfig
from loader.contract import (
    OPTIONAL,
    REQUIRED,
    SUCCESS_STATUS_PATTERN_VAR,
    VIEW_EVENT_PATTERN_VAR,
    EventPatterns,
    counts_as_view,
    event_patterns,
    load_aliases,
    map_header_positions,
    map_headers,
    missing_required,
    project_dir,
    resolve_value,
)
from loader.csv_reader import UnreadableFile, decompressed, export_records
from loader.freshness import ExportFreshness, judge, load_thresholds
from loader.storage import ExportObject, describe_error, list_exports, make_filesystem

EVENT_LINES = 20  # (event name, status) pairs listed, the most frequent first; the rest in one line
# What a missing optional column means for the file's rows.
WITHOUT = {
    "element_id": "workbook-level only",
    "count": "every row counts 1",
    "event_name": "every row is a view",
    "event_status": "every status counts",
}


@dataclass
class EventMix:
    """The rows of a file by (event name, event status), each trimmed ('' when empty or when the file
    has no such column), and the event rule that judges them."""

    has_name_column: bool
    has_status_column: bool
    patterns: EventPatterns
    rows: Counter[tuple[str, str]] = field(default_factory=Counter)

    def counts(self, name: str, status: str) -> bool:
        return counts_as_view(name, status, self.has_name_column, self.has_status_column, self.patterns)

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def counted(self) -> int:
        return sum(n for (name, status), n in self.rows.items() if self.counts(name, status))

    @property
    def no_view_events(self) -> bool:
        """The file has event columns and rows, and none of them counts."""
        return (self.has_name_column or self.has_status_column) and self.total > 0 and self.counted == 0

    def lines(self, uri: str) -> list[str]:
        if not (self.has_name_column or self.has_status_column):
            return [f"events in {uri}: no event name or status column: every row counts"]
        if not self.total:
            return [f"events in {uri}: no records"]
        columns = [i for i, present in enumerate((self.has_name_column, self.has_status_column)) if present]
        labels = " / ".join(("event name", "status")[i] for i in columns)
        shown = sorted(self.rows.items(), key=lambda item: (-item[1], item[0]))
        out = [f"events in {uri} ({labels}: rows): {self.counted:,} of {_rows(self.total)} counted"]
        for pair, rows in shown[:EVENT_LINES]:
            verdict = "counted" if self.counts(*pair) else "not counted"
            out.append(f"  {' / '.join(repr(pair[i]) for i in columns)}: {_rows(rows)}, {verdict}")
        rest = shown[EVENT_LINES:]
        if rest:
            out.append(f"  ... {len(rest):,} more: {_rows(sum(rows for _, rows in rest))}")
        return out

    def no_view_events_line(self, uri: str) -> str:
        return (
            f"no view events in {uri}: no row matches vars.{VIEW_EVENT_PATTERN_VAR} ({self.patterns.view_event!r}) / "
            f"vars.{SUCCESS_STATUS_PATTERN_VAR} ({self.patterns.success_status!r}); set them in dbt_project.yml "
            "to your export's event names"
        )


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def tally_events(
    headers: list[str], records: Iterable[list[str]], aliases: dict[str, list[str]], patterns: EventPatterns
) -> EventMix:
    """The event mix of a file's records (those `load` lands), each value the first non-blank alias of
    its row. A file with neither event column is every row a view: its records are not read."""
    positions = map_header_positions(headers, aliases)
    names, statuses = positions["event_name"], positions["event_status"]
    mix = EventMix(bool(names), bool(statuses), patterns)
    if names or statuses:
        for record in records:
            mix.rows[resolve_value(record, names), resolve_value(record, statuses)] += 1
    return mix


@dataclass
class CheckReport:
    bucket: str
    days_back: int
    files_in_window: int
    older_files: int
    ignored_objects: int
    newest: ExportObject | None = None
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, list[str]] = field(default_factory=dict)
    events: EventMix | None = None  # the newest file's rows by event
    problem: str | None = None
    # The newest export file's age (in the window or older), by dbt's source freshness thresholds.
    freshness: ExportFreshness | None = None

    @property
    def missing_required(self) -> list[str]:
        if self.newest is None or self.problem:
            return []
        return missing_required(self.mapping)

    @property
    def no_view_events(self) -> bool:
        return self.events is not None and not self.problem and self.events.no_view_events

    @property
    def usable(self) -> bool:
        return self.newest is not None and not self.problem and not self.missing_required and not self.no_view_events

    def lines(self) -> list[str]:
        out = [
            f"prefix: {self.bucket}",
            f"export files in the last {self.days_back} day(s): {self.files_in_window}"
            f" (older: {self.older_files}, other objects ignored: {self.ignored_objects})",
        ]
        if self.freshness is not None:
            out.append(self.freshness.line())
        if self.newest is None:
            out.append(
                "not usable: no .csv or .csv.gz export in the window; check the prefix and "
                "that the Sigma export schedule has run"
            )
            return out
        out.append(f"newest: {self.newest.uri} ({self.newest.last_modified:%Y-%m-%d %H:%M} UTC)")
        if self.problem:
            out.append(f"not usable: {self.problem}")
            return out
        for column in (*REQUIRED, *OPTIONAL):
            feeds = self.mapping.get(column) or []
            if feeds:
                out.append(f"  {column:<16} <- {', '.join(repr(h) for h in feeds)}")
            elif column in REQUIRED:
                out.append(f"  {column:<16} MISSING (required): add one of its aliases")
            else:
                out.append(f"  {column:<16} not present (optional: {WITHOUT[column]})")
        if self.events is not None:
            out.extend(self.events.lines(self.newest.uri))
        if self.missing_required:
            out.append(
                "not usable: missing required column(s) "
                + ", ".join(self.missing_required)
                + "; rename the export's headers or add the spelling to vars.sigma_column_aliases"
            )
        if self.no_view_events and self.events is not None:
            out.append(f"not usable: {self.events.no_view_events_line(self.newest.uri)}")
        if self.usable:
            out.append("usable: yes")
        return out


def run_check(config: LoadConfig, now: datetime | None = None, filesystem: Any = None) -> CheckReport:
    fs = filesystem or make_filesystem(config)
    listing = list_exports(fs, config.bucket, config.days_back, now=now)
    report = CheckReport(
        bucket=str(config.bucket),
        days_back=config.days_back,
        files_in_window=len(listing.in_window),
        older_files=listing.older,
        ignored_objects=listing.ignored,
        freshness=judge(listing.newest_at, load_thresholds(project_dir()), now=now),
    )
    if not listing.in_window:
        return report
    report.newest = listing.in_window[-1]
    try:
        aliases, patterns = load_aliases(), event_patterns()
    except ValueError as exc:  # a var of dbt_project.yml: the line names it
        report.problem = str(exc)
        return report
    reading = "the newest file's header"
    try:
        with open_export(fs, report.newest) as raw, export_records(raw) as (headers, records):
            report.headers = headers
            if not headers:
                report.problem = "the newest file is empty (no header line)"
                return report
            report.mapping = map_headers(headers, aliases)
            reading = "the newest file"
            report.events = tally_events(headers, records, aliases, patterns)
    except UnreadableFile as exc:  # the words `load` would record for this file
        report.problem = f"`load` would mark the newest file failed: {exc}"
    except Exception as exc:  # any client or parse error: a readable line, never a traceback
        report.problem = f"cannot read {reading}: {describe_error(exc, config.bucket.scheme)}"
    return report


@contextlib.contextmanager
def open_export(fs: Any, obj: ExportObject) -> Iterator[BinaryIO]:
    """The object's bytes as a stream (gunzipped as read for a .gz): only what is read is fetched."""
    with fs.open(obj.path, "rb") as raw, decompressed(raw, obj.is_gzip) as plain:
        yield plain
