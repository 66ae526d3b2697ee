"""The canonical columns and their header aliases, read from dbt_project.yml (the one list).

The dbt staging model resolves columns with the same var and the same normalization rule, so
`sigma-impressions check` tells exactly what `dbt build` will do with a file's headers.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import yaml

REQUIRED = ("request_time", "user_email", "workbook_url_id")
OPTIONAL = ("element_id", "count")
ALIASES_VAR = "sigma_column_aliases"


def project_dir() -> Path:
    """The dbt project folder: SIGMA_IMPRESSIONS_PROJECT_DIR, else the checkout this package is in."""
    configured = os.environ.get("SIGMA_IMPRESSIONS_PROJECT_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent


@lru_cache(maxsize=4)
def load_aliases(project: Path | None = None) -> dict[str, list[str]]:
    """canonical column -> alias list, in priority order, from the var in dbt_project.yml."""
    path = (project or project_dir()) / "dbt_project.yml"
    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    aliases = (config.get("vars") or {}).get(ALIASES_VAR)
    if not isinstance(aliases, dict) or not all(c in aliases for c in (*REQUIRED, *OPTIONAL)):
        raise ValueError(f"{path}: vars.{ALIASES_VAR} must list aliases for {REQUIRED + OPTIONAL}")
    return {str(k): [normalize_header(str(a)) for a in v] for k, v in aliases.items()}


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
