"""Sync the inventory (workbooks, pages, elements, members, teams, team members) from Sigma's
REST API v2 into DuckDB (schema sigma_raw).

One module per job, in the order a sync runs them:
  config    settings validated before any I/O
  client    HTTP: token, paging (nextPage), bounded retries, 401/403/404/429/5xx
  payloads  typed records of the API's entries, tolerant to added or missing fields
  source    the API read as typed records per resource kind; entries dropped and why
  rows      typed records -> table rows
  merge     synced vs previous rows: one merge for every kind (kept, deleted, dropped, unread)
  tables    the table layout, stated once; create_inventory_tables
  writer    the previous inventory in; the new one out in one DuckDB transaction
  report    what a sync did and dropped: the printed summary and the inventory_syncs row
  inventory the steps of one sync (sync_inventory) and the API check (check_api)
"""
