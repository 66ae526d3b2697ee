"""Synthetic Sigma audit-log exports for the benchmark, written by DuckDB so 10M rows take seconds.

Layout (under one data folder per size):
- `history/`: one file per UTC day for the `days` days before today (90 by default), the way a daily
  scheduled export lands them: `sigma-audit-YYYY-MM-DD.csv`.
- `extra/`: the next daily file (today), landed after a full dbt build to time the incremental build.
- `files500/`: the same rows spread over 500 files (several per day; fewer in smoke runs), for the
  no-op re-run.

Rows: request_time (ISO, milliseconds, `Z`), user_email, workbook_url_id, element_id (empty for
workbook-level rows), count. Cardinalities follow a skewed (power-law) popularity: a few workbooks
and users get most impressions. How many workbooks, elements per workbook and users there are is a
`Shape` (DEFAULT_SHAPE: 400 x 12, 3,000 users; SHAPE_20M: 1,200 x 10, 3,000 users, the shape of the
20M-row memory target). Every value is a pure function of the row number and the shape, so a size
is reproducible. The inventory (workbooks and elements) is written as CSV next to the exports: a few
workbooks and elements are left out of it, as in a real inventory that lags behind.

File mtimes are set to a few hours ago, so `sigma-impressions load --days-back 6` takes them all.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

UNKNOWN_WORKBOOK_EVERY = 20  # every 20th workbook is missing from the inventory
UNKNOWN_ELEMENT_EVERY = 25  # every 25th element is missing from the inventory
MTIME_AGO_SECONDS = 3 * 3600
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Shape:
    """How many workbooks, elements per workbook and users the rows are spread over."""

    workbooks: int
    elements_per_workbook: int
    users: int

    def describe(self) -> str:
        return (
            f"{self.workbooks:,} workbooks x {self.elements_per_workbook} elements"
            f" ({self.workbooks * self.elements_per_workbook:,}), {self.users:,} users"
        )


# The shape of every size of the benchmark (docs/benchmarks.md was measured with it).
DEFAULT_SHAPE = Shape(workbooks=400, elements_per_workbook=12, users=3000)
# The shape of the target "the full build at 20M rows completes under memory_limit=1GB".
SHAPE_20M = Shape(workbooks=1200, elements_per_workbook=10, users=3000)


@dataclass(frozen=True)
class Dataset:
    root: Path
    rows: int
    days: int
    history: list[Path]  # one file per day, oldest first
    extra: list[Path]  # the next daily file
    files500: list[Path]
    extra_rows: int
    as_of_date: str  # YYYY-MM-DD, the day of the extra file (today, UTC)
    workbooks_csv: Path
    elements_csv: Path
    history_bytes: int
    shape: Shape = DEFAULT_SHAPE

    @property
    def history_dir(self) -> Path:
        return self.root / "history"

    @property
    def extra_dir(self) -> Path:
        return self.root / "extra"

    @property
    def files500_dir(self) -> Path:
        return self.root / "files500"


def _ids_sql(shape: Shape) -> str:
    """Column expressions for row number `i` (a BIGINT), all deterministic."""
    workbooks, elements, users = shape.workbooks, shape.elements_per_workbook, shape.users
    u_wb = "((hash(i, 11) % 1000003) / 1000003.0)"
    u_user = "((hash(i, 23) % 1000003) / 1000003.0)"
    u_el = "((hash(i, 37) % 1000003) / 1000003.0)"
    u_kind = "((hash(i, 41) % 1000003) / 1000003.0)"
    u_count = "((hash(i, 53) % 1000003) / 1000003.0)"
    wb = f"least(floor({workbooks} * pow({u_wb}, 2.2))::int, {workbooks - 1})"
    user = f"least(floor({users} * pow({u_user}, 1.8))::int, {users - 1})"
    el = f"least(floor({elements} * pow({u_el}, 1.5))::int, {elements - 1})"
    return f"""
        {wb} as wb,
        {user} as usr,
        {el} as el,
        {u_kind} as u_kind,
        {u_count} as u_count,
        (hash(i, 67) % 86400000)::bigint as ms_of_day
    """


def _workbook_url_id(wb: str) -> str:
    return f"'Workbook-' || {wb} || '-' || substr(md5('wb' || {wb}), 1, 16)"


def _element_id(wb: str, el: str) -> str:
    return f"substr(md5('el' || {wb} || '-' || {el}), 1, 10)"


def _write_file(con: duckdb.DuckDBPyConnection, path: Path, day: date, first: int, last: int, shape: Shape) -> None:
    """Rows [first, last) of the whole set, all on `day`, into one CSV with a header."""
    query = f"""
        with r as (
            select i, {_ids_sql(shape)}
            from range({first}, {last}) t(i)
        )
        select
            strftime(
                timestamp '{day.isoformat()}' + to_milliseconds(ms_of_day), '%Y-%m-%dT%H:%M:%S.%gZ'
            ) as request_time,
            'user' || usr || '@acme.example' as user_email,
            {_workbook_url_id("wb")} as workbook_url_id,
            case when u_kind < 0.3 then '' else {_element_id("wb", "el")} end as element_id,
            case when u_count < 0.85 then '1' else (2 + (hash(i, 71) % 4))::varchar end as count
        from r
        order by i
    """
    con.execute(f"copy ({query}) to '{path}' (header, delimiter ',', quote '\"')")


def _write_inventory(con: duckdb.DuckDBPyConnection, root: Path, shape: Shape) -> tuple[Path, Path]:
    per_workbook = shape.elements_per_workbook
    workbooks = root / "inventory_workbooks.csv"
    elements = root / "inventory_elements.csv"
    con.execute(
        f"""
        copy (
            select
                {_workbook_url_id("wb")} as workbook_url_id,
                md5('id' || wb) as workbook_id,
                'Workbook ' || wb as name,
                'Team ' || (wb % 17) || '/Reports' as path,
                'owner' || (wb % 50) || '@acme.example' as owner_email,
                timestamp '2025-01-01' + to_days(wb) as created_at,
                timestamp '2026-06-01' + to_days(wb % 100) as updated_at
            from range({shape.workbooks}) t(wb)
            where wb % {UNKNOWN_WORKBOOK_EVERY} <> {UNKNOWN_WORKBOOK_EVERY - 1}
            order by wb
        ) to '{workbooks}' (header)
        """
    )
    con.execute(
        f"""
        copy (
            select
                {_workbook_url_id("wb")} as workbook_url_id,
                {_element_id("wb", "el")} as element_id,
                'Page ' || (el % 3) as page_name,
                'Element ' || el as name,
                case when el % 4 = 0 then 'table' else 'visualization' end as element_type
            from range({shape.workbooks}) w(wb), range({per_workbook}) e(el)
            where wb % {UNKNOWN_WORKBOOK_EVERY} <> {UNKNOWN_WORKBOOK_EVERY - 1}
              and (wb * {per_workbook} + el) % {UNKNOWN_ELEMENT_EVERY} <> 7
            order by wb, el
        ) to '{elements}' (header)
        """
    )
    return workbooks, elements


def touch_recent(paths: list[Path], now: float | None = None) -> None:
    """Set mtimes a few hours in the past (one second apart, oldest file first)."""
    base = (now or time.time()) - MTIME_AGO_SECONDS - len(paths)
    for n, path in enumerate(paths):
        os.utime(path, (base + n, base + n))


def generate(
    root: Path,
    rows: int,
    days: int = 90,
    today: date | None = None,
    many_files: int = 500,
    shape: Shape = DEFAULT_SHAPE,
) -> Dataset:
    """Write (or reuse, when already complete for these parameters) the data set under `root`."""
    today = today or datetime.now(UTC).date()
    params = {
        "rows": rows,
        "days": days,
        "many_files": many_files,
        "today": today.isoformat(),
        "version": FORMAT_VERSION,
        "shape": asdict(shape),
    }
    marker = root / "dataset.json"
    if not (marker.exists() and json.loads(marker.read_text()) == params):
        shutil.rmtree(root, ignore_errors=True)
        _generate(root, rows, days, today, many_files, shape)
        marker.write_text(json.dumps(params))
    history = sorted((root / "history").glob("*.csv"))
    extra = sorted((root / "extra").glob("*.csv"))
    files500 = sorted((root / "files500").glob("*.csv"))
    touch_recent(history + extra + files500)
    return Dataset(
        root=root,
        rows=rows,
        days=days,
        history=history,
        extra=extra,
        files500=files500,
        extra_rows=max(rows // days, 1),
        as_of_date=today.isoformat(),
        workbooks_csv=root / "inventory_workbooks.csv",
        elements_csv=root / "inventory_elements.csv",
        history_bytes=sum(p.stat().st_size for p in history),
        shape=shape,
    )


def _generate(root: Path, rows: int, days: int, today: date, many_files: int, shape: Shape) -> None:
    for sub in ("history", "extra", "files500"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        first_day = today - timedelta(days=days)
        bounds = [rows * d // days for d in range(days + 1)]
        for d in range(days):
            day = first_day + timedelta(days=d)
            _write_file(con, root / "history" / f"sigma-audit-{day}.csv", day, bounds[d], bounds[d + 1], shape)
        per_day = max(rows // days, 1)
        _write_file(con, root / "extra" / f"sigma-audit-{today}.csv", today, rows, rows + per_day, shape)
        files = many_files  # 0: no many-files set (only the headline size runs the no-op re-run)
        bounds = [rows * f // files for f in range(files + 1)] if files else []
        for f in range(files):
            day = first_day + timedelta(days=f * days // files)
            name = f"sigma-audit-{day}-{f:03d}.csv"
            _write_file(con, root / "files500" / name, day, bounds[f], bounds[f + 1], shape)
        _write_inventory(con, root, shape)
    finally:
        con.close()


def describe(dataset: Dataset) -> dict:
    data = asdict(dataset)
    return {k: str(v) if isinstance(v, Path) else v for k, v in data.items() if k in ("rows", "days")}
