"""`sigma-impressions demo`: a realistic Sigma audit-log export and its matching inventory (the seeds;
sigma_api_server serves the same inventory from a local Sigma REST API stand-in)."""

from sigma_impressions.demo.export import (
    ELEMENTS,
    EXPECTED_REJECTED,
    LEGACY,
    SUPPORT,
    UNKNOWN,
    UNKNOWN_ELEMENT,
    WORKBOOKS,
    DemoEvent,
    DemoExport,
    seed_rows,
    write_demo,
)

__all__ = [
    "ELEMENTS",
    "EXPECTED_REJECTED",
    "LEGACY",
    "SUPPORT",
    "UNKNOWN",
    "UNKNOWN_ELEMENT",
    "WORKBOOKS",
    "DemoEvent",
    "DemoExport",
    "seed_rows",
    "write_demo",
]
