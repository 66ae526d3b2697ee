"""Build the hand-written reference of every mart (bench/marts_reference.sql) beside the dbt marts.

`build_reference(database, as_of_date, ...)` fills the SQL's placeholders and runs it on the same
DuckDB file, writing schema `reference`; `tests.helpers.marts_compare.mart_differences` then
compares `marts` with `reference`. By default the parsed rows are dbt's staging table (the
parsing rules are checked by their own unit tests); everything after parsing (dedup, the
manifest join, resolution, windows, every mart) is computed independently of the dbt models.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

REFERENCE_SQL = Path(__file__).resolve().parents[2] / "bench" / "marts_reference.sql"
STAGING_ROWS = "select * from staging.stg_sigma__impression_rows"


def reference_sql(
    as_of_date: str,
    parsed_rows: str = STAGING_ROWS,
    raw_schema: str = "sigma_raw",
    workbooks: str = "inventory.sigma_workbooks",
    elements: str = "inventory.sigma_workbook_elements",
) -> str:
    """The reference script with its placeholders filled."""
    text = REFERENCE_SQL.read_text()
    for name, value in {
        "parsed_rows": parsed_rows,
        "raw_schema": raw_schema,
        "workbooks": workbooks,
        "elements": elements,
        "as_of_date": as_of_date,
    }.items():
        text = text.replace("{" + name + "}", value)
    return text


def build_reference(database: Path | str, as_of_date: str, **relations: str) -> None:
    """Run the reference on `database` (writes schema `reference`)."""
    with duckdb.connect(str(database)) as con:
        con.execute(reference_sql(as_of_date, **relations))
