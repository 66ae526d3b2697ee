"""What a reader of the published snapshot sees: counts and sums of every mart, from one
read-only connection. Used by the test process (expected answers) and by a reader process
(`python -m tests.helpers.snapshots SNAPSHOT OUT STOP`) that asks in a tight loop."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import duckdb

NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT", "DECIMAL", "UBIGINT")


def mart_answers(con: duckdb.DuckDBPyConnection) -> dict[str, list[Any]]:
    """{mart: [row count, sum of each numeric column ...]} for every table in schema marts."""
    columns = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = 'marts' "
        "order by table_name, ordinal_position"
    ).fetchall()
    marts: dict[str, list[str]] = {}
    for table, column, data_type in columns:
        marts.setdefault(table, [])
        if data_type.upper().startswith(NUMERIC):
            marts[table].append(column)
    answers: dict[str, list[Any]] = {}
    for table, numeric in marts.items():
        sums = "".join(f', sum("{c}")::double' for c in numeric)
        row = con.execute(f'select count(*){sums} from marts."{table}"').fetchone()
        answers[table] = [None if v is None else round(float(v), 6) for v in row]
    return answers


def answers_of(path: str) -> dict[str, list[Any]]:
    with duckdb.connect(path, read_only=True) as con:
        return mart_answers(con)


def read_loop(snapshot: str, out: str, stop: str) -> None:
    """Ask until the file `stop` exists; one JSON line per answer or error."""
    with open(out, "w") as sink:
        while not os.path.exists(stop):
            try:
                record: dict[str, Any] = {"answers": answers_of(snapshot)}
            except Exception as exc:  # every failure is what the test counts
                record = {"error": " ".join(f"{type(exc).__name__}: {exc}".split())}
            sink.write(json.dumps(record, sort_keys=True) + "\n")
            sink.flush()
            time.sleep(0.002)


if __name__ == "__main__":
    read_loop(*sys.argv[1:4])
