"""`check`: is the source usable? List the prefix, read the newest export's header, map columns.

The header is read by csv_reader's rule and mapped by contract's, so `check` says what `load`
and `dbt build` will do with the file."""

from __future__ import annotations

import contextlib
import gzip
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loader.config import LoadConfig
from loader.contract import OPTIONAL, REQUIRED, load_aliases, map_headers, missing_required, project_dir
from loader.csv_reader import UnreadableFile, read_header_from
from loader.freshness import ExportFreshness, judge, load_thresholds
from loader.storage import ExportObject, describe_error, list_exports, make_filesystem


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
    problem: str | None = None
    # The newest export file's age (in the window or older), by dbt's source freshness thresholds.
    freshness: ExportFreshness | None = None

    @property
    def missing_required(self) -> list[str]:
        if self.newest is None or self.problem:
            return []
        return missing_required(self.mapping)

    @property
    def usable(self) -> bool:
        return self.newest is not None and not self.problem and not self.missing_required

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
            kind = "required" if column in REQUIRED else "optional"
            if feeds:
                out.append(f"  {column:<16} <- {', '.join(repr(h) for h in feeds)}")
            elif kind == "required":
                out.append(f"  {column:<16} MISSING (required): add one of its aliases")
            else:
                default = "every row counts 1" if column == "count" else "workbook-level only"
                out.append(f"  {column:<16} not present (optional: {default})")
        if self.missing_required:
            out.append(
                "not usable: missing required column(s) "
                + ", ".join(self.missing_required)
                + "; rename the export's headers or add the spelling to vars.sigma_column_aliases"
            )
        else:
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
        report.headers = read_remote_header(fs, report.newest)
    except UnreadableFile as exc:  # the words `load` would record for this file
        report.problem = f"`load` would mark the newest file failed: {exc}"
        return report
    except Exception as exc:  # any client or parse error: a readable line, never a traceback
        report.problem = f"cannot read the newest file's header: {describe_error(exc, config.bucket.scheme)}"
        return report
    if not report.headers:
        report.problem = "the newest file is empty (no header line)"
        return report
    report.mapping = map_headers(report.headers, load_aliases())
    return report


def read_remote_header(fs: Any, obj: ExportObject) -> list[str]:
    """Stream only the beginning of the object and read its header by the rule `load` uses."""
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(fs.open(obj.path, "rb"))
        if obj.is_gzip:
            raw = stack.enter_context(gzip.GzipFile(fileobj=raw))
        return read_header_from(raw)
