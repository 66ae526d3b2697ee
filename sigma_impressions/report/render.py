"""Renderers: a list of report Sections as text. `table` (rich tables for a terminal), `markdown`,
`json` (one object, a list of rows per section) and `csv` (one block per section, each with its
own header row whose first column is `section`, blocks separated by a blank line; a single
section prints as one plain CSV table). A new format is one function added to RENDERERS.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from sigma_impressions.report.sections import SECTIONS, Section, build_report
from sigma_impressions.report.source import ReportError


def print_report(database: str, fmt: str, limit: int, stream: TextIO, sections: tuple[str, ...] = SECTIONS) -> int:
    """Print the report; return the exit code (0 ok, 1 when the marts cannot be read)."""
    try:
        report = build_report(database, max(limit, 0), sections)
    except ReportError as exc:
        print(f"sigma-impressions: error: {exc}", file=sys.stderr)
        return 1
    RENDERERS[fmt](report, stream)
    return 0


def _plain(value: Any) -> Any:
    """A JSON/CSV-friendly value: ISO times, ints for decimals."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _shown(value: Any) -> str:
    """A value as a table cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(_plain(value))


def render_json(report: list[Section], stream: TextIO) -> None:
    data = {s.key: [{c: _plain(row.get(c)) for c in s.columns} for row in s.rows] for s in report}
    data["more_rows"] = {s.key: s.more for s in report if s.more}
    json.dump(data, stream, indent=2)
    stream.write("\n")


def render_csv(report: list[Section], stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    single = len(report) == 1
    for index, section in enumerate(report):
        if index:
            stream.write("\n")
        prefix = [] if single else ["section"]
        writer.writerow([*prefix, *section.columns])
        for row in section.rows:
            cells = ["" if row.get(c) is None else _plain(row.get(c)) for c in section.columns]
            writer.writerow([*([] if single else [section.key]), *cells])


def _md_cell(value: Any) -> str:
    return _shown(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: list[Section], stream: TextIO) -> None:
    stream.write("# Sigma impressions report\n")
    for section in report:
        stream.write(f"\n## {section.title}\n\n")
        if section.note:
            stream.write(f"_{section.note}_\n\n")
        if not section.rows:
            stream.write(f"_{section.empty_text}_\n")
            continue
        stream.write("| " + " | ".join(section.columns) + " |\n")
        stream.write("|" + "|".join("---" for _ in section.columns) + "|\n")
        for row in section.rows:
            stream.write("| " + " | ".join(_md_cell(row.get(c)) for c in section.columns) + " |\n")
        if section.more:
            stream.write(f"\n_and {section.more} more (raise --limit)_\n")


# The terminal view shows fewer columns than the data formats, with short labels; a section
# not listed here shows all its columns.
TABLE_COLUMNS = {
    "popular": [
        "rank",
        "workbook_name",
        "owner_email",
        "impressions_30d",
        "impressions_14d",
        "impressions_previous_14d",
        "trend",
        "unique_users_14d",
        "last_impression_at",
    ],
    "unused_workbooks": [
        "workbook_name",
        "workbook_url_id",
        "owner_email",
        "status",
        "last_impression_at",
        "impressions_90d",
        "is_stale",
    ],
    "unused_elements": [
        "workbook_name",
        "page_name",
        "element_name",
        "element_type",
        "owner_email",
        "status",
        "last_impression_at",
        "impressions_90d",
        "is_stale",
    ],
    "teams": ["team_name", "member_count", "active_members_14d", "impressions_30d", "workbooks_viewed_30d"],
    "rejected": ["reason", "rows_rejected", "files", "fix"],
    "unmatched": ["workbook_url_id", "element_id", "reason", "impressions", "unique_users", "last_seen_at", "fix"],
    "files": ["file_uri", "status", "problem", "fix"],
}
LABELS = {
    "rank": "#",
    "workbook_name": "workbook",
    "element_name": "element",
    "page_name": "page",
    "element_type": "type",
    "owner_email": "owner",
    "user_email": "user",
    "impressions_7d": "7d",
    "impressions_14d": "14d",
    "impressions_30d": "30d",
    "impressions_90d": "90d",
    "impressions_total": "all history",
    "unique_users_14d": "users 14d",
    "impressions_previous_14d": "prev 14d",
    "last_impression_at": "last seen",
    "last_seen_at": "last seen",
    "workbooks_viewed_30d": "workbooks 30d",
    "is_active_14d": "active 14d",
    "is_stale": "stale",
    "rows_rejected": "rows",
    "unique_users": "users",
    "team_name": "team",
    "member_count": "members",
    "active_members_14d": "active 14d",
    "event_name": "event",
    "event_status": "status",
}


def render_table(report: list[Section], stream: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = hasattr(stream, "isatty") and stream.isatty()
    console = Console(file=stream, width=None if terminal else 200, highlight=False)
    for section in report:
        console.print(Text(section.title, style="bold"))
        if section.note:
            console.print(Text(section.note, style="italic"))
        if not section.rows:
            console.print(Text(f"  {section.empty_text}\n"))
            continue
        table = Table(show_lines=False)
        shown = [c for c in TABLE_COLUMNS.get(section.key, section.columns) if c in section.columns]
        for column in shown:
            values = [row.get(column) for row in section.rows if row.get(column) is not None]
            numeric = bool(values) and all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in values)
            table.add_column(LABELS.get(column, column), justify="right" if numeric else "left", overflow="fold")
        for row in section.rows:
            table.add_row(*(Text(_shown(row.get(c))) for c in shown))  # names are text, not markup
        if section.more:
            table.caption = f"and {section.more} more (raise --limit)"
        console.print(table)
        console.print()


RENDERERS: dict[str, Callable[[list[Section], TextIO], None]] = {
    "table": render_table,
    "markdown": render_markdown,
    "json": render_json,
    "csv": render_csv,
}


def write_report_file(out: str, text: str) -> Path:
    """Write a rendered report to `out`, replaced whole (a reader never sees half a file); return
    its absolute path. Raises OSError when the folder or the file cannot be written."""
    target = Path(out).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
