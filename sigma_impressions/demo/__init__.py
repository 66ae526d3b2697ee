"""`sigma-impressions demo`: a realistic Sigma audit-log export (six view exports and one raw audit
log) and its matching inventory (the seeds; sigma_api_server serves the same inventory, members
and teams from a local Sigma REST API stand-in)."""

from sigma_impressions.demo.export import (
    AUDIT_LOG_HEADERS,
    AUDIT_LOG_NAME,
    DEMO_EXCLUDED_USERS,
    ELEMENTS,
    EXPECTED_REJECTED,
    LEGACY,
    SERVICE_ACCOUNT,
    SERVICE_ACCOUNT_WORKBOOKS,
    SUPPORT,
    UNKNOWN,
    UNKNOWN_ELEMENT,
    VIEW_EVENTS,
    WORKBOOKS,
    AuditRow,
    DemoEvent,
    DemoExport,
    seed_rows,
    write_demo,
)

__all__ = [
    "AUDIT_LOG_HEADERS",
    "AUDIT_LOG_NAME",
    "DEMO_EXCLUDED_USERS",
    "ELEMENTS",
    "EXPECTED_REJECTED",
    "LEGACY",
    "SERVICE_ACCOUNT",
    "SERVICE_ACCOUNT_WORKBOOKS",
    "SUPPORT",
    "UNKNOWN",
    "UNKNOWN_ELEMENT",
    "VIEW_EVENTS",
    "WORKBOOKS",
    "AuditRow",
    "DemoEvent",
    "DemoExport",
    "seed_rows",
    "write_demo",
]
