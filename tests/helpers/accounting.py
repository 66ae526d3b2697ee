"""An independent count of a CSV export's records, to check the loader's accounting against."""

from __future__ import annotations

import csv
import gzip
import io


def count_records(data: bytes, gzipped: bool = False) -> int:
    """Records after the header: csv rows that are not blank lines (Python's csv module)."""
    if gzipped:
        data = gzip.decompress(data)
    text = io.StringIO(data.decode("utf-8", errors="replace"), newline="")
    records = [row for row in csv.reader(text, strict=False) if row]
    return max(len(records) - 1, 0)
