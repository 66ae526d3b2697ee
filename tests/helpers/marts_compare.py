"""Compare two sets of mart tables row for row: EXCEPT ALL both ways, over their shared columns.

`mart_differences(con, left, right)` takes two relation prefixes ("marts", "reference",
"other.marts" of an attached database) and returns, per mart, the rows found only on one side
(at most a few each, for the assertion message). An empty dict means every mart is identical.
"""

from __future__ import annotations

import duckdb

MARTS = (
    "fct_sigma_impressions",
    "sigma_workbook_impressions",
    "sigma_element_impressions",
    "sigma_user_activity",
    "sigma_daily_impressions",
    "sigma_unmatched_impressions",
    "sigma_rejected_impressions",
)


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return con.sql(f"select * from {relation} limit 0").columns


def mart_differences(
    con: duckdb.DuckDBPyConnection, left: str, right: str, marts: tuple[str, ...] = MARTS, sample: int = 5
) -> dict[str, dict[str, list[tuple]]]:
    """{mart: {"only_left": rows, "only_right": rows, "columns": ...}} for every mart that differs."""
    differences: dict[str, dict[str, list[tuple]]] = {}
    for mart in marts:
        left_relation, right_relation = f"{left}.{mart}", f"{right}.{mart}"
        right_columns = set(_columns(con, right_relation))
        shared = [c for c in _columns(con, left_relation) if c in right_columns]
        if not shared:
            raise AssertionError(f"{mart}: no shared columns between {left} and {right}")
        select = ", ".join(f'"{c}"' for c in shared)
        only_left = con.execute(
            f"select {select} from {left_relation} except all select {select} from {right_relation} limit {sample}"
        ).fetchall()
        only_right = con.execute(
            f"select {select} from {right_relation} except all select {select} from {left_relation} limit {sample}"
        ).fetchall()
        if only_left or only_right:
            differences[mart] = {"columns": shared, "only_left": only_left, "only_right": only_right}
    return differences


def row_counts(con: duckdb.DuckDBPyConnection, schema: str, marts: tuple[str, ...] = MARTS) -> dict[str, int]:
    return {mart: con.execute(f"select count(*) from {schema}.{mart}").fetchone()[0] for mart in marts}
