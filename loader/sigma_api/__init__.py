"""Sync the inventory (workbooks, pages, elements, members) from Sigma's REST API v2 into DuckDB.

config: settings validated before any I/O; client: auth, paging, retries; payloads: typed records
tolerant to added or missing fields; inventory: one sync landed in one transaction, with a report.
"""
