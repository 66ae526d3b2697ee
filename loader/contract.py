"""The facts Python shares with the dbt project, each stated once.

- REQUIRED / OPTIONAL: the canonical columns of an export row (the staging model's contract).
- RAW_SCHEMA: the schema the loader lands into (the dbt sources read it).
- METADATA_COLUMNS: the columns the loader adds to every landed row of sigma_raw.impression_rows.
- normalize_header / map_headers / resolve_value: the one header-matching rule and the first
  non-blank alias per row (the dbt macros apply the same).
- counts_as_view: the event rule, which rows of a raw audit-log export are impressions (the dbt
  models apply the same).
- load_aliases(), event_patterns(), impression_windows() and freshness_thresholds(): read from
  `vars` in dbt_project.yml, the one list of each.

Nothing else in Python repeats these lists: import them from here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REQUIRED = ("request_time", "user_email", "workbook_url_id")
OPTIONAL = ("element_id", "count", "event_name", "event_status")
RAW_SCHEMA = "sigma_raw"

# name -> DuckDB type, in the order the loader writes them.
METADATA_COLUMNS = {
    "_file_uri": "varchar",
    "_file_row_number": "bigint",
    "_loaded_at": "timestamp",
    "_integration_name": "varchar",
}
ALIASES_VAR = "sigma_column_aliases"
WINDOWS_VAR = "impression_windows"
FRESHNESS_WARN_VAR = "sigma_freshness_warn_after_hours"
FRESHNESS_ERROR_VAR = "sigma_freshness_error_after_days"
VIEW_EVENT_PATTERN_VAR = "sigma_view_event_pattern"
SUCCESS_STATUS_PATTERN_VAR = "sigma_success_status_pattern"
# The characters the models trim from a value (sigma_trim): space, tab, LF, CR, VT, FF.
TRIMMED = " \t\n\r\x0b\x0c"
PROJECT_DIR_ENV = "SIGMA_IMPRESSIONS_PROJECT_DIR"


def project_dir() -> Path:
    """The dbt project (its dbt_project.yml holds the vars read here): SIGMA_IMPRESSIONS_PROJECT_DIR,
    else the checkout this package is in."""
    configured = os.environ.get(PROJECT_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent


@lru_cache(maxsize=4)
def _dbt_vars(project: Path) -> dict[str, Any]:
    path = project / "dbt_project.yml"
    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    return dict((config or {}).get("vars") or {})


def load_aliases(project: Path | None = None) -> dict[str, list[str]]:
    """canonical column -> alias list, in priority order, from vars.sigma_column_aliases."""
    project = project or project_dir()
    aliases = _dbt_vars(project).get(ALIASES_VAR)
    if not isinstance(aliases, dict) or not all(c in aliases for c in (*REQUIRED, *OPTIONAL)):
        raise ValueError(
            f"{project / 'dbt_project.yml'}: vars.{ALIASES_VAR} must list aliases for {REQUIRED + OPTIONAL}"
        )
    return {str(k): [normalize_header(str(a)) for a in v] for k, v in aliases.items()}


def impression_windows(project: Path | None = None) -> tuple[int, ...]:
    """The marts' rolling windows in days, from vars.impression_windows (e.g. (7, 14, 30, 60, 90))."""
    project = project or project_dir()
    windows = _dbt_vars(project).get(WINDOWS_VAR)
    if not isinstance(windows, list) or not windows or not all(isinstance(n, int) and n > 0 for n in windows):
        raise ValueError(f"{project / 'dbt_project.yml'}: vars.{WINDOWS_VAR} must be a list of whole days")
    return tuple(windows)


def freshness_thresholds(project: Path | None = None) -> tuple[float, float]:
    """(warn after hours, error after days) of the export's source freshness, from
    vars.sigma_freshness_warn_after_hours / vars.sigma_freshness_error_after_days."""
    project = project or project_dir()
    values = _dbt_vars(project)
    try:
        warn_hours = float(values.get(FRESHNESS_WARN_VAR, 36))
        error_days = float(values.get(FRESHNESS_ERROR_VAR, 7))
    except (TypeError, ValueError):
        raise ValueError(
            f"{project / 'dbt_project.yml'}: vars.{FRESHNESS_WARN_VAR} and vars.{FRESHNESS_ERROR_VAR} must be numbers"
        ) from None
    return warn_hours, error_days


