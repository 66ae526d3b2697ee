"""How old the newest export file is, judged by the dbt source freshness thresholds.

Sigma's scheduled export fails silently (an expired credential, a changed bucket): the only sign
is that no new file arrives. dbt's source freshness on `sigma_raw.loaded_files` (the newest
`last_modified`, thresholds `vars.sigma_freshness_warn_after_hours` / `_error_after_days`) is
the one rule. sigma_impressions.dbt_runner.run_source_freshness asks dbt after a build
(`freshness_from_result` reads its answer); `judge` applies the same thresholds (read from
dbt_project.yml) to a storage listing for `check`. Both give one line:
"newest export file is 3.2 days old: is Sigma's export schedule running?".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from loader.contract import freshness_thresholds

QUESTION = "is Sigma's export schedule running?"


@dataclass(frozen=True)
class Thresholds:
    """Warn past `warn_after`, error past `error_after` (ages strictly greater, as dbt judges)."""

    warn_after: timedelta = timedelta(hours=36)
    error_after: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class ExportFreshness:
    """The newest export file's age and dbt's verdict: pass, warn, error, or unknown (with why)."""

    status: str
    age: timedelta | None = None
    newest_at: datetime | None = None
    reason: str = ""

    @property
    def is_error(self) -> bool:
        """Error-level staleness: `run` exits 1 on it (a warning does not)."""
        return self.status == "error"

    def line(self) -> str:
        if self.age is None and self.status in ("warn", "error"):
            return f"no export file has been loaded yet: {QUESTION}"
        if self.age is None:
            return f"newest export file: age unknown ({self.reason or 'no export file loaded'})"
        text = f"newest export file is {format_age(self.age)} old"
        return f"{text}: {QUESTION}" if self.status in ("warn", "error") else text


def format_age(age: timedelta) -> str:
    """'3.2 days' from one day on, '5.0 hours' from one hour on, else whole minutes."""
    seconds = max(age.total_seconds(), 0.0)
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{int(seconds // 60)} minutes"


def load_thresholds(project: Path | None = None) -> Thresholds:
    """The thresholds declared in dbt_project.yml's vars (defaults: 36 hours, 7 days)."""
    warn_hours, error_days = freshness_thresholds(project)
    return Thresholds(warn_after=timedelta(hours=warn_hours), error_after=timedelta(days=error_days))


def judge(newest_at: datetime | None, thresholds: Thresholds, now: datetime | None = None) -> ExportFreshness:
    """The verdict for a newest last_modified (naive means UTC), as `dbt source freshness` gives it."""
    if newest_at is None:
        return ExportFreshness(status="unknown", reason="no export file found")
    now = now or datetime.now(timezone.utc)
    newest = newest_at if newest_at.tzinfo else newest_at.replace(tzinfo=timezone.utc)
    age = now - newest
    if age > thresholds.error_after:
        status = "error"
    elif age > thresholds.warn_after:
        status = "warn"
    else:
        status = "pass"
    return ExportFreshness(status=status, age=age, newest_at=newest)


def freshness_from_result(result: Any) -> ExportFreshness:
    """Read dbt's source freshness result (a dbtRunner result) for loaded_files."""
    results = getattr(getattr(result, "result", None), "results", None) or []
    if not results:
        exception = getattr(result, "exception", None)
        reason = " ".join(str(exception).split())[:200] if exception else "dbt returned no freshness result"
        return ExportFreshness(status="unknown", reason=reason)
    # The run's on-run-start hooks report results of their own: take the source's.
    sources = [r for r in results if str(getattr(getattr(r, "node", None), "unique_id", "")).startswith("source.")]
    node = sources[0] if sources else results[0]
    status = str(getattr(node.status, "value", node.status))
    age = getattr(node, "age", None)
    if status not in ("pass", "warn", "error") or age is None:
        message = " ".join(str(getattr(node, "message", "") or status).split())
        if "does not exist" in message:
            message = "sigma_raw.loaded_files does not exist: run `sigma-impressions load` first"
        return ExportFreshness(status="unknown", reason=message[:200])
    newest = node.max_loaded_at
    if newest is None or newest.year < 1970:
        # An empty loaded_files: dbt measures from its minimum timestamp (an age of ~2000 years).
        return ExportFreshness(status=status, reason="no export file loaded yet")
    return ExportFreshness(status=status, age=timedelta(seconds=float(age)), newest_at=newest)
