"""The contenders that are not the project's own CLI, each run as its own process.

    python bench/workers.py floor  --database DB --files-dir DIR
    python bench/workers.py pandas --database DB --files-dir DIR
    python bench/workers.py dlt    --database DB --files-dir DIR --pipelines-dir DIR
    python bench/workers.py sql    --database DB --sql-file FILE

`floor` is DuckDB alone: one CREATE TABLE AS over every file, all VARCHAR, union by name.
`pandas` reads each file with pandas.read_csv (all str, the default C engine) and inserts the
frame into DuckDB. `dlt` is dlt's filesystem source piped into its `read_csv_duckdb` reader (with
pyarrow batches, its fastest CSV path) into the dlt duckdb destination. `sql` runs a SQL file
(the hand-written mart) against a database. Each one keeps only what it needs to do the job.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

FIXED_COLUMNS = ("request_time", "user_email", "workbook_url_id", "element_id", "count")


def _files(files_dir: str) -> list[str]:
    return [str(p) for p in sorted(Path(files_dir).glob("*.csv"))]


def floor(database: str, files_dir: str, fixed_schema: bool = False) -> int:
    """DuckDB alone. `fixed_schema`: the five columns declared, no sniffing, no union by name."""
    con = duckdb.connect(database)
    if fixed_schema:
        columns = {name: "VARCHAR" for name in FIXED_COLUMNS}
        options = "columns = $columns, header = true, auto_detect = false"
        params: dict = {"files": _files(files_dir), "columns": columns}
    else:
        options = "all_varchar = true, union_by_name = true"
        params = {"files": _files(files_dir)}
    con.execute(f"create table impression_rows as select * from read_csv($files, {options})", params)
    rows = con.execute("select count(*) from impression_rows").fetchone()[0]
    con.close()
    return rows


def pandas_loop(database: str, files_dir: str) -> int:
    import pandas as pd

    con = duckdb.connect(database)
    rows = 0
    created = False
    for path in _files(files_dir):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        con.register("frame", frame)
        if not created:
            con.execute("create table impression_rows as select * from frame")
            created = True
        else:
            con.execute("insert into impression_rows by name select * from frame")
        con.unregister("frame")
        rows += len(frame)
    con.close()
    return rows


def dlt_pipeline(database: str, files_dir: str, pipelines_dir: str, chunk_size: int) -> int:
    import dlt
    from dlt.sources.filesystem import filesystem, read_csv_duckdb

    files = filesystem(bucket_url=Path(files_dir).resolve().as_uri(), file_glob="*.csv")
    reader = (files | read_csv_duckdb(chunk_size=chunk_size, use_pyarrow=True, all_varchar=True)).with_name(
        "impression_rows"
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_dlt",
        destination=dlt.destinations.duckdb(database),
        dataset_name="sigma_raw",
        pipelines_dir=pipelines_dir,
    )
    pipeline.run(reader)
    con = duckdb.connect(database)
    rows = con.execute("select count(*) from sigma_raw.impression_rows").fetchone()[0]
    con.close()
    return rows


def run_sql(database: str, sql_file: str) -> int:
    con = duckdb.connect(database)
    con.execute(Path(sql_file).read_text())
    con.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workers.py")
    parser.add_argument("contender", choices=("floor", "pandas", "dlt", "sql"))
    parser.add_argument("--database", required=True)
    parser.add_argument("--files-dir")
    parser.add_argument("--pipelines-dir")
    parser.add_argument("--sql-file")
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--fixed-schema", action="store_true")
    args = parser.parse_args(argv)
    if args.contender == "floor":
        rows = floor(args.database, args.files_dir, args.fixed_schema)
    elif args.contender == "pandas":
        rows = pandas_loop(args.database, args.files_dir)
    elif args.contender == "dlt":
        rows = dlt_pipeline(args.database, args.files_dir, args.pipelines_dir, args.chunk_size)
    else:
        rows = run_sql(args.database, args.sql_file)
    print(f"rows={rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