@dataclass(frozen=True)
class EventPatterns:
    """The two regular expressions of the event rule (counts_as_view), as dbt_project.yml sets them."""

    view_event: str = "view|open"  # vars.sigma_view_event_pattern
    success_status: str = "success|succeeded|ok"  # vars.sigma_success_status_pattern


def event_patterns(project: Path | None = None) -> EventPatterns:
    """vars.sigma_view_event_pattern and vars.sigma_success_status_pattern (defaults: EventPatterns'),
    each a non-empty regular expression; ValueError naming the var otherwise."""
    project = project or project_dir()
    values = _dbt_vars(project)
    defaults = EventPatterns()
    patterns = []
    for var, default in (
        (VIEW_EVENT_PATTERN_VAR, defaults.view_event),
        (SUCCESS_STATUS_PATTERN_VAR, defaults.success_status),
    ):
        pattern = values.get(var, default)
        if not isinstance(pattern, str) or not pattern.strip():
            raise ValueError(f"{project / 'dbt_project.yml'}: vars.{var} must be a regular expression (text)")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"{project / 'dbt_project.yml'}: vars.{var} is not a valid regular expression: {exc}"
            ) from None
        patterns.append(pattern)
    return EventPatterns(*patterns)


def counts_as_view(
    event_name: str | None,
    event_status: str | None,
    has_name_column: bool,
    has_status_column: bool,
    patterns: EventPatterns,
) -> bool:
    """The event rule: whether a row of an export is an impression. The same rule as the dbt models
    (stg_sigma__impression_rows trims the values, int_sigma__export_rows decides `is_view_event`):

    - where the file has an event_name column (a header feeds it), the row counts only when its
      trimmed event name matches `patterns.view_event`: case-insensitive, searched anywhere in the
      name; an empty name never counts;
    - where the file has an event_status column, the row counts only when its trimmed status is empty
      or matches `patterns.success_status` in full, case-insensitively;
    - a file with neither column: every row counts.

    Python's `re` reads the patterns here, RE2 (DuckDB) and Java's regex (Spark) in the models: keep
    the patterns within their common syntax (alternation, groups, classes, quantifiers, escapes;
    no lookarounds, backreferences or possessive quantifiers)."""
    if has_name_column:
        name = (event_name or "").strip(TRIMMED)
        if not name or re.search(patterns.view_event, name, re.IGNORECASE) is None:
            return False
    if has_status_column:
        status = (event_status or "").strip(TRIMMED)
        return not status or re.fullmatch(patterns.success_status, status, re.IGNORECASE) is not None
    return True


def normalize_header(header: str) -> str:
    """'\\ufeff Workbook URL ID ' -> 'workbook_url_id' (the rule the dbt models apply too)."""
    text = header.replace("\ufeff", "").strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def map_header_positions(headers: list[str], aliases: dict[str, list[str]]) -> dict[str, list[int]]:
    """canonical column -> the positions of the file's headers that feed it, in alias priority order,
    then in the file's order."""
    by_normalized: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        by_normalized.setdefault(normalize_header(header), []).append(position)
    return {
        canonical: list(dict.fromkeys(p for alias in alias_list for p in by_normalized.get(alias, [])))
        for canonical, alias_list in aliases.items()
    }


def map_headers(headers: list[str], aliases: dict[str, list[str]]) -> dict[str, list[str]]:
    """canonical column -> the file's headers that feed it, in alias priority order."""
    positions = map_header_positions(headers, aliases)
    return {canonical: [headers[p] for p in feeding] for canonical, feeding in positions.items()}


def resolve_value(record: list[str], positions: list[int]) -> str:
    """A canonical column's value on one row: the first field feeding it that is not blank, trimmed
    ('' when none), as the staging model resolves it."""
    for position in positions:
        value = record[position].strip(TRIMMED)
        if value:
            return value
    return ""


def missing_required(mapping: dict[str, list[str]]) -> list[str]:
    """The required columns no header feeds (every row of such a file is rejected)."""
    return [column for column in REQUIRED if not mapping.get(column)]
