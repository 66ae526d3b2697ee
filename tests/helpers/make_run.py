"""`make run`, step by step, into a folder: the demo (write_demo, which `sigma-impressions demo`
calls), then `python -m sigma_impressions.demo.sigma_api_server -- sigma-impressions run ... --vars
<the run target's --vars>` (the stand-in's main in this process, serving the demo's inventory,
members and teams on a free loopback port; `sigma-impressions run` a real process that syncs from
it, loads, builds and publishes), then `sigma-impressions report`.

It runs once on the day before and twice today into the same folder and database: the next runs
rewrite the same files, so the loader replaces their rows and the build drops yesterday's shifted
events. tests/e2e/conftest.py runs it once per session; its warehouse is read by the step-by-step
checks and by the HTML report's browser tests.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sigma_impressions.cli import main
from sigma_impressions.demo import sigma_api_server, write_demo
from tests.helpers.demo_facts import demo_facts, excluded_user_globs, make_run_vars
from tests.helpers.processes import BIN


def report_json(database: Path | str, *options: str) -> dict:
    """`sigma-impressions report --format json` (every row) on `database`, or the default path when empty."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        argv = ["report", *options, "--format", "json", "--limit", "1000"]
        code = main(argv + ["--database", str(database)] * bool(database))
    assert code == 0
    return json.loads(out.getvalue())


def make_run_three_times(root: Path) -> dict[str, Any]:
    """The demo's `make run` yesterday, today and again today under `root`; returns today's facts
    (with and without the run's exclusion rule), the working and published databases, the three
    reports (what `make run` prints) and the as-of date."""
    exports = root / "demo_exports"
    database = root / "warehouse" / "sigma_impressions.duckdb"
    snapshot = root / "warehouse" / "sigma_impressions_marts.duckdb"
    run_vars = make_run_vars()
    assert run_vars, "the Makefile's run target passes the demo's --vars"
    patch = pytest.MonkeyPatch()
    for name in list(os.environ):  # the run process sees only what `make run` gives it
        if name.startswith(("SIGMA_IMPRESSIONS_", "AWS_")):
            patch.delenv(name)
    patch.setenv("DBT_TARGET_PATH", str(root / "target"))
    patch.setenv("DBT_LOG_PATH", str(root / "logs"))
    patch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    now = datetime.now(UTC)
    reports = []
    try:
        for when in (now - timedelta(days=1), now, now):
            export = write_demo(exports, now=when)
            facts = demo_facts(export, excluded_user_globs(run_vars))
            run = [str(BIN / "sigma-impressions"), "run", "--bucket-uri", f"file://{exports}"]
            run += ["--vars", run_vars, "--database", str(database), "--published-database", str(snapshot)]
            run += ["--days-back", "6", "--as-of-date", facts.as_of_date.isoformat()]
            assert sigma_api_server.main(["--", *run]) == 0
            reports.append(report_json("", "--published-database", str(snapshot)))  # what `make run` prints
    finally:
        patch.undo()
    return {
        "facts": facts,
        "unexcluded": demo_facts(export),
        "database": database,
        "snapshot": snapshot,
        "reports": reports,
        "as_of": facts.as_of_date,
    }
