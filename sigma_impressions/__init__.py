"""sigma-impressions, the application: the `sigma-impressions` CLI, the `run` pipeline (load, then
dbt build), the dbt runner, the report and the demo export. Landing data is `loader/`'s job."""

__version__ = "0.1.0"
