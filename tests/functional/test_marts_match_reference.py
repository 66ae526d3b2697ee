"""Every mart equals the hand-written reference (bench/marts_reference.sql), row for row.

The reference is plain SQL over the parsed rows, the manifest and the inventory, written without
the dbt models' layering. Compared with EXCEPT ALL both ways on a seeded random export corpus
(overlapping files, re-sent and corrected events, unknown workbooks and elements, invalid rows,
header spellings, a replaced and an emptied file). The fixture exports (test_fixture_marts,
test_incremental), the demo (tests/e2e) and the hostile corpus (tests/reliability) are compared
the same way in their own modules.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from loader.config import build_config
from loader.landing import run_load
from tests.helpers.dbt_project import run_dbt
from tests.helpers.exports import ExportDir
from tests.helpers.marts_compare import mart_differences, row_counts
from tests.helpers.marts_reference import build_reference

pytestmark = pytest.mark.dbt

NO_UNIT = ["--exclude-resource-type", "unit_test"]
AS_OF = "2026-03-31"
INVENTORY = {
    "sigma_workbooks_relation": "fuzz_inventory.workbooks",
    "sigma_workbook_elements_relation": "fuzz_inventory.elements",
}
VARS = {"as_of_date": AS_OF, **INVENTORY}
HEADERS = [
    "request_time,user_email,workbook_url_id,element_id,count",
    "Request Time,USER_EMAIL,Workbook URL ID,Element ID,Impressions",
    "timestamp,email,workbook_urlid,node_id,views",
    "event_time,user,workbookurlid,elementid",
]
WORKBOOKS = [f"WB{i}" for i in range(8)] + ["wb0", "GHOST"]  # the last two are not in the inventory
ELEMENTS = ["", "E1", "E2", "E3", "EX"]  # EX is in no inventory


def _load(exports: ExportDir, database: Path) -> None:
    summary = run_load(build_config({"bucket_uri": exports.uri, "database": str(database), "days_back": "6"}))
    assert summary.ok, [r.error for r in summary.results]


def _assert_marts_match_reference(database: Path, as_of_date: str, **relations: str) -> dict[str, int]:
    build_reference(database, as_of_date, **relations)
    with duckdb.connect(str(database), read_only=True) as con:
        differences = mart_differences(con, "marts", "reference")
        counts = row_counts(con, "marts")
    assert differences == {}, differences
    return counts


def _random_file(rng: random.Random, events: list[tuple], rows: int) -> str:
    """An export of `rows` records: mostly (re-)sent events with random counts, a few bad rows."""
    header = rng.choice(HEADERS)
    columns = header.count(",") + 1
    lines = [header]
    for _ in range(rows):
        at, user, workbook, element = rng.choice(events)
        count = rng.choice(["", "1", "2", "3", "7", "2.0", "0", "x"]) if columns == 5 else None
        stamp = at.strftime(rng.choice(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M"]))
        if rng.random() < 0.03:
            stamp = rng.choice(["", "2026-02-30 10:00", "yesterday"])
        email = rng.choice([user, user.upper(), f" {user} "]) if rng.random() > 0.02 else ""
        fields = [stamp, email, workbook, element] + ([count] if count is not None else [])
        lines.append(",".join(fields[:columns]))
    return "\n".join(lines) + "\n"


def _create_inventory(database: Path) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("create schema if not exists fuzz_inventory")
        con.execute(
            "create or replace table fuzz_inventory.workbooks as select * from (values "
            + ", ".join(
                f"('WB{i}', 'id{i}', 'Workbook {i}', 'Team/{i}', 'Owner{i}@X.com', "
                f"timestamp '{'2026-03-20' if i == 7 else '2025-01-01'}', timestamp '2026-01-01')"
                for i in range(8)
            )
            + ") as t(workbook_url_id, workbook_id, name, path, owner_email, created_at, updated_at)"
        )
        con.execute(
            "create or replace table fuzz_inventory.elements as select * from (values "
            + ", ".join(f"('WB{i}', 'E{j}', 'Page', 'Element {j}', 'table')" for i in range(8) for j in (1, 2, 3))
            + ", ('GHOST', 'E1', 'Page', 'Orphan', 'kpi')"
            + ") as t(workbook_url_id, element_id, page_name, name, element_type)"
        )


@pytest.fixture(scope="module")
def fuzz_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """Two loads (the second with new files, a replaced one and an emptied one), one build."""
    rng = random.Random(20261127)
    root = tmp_path_factory.mktemp("fuzz_marts")
    database = root / "warehouse.duckdb"
    exports = ExportDir(root / "exports")
    start = datetime(2026, 1, 1)
    events = [
        (
            start + timedelta(seconds=rng.randrange(0, 95 * 86400)),
            f"user{rng.randrange(12)}@x.com",
            rng.choice(WORKBOOKS),
            rng.choice(ELEMENTS),
        )
        for _ in range(400)
    ]
    for n in range(6):
        exports.write(f"run-{n}.csv", _random_file(rng, events, 150), age=timedelta(hours=50 - n))
    _load(exports, database)
    exports.write("run-1.csv", _random_file(rng, events[:100], 60), age=timedelta(hours=3))
    exports.write("run-3.csv", HEADERS[0] + "\n", age=timedelta(hours=3))
    exports.write("run-6.csv", _random_file(rng, events, 150), age=timedelta(hours=2))
    exports.write("run-7.csv", _random_file(rng, events[200:], 100), age=timedelta(hours=1))
    _load(exports, database)
    _create_inventory(database)
    run_dbt(["build", *NO_UNIT], database, root / "dbt", vars=VARS)
    return _assert_marts_match_reference(database, AS_OF, **_relations())


def _relations() -> dict[str, str]:
    return {"workbooks": "fuzz_inventory.workbooks", "elements": "fuzz_inventory.elements"}


def test_fuzz_corpus_marts_match_reference(fuzz_build: dict[str, int]) -> None:
    # The corpus reaches every mart: the comparison is not over empty tables.
    assert all(n > 0 for n in fuzz_build.values()), fuzz_build
