"""`sigma-impressions report`: what an admin acts on, read from the marts.

source.report_database chooses the file every format reads (the published snapshot unless a
database is given) and source.connect opens it read-only; queries holds every query the report
runs (the marts' contract columns, the rules as the marts decide them); sections defines the
sections and build_report(database, limit, sections) -> list[Section] reads each once; render
holds one function per text format (RENDERERS) and print_report, which the CLI calls; html
lays the same sections and the page's own parts out as one self-contained page (charts from
charts.py, markup from templates/report.html.j2).
"""

from sigma_impressions.report.render import RENDERERS, print_report
from sigma_impressions.report.sections import FILE_FIXES, FIXES, SECTIONS, Section, build_report
from sigma_impressions.report.source import ReportError, report_database

__all__ = [
    "FILE_FIXES",
    "FIXES",
    "RENDERERS",
    "SECTIONS",
    "ReportError",
    "Section",
    "build_report",
    "print_report",
    "report_database",
]
