"""The facts Python shares with the dbt project, each stated once.

- REQUIRED / OPTIONAL: the canonical columns of an impression (the staging model's contract).
- RAW_SCHEMA: the schema the loader lands into (the dbt sources read it).
- METADATA_COLUMNS: the columns the loader adds to every landed row of sigma_raw.impression_rows.
- normalize_header / map_headers: the one header-matching rule (the dbt macro applies the same).
- aliases(), impression_windows() and freshness_thresholds(): read from `vars` in
  dbt_project.yml, the one list of each.

Nothing else in Python repeats these lists: import them from here.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REQUIRED = ("request_time", "user_email", "workbook_url_id")
OPTIONAL = ("element_id", "count")
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


def normalize_header(header: str) -> str:
    """'\\ufeff Workbook URL ID ' -> 'workbook_url_id' (the rule the dbt models apply too)."""
    text = header.replace("\ufeff", "").strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def map_headers(headers: list[str], aliases: dict[str, list[str]]) -> dict[str, list[str]]:
    """canonical column -> the file's headers that feed it, in alias priority order."""
    by_normalized: dict[str, list[str]] = {}
    for header in headers:
        by_normalized.setdefault(normalize_header(header), []).append(header)
    return {
        canonical: [h for alias in alias_list for h in by_normalized.get(alias, [])]
        for canonical, alias_list in aliases.items()
    }


def missing_required(mapping: dict[str, list[str]]) -> list[str]:
    """The required columns no header feeds (every row of such a file is rejected)."""
    return [column for column in REQUIRED if not mapping.get(column)]
