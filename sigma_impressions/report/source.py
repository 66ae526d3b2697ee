"""Where the report reads: which DuckDB file (one rule for every format), opened read-only, and
how a query's rows come back (dicts keyed by column name).

By default the published snapshot (`run` and `publish` write it; readers never wait for a run
and never see half of one). `--database FILE` reads that file instead, typically the working file,
which a running load or dbt build holds: the report then says it is in use.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from sigma_impressions.publish import published_path

MARTS = "marts"
NOT_BUILT = "run `sigma-impressions run` or `dbt build` first"


class ReportError(Exception):
    """The report cannot be read; the message is one line that says what to do."""


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


def connect(database: str, marts: Iterable[str]) -> duckdb.DuckDBPyConnection:
    """`database` opened read-only, once it holds every mart in `marts`. Raises ReportError (one
    line) when the file is missing, in use by a writer, or not built yet."""
    if not os.path.exists(database):
        raise ReportError(f"no database at {database}: {NOT_BUILT}")
    try:
        con = duckdb.connect(database, read_only=True)
    except duckdb.Error as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise ReportError(
                f"the database {database} is in use by another process (a load or dbt build?): "
                "read the published snapshot instead (report without --database), or wait for it to finish"
            ) from exc
        raise ReportError(f"cannot open {database}: {one_line(text)}") from exc
    try:
        present = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = current_database() and table_schema = ?",
                [MARTS],
            ).fetchall()
        }
    except duckdb.Error as exc:
        con.close()
        raise ReportError(f"cannot read the marts in {database}: {one_line(str(exc))}") from exc
    missing = [mart for mart in marts if mart not in present]
    if missing:
        con.close()
        raise ReportError(f"{database} has no {MARTS}.{missing[0]} yet: {NOT_BUILT}")
    return con


def read_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    """The rows of one query, each a dict keyed by the query's column names."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one_line(text: str, width: int = 200) -> str:
    """An error message squeezed onto one line of at most `width` characters."""
    return " ".join(text.split())[:width]
