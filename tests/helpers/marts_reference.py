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

from tests.helpers.marts_compare import mart_differences

REFERENCE_SQL = Path(__file__).resolve().parents[2] / "bench" / "marts_reference.sql"
STAGING_ROWS = "select * from staging.stg_sigma__impression_rows"
STAGING_FILE_COLUMNS = (
    "select file_uri, has_event_name_column, has_event_status_column from staging.stg_sigma__loaded_files"
)
# Exports without event columns (the benchmark's).
NO_EVENT_COLUMNS = (
    "select file_uri, false as has_event_name_column, false as has_event_status_column from sigma_raw.loaded_files"
)
# For exports with the canonical header only (the benchmark's): the rows parsed straight from the
# raw table with DuckDB's own casts (the dbt models parse to the stricter contract rule), so the
# reference runs without any dbt model, as the benchmark's "hand-written SQL of all the marts".
FIXED_HEADER_ROWS = """
select
    _file_uri, _file_row_number, _loaded_at,
    request_time as raw_request_time, user_email as raw_user_email, workbook_url_id as raw_workbook_url_id,
    element_id as raw_element_id, "count" as raw_count,
    null::varchar as event_name, null::varchar as event_status,
    parsed_request_time as request_time, parsed_user_email as user_email,
    parsed_workbook_url_id as workbook_url_id, parsed_element_id as element_id, impression_count,
    case
        when parsed_request_time is null then 'invalid_request_time'
        when parsed_user_email is null then 'missing_user_email'
        when parsed_workbook_url_id is null then 'missing_workbook_url_id'
        when impression_count is null or impression_count < 1 then 'invalid_count'
    end as rejection_reason
from (
    select
        *,
        try_cast(replace(replace(nullif(trim(request_time), ''), 'T', ' '), 'Z', '') as timestamp)
            as parsed_request_time,
        lower(nullif(trim(user_email), '')) as parsed_user_email,
        nullif(trim(workbook_url_id), '') as parsed_workbook_url_id,
        nullif(trim(element_id), '') as parsed_element_id,
        try_cast(coalesce(nullif(trim("count"), ''), '1') as bigint) as impression_count
    from sigma_raw.impression_rows
)
"""


def reference_sql(
    as_of_date: str,
    parsed_rows: str = STAGING_ROWS,
    file_columns: str = STAGING_FILE_COLUMNS,
    raw_schema: str = "sigma_raw",
    workbooks: str = "inventory.sigma_workbooks",
    elements: str = "inventory.sigma_workbook_elements",
) -> str:
    """The reference script with its placeholders filled."""
    # Comment lines name the placeholders: drop them, so a multi-line value cannot end up there.
    text = "\n".join(line for line in REFERENCE_SQL.read_text().splitlines() if not line.lstrip().startswith("--"))
    for name, value in {
        "parsed_rows": parsed_rows,
        "file_columns": file_columns,
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


def reference_differences(database: Path | str, as_of_date: str, **relations: str) -> dict:
    """Build the reference beside the marts and return mart_differences(marts, reference): {} when
    every mart equals it row for row."""
    build_reference(database, as_of_date, **relations)
    with duckdb.connect(str(database), read_only=True) as con:
        return mart_differences(con, "marts", "reference")
