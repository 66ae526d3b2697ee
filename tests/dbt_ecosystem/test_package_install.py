"""This repo installed as a dbt package: integration_tests/ copied under tmp, its packages.yml
pointing at the repo (`local:`), `dbt deps` + `dbt seed` of the fixture, then what a parent
project sees: the package's models, exposures and metrics, no demo seeds unless a var asks,
a clear line when the inventory is not configured, and source freshness on the fixture.
(`make integration-tests` runs the same project's full `dbt build`.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.dbt_project import REPO

DBT = Path(sys.executable).parent / "dbt"
DEMO_SEEDS = {"seed.sigma_impressions.sigma_workbooks", "seed.sigma_impressions.sigma_workbook_elements"}


@pytest.fixture(scope="module")
def parent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("parent") / "integration_tests"
    shutil.copytree(
        REPO / "integration_tests",
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "package-lock.yml"),
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    _dbt(project, "deps")
    _dbt(project, "seed")
    return project


def _dbt(project: Path, *args: str, vars: dict | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [str(DBT), *args, "--project-dir", str(project), "--profiles-dir", str(project)]
    if vars is not None:
        command += ["--vars", json.dumps(vars)]
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "SIGMA_IMPRESSIONS_IT_DUCKDB_PATH": str(project / "target" / "parent.duckdb"),
        "NO_COLOR": "1",
    }
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _manifest(project: Path) -> dict:
    return json.loads((project / "target" / "manifest.json").read_text())


def test_parent_gets_models_exposures_metrics_and_no_demo_seeds(parent: Path) -> None:
    _dbt(parent, "parse")
    manifest = _manifest(parent)
    assert "model.sigma_impressions.fct_sigma_impressions" in manifest["nodes"]
    assert "model.sigma_impressions.sigma_time_spine" in manifest["nodes"]
    assert not DEMO_SEEDS & set(manifest["nodes"])
    assert set(manifest["disabled"]) >= DEMO_SEEDS
    assert {e["name"] for e in manifest["exposures"].values()} == {"terminal_report", "html_report", "content_cleanup"}
    assert {m["name"] for m in manifest["metrics"].values()} >= {"impressions", "active_users", "workbooks_viewed"}
    # The package's vars are scoped to it: the inventory relations the parent set are read.
    staging = manifest["nodes"]["model.sigma_impressions.stg_sigma__workbooks"]
    assert staging["depends_on"]["nodes"] == ["model.sigma_impressions.stg_sigma__api_workbooks"]


def test_a_var_turns_the_demo_seeds_on(parent: Path) -> None:
    _dbt(
        parent,
        "parse",
        vars={"sigma_demo_inventory": True, "sigma_workbooks_relation": "", "sigma_workbook_elements_relation": ""},
    )
    manifest = _manifest(parent)
    assert set(manifest["nodes"]) >= DEMO_SEEDS
    staging = manifest["nodes"]["model.sigma_impressions.stg_sigma__workbooks"]
    assert "seed.sigma_impressions.sigma_workbooks" in staging["depends_on"]["nodes"]


def test_no_inventory_says_which_var_to_set(parent: Path) -> None:
    # Parsing succeeds (an API sync may supply the inventory); compiling the model says what to do.
    _dbt(parent, "parse", vars={"sigma_workbooks_relation": ""})
    done = _dbt(
        parent, "compile", "--select", "stg_sigma__workbooks", vars={"sigma_workbooks_relation": ""}, check=False
    )
    assert done.returncode != 0
    assert (
        "vars.sigma_workbooks_relation is empty, no Sigma API inventory sync has succeeded and the demo "
        "inventory seeds are off: run `sigma-impressions inventory`" in " ".join(done.stdout.split())
    )


def test_source_freshness_on_the_fixture(parent: Path) -> None:
    # The fixture's newest export file is from 2026-03-30: far past the 7-day error threshold.
    done = _dbt(parent, "source", "freshness", check=False)
    results = json.loads((parent / "target" / "sources.json").read_text())["results"]
    assert done.returncode != 0
    assert [(r["unique_id"], r["status"]) for r in results] == [
        ("source.sigma_impressions.sigma_raw.loaded_files", "error")
    ]
    assert results[0]["max_loaded_at"].startswith("2026-03-30T23:00:00")
    # Thresholds are the package's vars: a parent that allows a decade only gets a warning.
    _dbt(parent, "source", "freshness", vars={"sigma_freshness_error_after_days": 3650})
    results = json.loads((parent / "target" / "sources.json").read_text())["results"]
    assert [r["status"] for r in results] == ["warn"]
