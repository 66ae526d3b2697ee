"""loader: land Sigma audit-log exports (s3://, gs://, file://) in DuckDB's sigma_raw schema.

config (validated settings) -> storage (list and fetch per scheme) -> csv_reader (header and
records) -> landing (manifest, batches, one transaction per batch). check tells what a load would
do; contract holds the facts shared with the dbt project (columns, aliases, windows)."""
