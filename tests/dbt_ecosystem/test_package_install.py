"""This repo installed as a dbt package: integration_tests/ (a parent project, Fivetran's
convention) copied under tmp, its packages.yml pointing at the repo (`local:`), `dbt deps`, `dbt seed`
and a full `dbt build` (the fixture seeds, the package's models and tests, and the parent's tests that
compare the marts with expected rows). Then what the parent sees: the package's models, exposures
and metrics, no demo seeds, its own inventory relations, and source freshness on the fixture.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.dbt_project import REPO, run_dbt

pytestmark = pytest.mark.dbt

DEMO_SEEDS = {
    f"seed.sigma_impressions.{name}" for name in ("sigma_workbooks", "sigma_workbook_elements", "sigma_members")
}


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
    _dbt(project, "seed")  # the fixture is the parent's raw schema: in place before any model compiles
    _dbt(project, "build")
    return project


def _dbt(project: Path, *args: str, vars: dict | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` in the parent project (its own profiles.yml, its DuckDB file under target/)."""
    database = project / "target" / "parent.duckdb"
    env = {"SIGMA_IMPRESSIONS_IT_DUCKDB_PATH": str(database)}
    return run_dbt(list(args), database, project, vars=vars, check=check, env=env, project_dir=project)


def _manifest(project: Path) -> dict:
    return json.loads((project / "target" / "manifest.json").read_text())


def test_the_parent_builds_and_its_expected_rows_match(parent: Path) -> None:
    results = json.loads((parent / "target" / "run_results.json").read_text())["results"]
    by_id = {r["unique_id"]: r["status"] for r in results}
    parent_tests = [uid for uid in by_id if uid.startswith("test.sigma_impressions_integration_tests.")]
    assert len(parent_tests) == 4 and {by_id[uid] for uid in parent_tests} == {"pass"}, parent_tests
    assert {r["status"] for r in results} <= {"success", "pass", "warn", "no-op"}  # no-op: the exposures


def test_parent_gets_models_exposures_metrics_and_no_demo_seeds(parent: Path) -> None:
    manifest = _manifest(parent)
    assert "model.sigma_impressions.fct_sigma_impressions" in manifest["nodes"]
    assert "model.sigma_impressions.sigma_team_usage" in manifest["nodes"]
    assert "model.sigma_impressions.sigma_time_spine" in manifest["nodes"]
    assert not DEMO_SEEDS & set(manifest["nodes"])
    assert set(manifest["disabled"]) >= DEMO_SEEDS
    assert {e["name"] for e in manifest["exposures"].values()} == {"terminal_report", "html_report", "content_cleanup"}
    assert {m["name"] for m in manifest["metrics"].values()} >= {"impressions", "active_users", "workbooks_viewed"}
    # The package's vars are scoped to it: the inventory relation the parent set is read (no ref),
    # the members come from the raw API tables of the parent's sigma_raw schema.
    staging = manifest["nodes"]["model.sigma_impressions.stg_sigma__workbooks"]
    assert staging["depends_on"]["nodes"] == []
    assert (
        "it_inventory"
        in (parent / "target" / "compiled")
        .joinpath("sigma_impressions", "models", "staging", "sigma_raw", "stg_sigma__workbooks.sql")
        .read_text()
    )
    members = manifest["nodes"]["model.sigma_impressions.stg_sigma__members"]
    assert members["depends_on"]["nodes"] == ["source.sigma_impressions.sigma_raw.sigma_members"]


def test_source_freshness_on_the_fixture(parent: Path) -> None:
    # The fixture's newest export file is from 2026-03-30: far past the 7-day error threshold.
    done = _dbt(
        parent, "source", "freshness", "--select", "source:sigma_impressions.sigma_raw.loaded_files", check=False
    )
    results = json.loads((parent / "target" / "sources.json").read_text())["results"]
    assert done.returncode != 0
    assert [(r["unique_id"], r["status"]) for r in results] == [
        ("source.sigma_impressions.sigma_raw.loaded_files", "error")
    ]
    assert results[0]["max_loaded_at"].startswith("2026-03-30T23:00:00")
    # Thresholds are the package's vars: a parent that allows a decade only gets a warning.
    _dbt(
        parent,
        "source",
        "freshness",
        "--select",
        "source:sigma_impressions.sigma_raw.loaded_files",
        vars={"sigma_freshness_error_after_days": 3650},
    )
    results = json.loads((parent / "target" / "sources.json").read_text())["results"]
    assert [r["status"] for r in results] == ["warn"]
