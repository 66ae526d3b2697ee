"""The semantic layer on the demo: `dbt docs generate` shows the exposures and metrics, and
MetricFlow (`mf validate-configs`, `mf query`) returns the marts' numbers.

One demo database per module: `sigma-impressions demo` + `load` through the real CLI, then
`dbt build` (the demo seeds as the inventory, the demo's exclusion rule from `make run`) and
`dbt docs generate` with dbt's target under tmp. The metrics count what the marts count: an
excluded impression (its exclusion_reason set) counts in no metric. MetricFlow reads
`<project>/target/semantic_manifest.json` only, so `mf` runs in a small project folder under
tmp (links to dbt_project.yml and profiles.yml, and that target), never the repo's target/.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.helpers.cli import cli_in_process
from tests.helpers.dbt_project import REPO, run_dbt
from tests.helpers.demo_facts import make_run_vars

pytestmark = pytest.mark.dbt

BIN = Path(sys.executable).parent
METRICS = {"impressions", "unique_users", "impressions_per_user", "active_users", "workbooks_viewed"}
EXPOSURES = {"terminal_report", "html_report", "content_cleanup"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("semantic")
    exports, database = root / "exports", root / "demo.duckdb"
    steps = (["demo", "--out", str(exports)], ["load", "--bucket-uri", exports.as_uri(), "--database", str(database)])
    for args in steps:
        done = cli_in_process(args)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    as_of = datetime.now(timezone.utc).date().isoformat()
    work = root / "dbt"
    dbt_vars = {"as_of_date": as_of, "sigma_inventory_source": "seeds", **yaml.safe_load(make_run_vars())}
    run_dbt(["build"], database=database, work_dir=work, vars=dbt_vars)
    run_dbt(["docs", "generate"], database=database, work_dir=work, vars=dbt_vars)
    project = root / "mf_project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        (project / name).symlink_to(REPO / name)
    (project / "target").symlink_to(work / "target")
    return {"database": database, "target": work / "target", "project": project, "as_of": as_of, "root": root}


def _mf(demo: dict, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(demo["project"]),
        "DBT_PROJECT_DIR": str(demo["project"]),
        "SIGMA_IMPRESSIONS_DUCKDB_PATH": str(demo["database"]),
        "SIGMA_IMPRESSIONS_EXTENSION_DIR": os.environ.get(
            "SIGMA_IMPRESSIONS_EXTENSION_DIR", str(REPO / ".venv" / "duckdb_extensions")
        ),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [str(BIN / "mf"), *args], cwd=demo["project"], env=env, capture_output=True, text=True, timeout=600
    )


def _query(demo: dict, name: str, *args: str) -> list[dict[str, str]]:
    out = demo["root"] / f"{name}.csv"
    done = _mf(demo, "query", *args, "--csv", str(out))
    assert done.returncode == 0 and out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _sql(demo: dict, query: str) -> list[tuple]:
    con = duckdb.connect(str(demo["database"]), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_docs_show_exposures_and_metrics(demo: dict) -> None:
    manifest = json.loads((demo["target"] / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == EXPOSURES
    assert "model.sigma_impressions.sigma_workbook_impressions" in exposures["content_cleanup"]["depends_on"]["nodes"]
    assert "model.sigma_impressions.sigma_export_events" in exposures["terminal_report"]["depends_on"]["nodes"]
    assert "model.sigma_impressions.sigma_daily_impressions" in exposures["html_report"]["depends_on"]["nodes"]
    assert {m["name"] for m in manifest["metrics"].values()} >= METRICS
    semantic = json.loads((demo["target"] / "semantic_manifest.json").read_text())
    metrics = {m["name"]: m for m in semantic["metrics"]}
    assert set(metrics) >= METRICS
    assert metrics["active_users"]["type"] == "cumulative"
    assert metrics["active_users"]["type_params"]["cumulative_type_params"]["window"] == {
        "count": 14,
        "granularity": "day",
    }
    assert metrics["impressions_per_user"]["type"] == "ratio"
    models = {m["name"] for m in semantic["semantic_models"]}
    assert {"sigma_impression_events", "sigma_workbook_days", "sigma_workbooks", "sigma_elements"} <= models
    assert [s["node_relation"]["alias"] for s in semantic["project_configuration"]["time_spines"]] == [
        "sigma_time_spine"
    ]
    # The catalog (what `dbt docs serve` shows) has the marts the metrics read.
    catalog = json.loads((demo["target"] / "catalog.json").read_text())
    assert "model.sigma_impressions.fct_sigma_impressions" in catalog["nodes"]


def test_mf_validate_configs(demo: dict) -> None:
    done = _mf(demo, "validate-configs")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "ERRORS: 0" in output
    assert "ERRORS: 1" not in output


def test_mf_daily_impressions_equal_the_fact(demo: dict) -> None:
    rows = _query(demo, "by_day_workbook", "--metrics", "impressions", "--group-by", "metric_time__day,workbook")
    got = {(r["metric_time__day"][:10], r["workbook"]): int(r["impressions"]) for r in rows}
    expected = {
        (str(day), workbook): total
        for day, workbook, total in _sql(
            demo,
            # A day and workbook with only excluded impressions is a row of 0 (the measure's rule).
            "select cast(request_time as date), workbook_url_id, "
            "sum(case when exclusion_reason is null then impression_count else 0 end) "
            "from marts.fct_sigma_impressions group by all",
        )
    }
    assert len(expected) > 50
    assert got == expected


def test_mf_inventory_workbooks_equal_the_daily_mart(demo: dict) -> None:
    rows = _query(
        demo,
        "inventory_by_day",
        "--metrics",
        "impressions,unique_users,inventory_workbook_impressions",
        "--group-by",
        "metric_time__day,workbook,workbook__workbook_name",
        "--where",
        "{{ Dimension('workbook__workbook_name') }} is not null",
    )
    got, excluded_only = {}, set()
    for r in rows:
        day, workbook = r["metric_time__day"][:10], r["workbook"]
        if r["inventory_workbook_impressions"] == "":  # the daily mart has no row: nothing counted
            assert (int(r["impressions"]), int(r["unique_users"])) == (0, 0), r
            excluded_only.add((day, workbook))
            continue
        got[(day, workbook, r["workbook__workbook_name"])] = (
            int(r["impressions"]),
            int(r["unique_users"]),
            int(r["inventory_workbook_impressions"]),
        )
    # Those rows are the days a workbook had impressions and every one was excluded.
    assert excluded_only <= {
        (str(day), workbook)
        for day, workbook in _sql(
            demo,
            "select cast(request_time as date), workbook_url_id from marts.fct_sigma_impressions "
            "group by all having count(*) filter (where exclusion_reason is null) = 0",
        )
    }
    expected = {
        (str(day), workbook, name): (impressions, users, impressions)
        for day, workbook, name, impressions, users in _sql(
            demo,
            "select impression_date, workbook_url_id, workbook_name, impressions, unique_users "
            "from marts.sigma_daily_impressions",
        )
    }
    assert len(expected) > 50
    assert got == expected


def test_mf_totals_and_active_users_equal_the_marts(demo: dict) -> None:
    [totals] = _query(demo, "totals", "--metrics", "impressions,unique_users,impressions_per_user,workbooks_viewed")
    [(impressions, users, workbooks)] = _sql(
        demo,
        "select sum(impression_count), count(distinct user_email), count(distinct workbook_url_id) "
        "from marts.fct_sigma_impressions where exclusion_reason is null",
    )
    assert (int(totals["impressions"]), int(totals["unique_users"]), int(totals["workbooks_viewed"])) == (
        impressions,
        users,
        workbooks,
    )
    assert float(totals["impressions_per_user"]) == pytest.approx(impressions / users)
    [(excluded,)] = _sql(demo, "select count(*) from marts.fct_sigma_impressions where exclusion_reason is not null")
    assert excluded > 0  # the demo's service account: the metrics above leave it out

    rows = _query(
        demo,
        "active",
        "--metrics",
        "active_users",
        "--group-by",
        "metric_time__day",
        "--where",
        f"{{{{ TimeDimension('metric_time', 'day') }}}} = '{demo['as_of']}'",
    )
    [(active,)] = _sql(demo, "select count(*) from marts.sigma_user_activity where is_active_14d")
    assert active > 0
    assert [int(r["active_users"]) for r in rows] == [active]
