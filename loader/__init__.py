"""loader: land Sigma audit-log exports (s3://, gs://, file://) in DuckDB's sigma_raw schema or a Parquet lake.

config (validated settings) -> storage (list and fetch per scheme) -> csv_reader (header and
records) -> landing (the pipeline: batches, progress, results) -> destinations (duckdb: the sigma_raw
tables, one transaction per batch; lake: Parquet objects, a manifest object per batch). database opens
the DuckDB file with one-line errors. check tells what a load would do; contract holds the facts shared
with the dbt project (columns, aliases, the event rule, windows)."""
