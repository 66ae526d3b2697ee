"""The fixture exports' first build, once per session: load 1 (tests/helpers/fixture_exports.py)
-> `dbt build` with the dbt unit tests. Modules that change the warehouse copy the file first
(test_incremental also lands its second load into the same export folder, after the first
build's readers took what they read: their snapshot of the marts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import fixture_exports as fx
from tests.helpers.dbt_project import run_dbt
from tests.helpers.exports import ExportDir
from tests.helpers.marts_reference import reference_differences


@pytest.fixture(scope="session")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The warehouse after load 1 and a full `dbt build` (unit tests included)."""
    root = tmp_path_factory.mktemp("fixture_marts")
    database = root / "warehouse.duckdb"
    exports = ExportDir(root / "exports")
    fx.write_first(exports)
    fx.load(exports, database)
    fx.create_inventory(database)
    build = run_dbt(["build"], database, root / "dbt", vars=fx.VARS)
    return {
        "root": root,
        "database": database,
        "exports": exports,
        "output": build.stdout,
        "marts": fx.marts_snapshot(database),
        "reference_differences": reference_differences(
            database, fx.AS_OF, workbooks="fixture_inventory.workbooks", elements="fixture_inventory.elements"
        ),
    }


def copy_database(source: Path, target: Path) -> Path:
    """A copy of a closed DuckDB file (each module that writes works on its own)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    return target
