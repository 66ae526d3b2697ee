"""Which DuckDB file the report reads: one rule for every format.

By default the published snapshot (`run` and `publish` write it; readers never wait for a run
and never see half of one). `--database FILE` reads that file instead, typically the working file,
which a running load or dbt build holds: the report then says it is in use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sigma_impressions.publish import published_path
from sigma_impressions.report.sections import ReportError


def report_database(database: str | None, published: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """`database` when given; else the snapshot (`published`, else SIGMA_IMPRESSIONS_PUBLISHED_PATH in
    `env`, else warehouse/sigma_impressions_marts.duckdb). Raises ReportError (one line) when
    there is no snapshot yet."""
    if database is not None and database.strip():
        return database
    path = published_path(published, env)
    if not os.path.exists(path):
        raise ReportError(
            f"no published snapshot at {path} yet: run `sigma-impressions run`, or `sigma-impressions publish` "
            "after `dbt build` (or read a working file with --database)"
        )
    return path
