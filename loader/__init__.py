"""sigma-impressions: land Sigma audit-log exports in DuckDB for the dbt models to transform."""

__version__ = "0.1.0"
