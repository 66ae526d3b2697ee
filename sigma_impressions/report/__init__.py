"""`sigma-impressions report`: what an admin acts on, read from the marts.

sections.build_report(database, limit, sections) -> list[Section] is the data (every number a
marts' contract column); render holds one function per output format (RENDERERS) and
print_report, which the CLI calls. source.report_database chooses the file every format reads:
the published snapshot unless a database is given. html.py renders the one-page HTML report
(charts, drill-down) from its template in templates/.
"""

from sigma_impressions.report.render import RENDERERS, print_report
from sigma_impressions.report.sections import FIXES, SECTIONS, ReportError, Section, build_report, trend
from sigma_impressions.report.source import report_database

__all__ = [
    "FIXES",
    "RENDERERS",
    "SECTIONS",
    "ReportError",
    "Section",
    "build_report",
    "print_report",
    "report_database",
    "trend",
]
