"""`inventory` + `run` (load + dbt build) put every listed workbook and element in the marts with the
API's names, paths, page names and owner emails; a deleted workbook's history still resolves; a
failed sync keeps the previous inventory, the build goes on and `run` exits 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from loader.contract import project_dir
from sigma_impressions.demo.sigma_api_server import SigmaApiServer
from tests.helpers.cli import cli_in_process
from tests.helpers.exports import ExportDir
from tests.sigma_api.conftest import CLIENT_ID, CLIENT_SECRET, run_inventory

pytestmark = pytest.mark.dbt


def _run(server: SigmaApiServer, exports: ExportDir, database: Path, tmp_path: Path, as_of: str, *extra: str):
    """`sigma-impressions run` in this process (tests/helpers/cli.py), the API's settings from the environment."""
    args = ["run", "--bucket-uri", exports.uri, "--database", str(database), "--as-of-date", as_of, *extra]
    return cli_in_process(
        args,
        cwd=tmp_path,
        SIGMA_IMPRESSIONS_SIGMA_API_URL=server.url,
        SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID=CLIENT_ID,
        SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET=CLIENT_SECRET,
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        DBT_PROFILES_DIR=str(project_dir()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )


def test_synced_inventory_reaches_the_marts(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    when = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    exports = ExportDir(tmp_path / "exports")
    rows = ["request_time,user_email,workbook_url_id,element_id,count"]
    rows += [f"{when},u{n}@example.com,Workbook-{n}-urlid{n:04d},el-{n}-1-0,{n}" for n in range(1, 6)]
    exports.write("audit.csv", "\n".join(rows) + "\n")
    database = tmp_path / "wh.duckdb"

    assert run_inventory(sigma_api, database).returncode == 0
    org = sigma_api.state.org
    org.remove_workbook("wb-0004")
    org.workbook("wb-0005")["isArchived"] = True
    org.workbook("wb-0005")["updatedAt"] = "2026-11-25T00:00:00Z"

    result = _run(sigma_api, exports, database, tmp_path, today.isoformat())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "inventory mode=incremental workbooks=4" in result.stdout

    with duckdb.connect(str(database), read_only=True) as con:
        workbooks = {
            r[0]: r[1:]
            for r in con.execute(
                "select workbook_url_id, workbook_name, path, owner_email, workbook_url, is_archived, is_deleted, "
                "total_impressions_7d from marts.sigma_workbook_impressions"
            ).fetchall()
        }
        elements = {
            (r[0], r[1]): r[2:]
            for r in con.execute(
                "select workbook_url_id, element_id, element_name, page_name, is_deleted, total_impressions_7d "
                "from marts.sigma_element_impressions"
            ).fetchall()
        }
        unmatched = con.execute("select count(*) from marts.sigma_unmatched_impressions").fetchone()[0]
    assert set(workbooks) == {f"Workbook-{n}-urlid{n:04d}" for n in range(1, 6)}
    for n in range(1, 6):
        url_id = f"Workbook-{n}-urlid{n:04d}"
        owner = "owner.zero@example.com" if n % 2 == 0 else "owner.one@example.com"
        assert workbooks[url_id] == (
            f"API Workbook {n}",
            f"Team {n % 3}/Reports",
            owner,
            f"https://app.sigmacomputing.com/org/workbook/{url_id}",
            n == 5,
            n == 4,
            n,
        )
    assert len(elements) == 20
    assert elements[("Workbook-3-urlid0003", "el-3-2-1")] == ("Element 1 of page 2", "Page 2 of 3", False, 0)
    assert elements[("Workbook-4-urlid0004", "el-4-1-0")] == ("Element 0 of page 1", "Page 1 of 4", True, 4)
    assert unmatched == 0

    # A failed sync: the build goes on with the previous inventory, and run exits 1.
    sigma_api.state.inject(r"^/v2/workbooks$", "malformed", times=100)
    org.workbook("wb-0001")["name"] = "Renamed But Not Synced"
    failed = _run(sigma_api, exports, database, tmp_path, today.isoformat())
    assert failed.returncode == 1
    assert "inventory sync failed" in failed.stderr and "dbt build:" in failed.stdout
    assert "Traceback" not in failed.stderr
    with duckdb.connect(str(database), read_only=True) as con:
        name = con.execute(
            "select workbook_name from marts.sigma_workbook_impressions where workbook_url_id = 'Workbook-1-urlid0001'"
        ).fetchone()
    assert name == ("API Workbook 1",)


def test_no_inventory_until_a_sync_succeeds_and_the_seeds_only_when_asked(
    sigma_api: SigmaApiServer, tmp_path: Path
) -> None:
    """A database whose only sync failed has an empty inventory (the build goes on, the run exits
    1): nothing falls back to the demo seeds unless vars.sigma_inventory_source says so."""
    exports = ExportDir(tmp_path / "exports")
    exports.write("audit.csv", "request_time,user_email,workbook_url_id,element_id,count\n")
    database = tmp_path / "wh.duckdb"
    sigma_api.state.inject(r"^/v2/members$", 500, times=100)
    sigma_api.state.inject(r"^/v2/auth/token$", 401, method="POST", times=100)
    today = datetime.now(UTC).date().isoformat()
    result = _run(sigma_api, exports, database, tmp_path, today)
    assert result.returncode == 1
    assert "refused the client id and secret" in result.stderr and "dbt build:" in result.stdout
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from sigma_raw.sigma_workbooks").fetchone() == (0,)
        assert con.execute("select count(*) from marts.sigma_workbook_impressions").fetchone() == (0,)

    seeded = _run(sigma_api, exports, database, tmp_path, today, "--vars", "{sigma_inventory_source: seeds}")
    assert seeded.returncode == 1  # the sync still fails
    with duckdb.connect(str(database), read_only=True) as con:
        sources = con.execute("select distinct inventory_source from staging.stg_sigma__workbooks").fetchall()
        seeds = con.execute("select count(*) from inventory.sigma_workbooks").fetchone()[0]
        marts = con.execute("select count(*) from marts.sigma_workbook_impressions").fetchone()[0]
    assert sources == [("seeds",)]
    assert marts == seeds > 0


def test_report_leaves_archived_and_deleted_workbooks_out_of_cleanup(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    import json

    exports = ExportDir(tmp_path / "exports")
    exports.write("audit.csv", "request_time,user_email,workbook_url_id,element_id,count\n")
    database = tmp_path / "wh.duckdb"
    assert run_inventory(sigma_api, database).returncode == 0
    sigma_api.state.org.remove_workbook("wb-0004")
    sigma_api.state.org.workbook("wb-0005")["isArchived"] = True
    assert _run(sigma_api, exports, database, tmp_path, datetime.now(UTC).date().isoformat()).returncode == 0
    report = cli_in_process(["report", "--database", str(database), "--format", "json"])
    assert report.returncode == 0, report.stderr
    sections = json.loads(report.stdout)
    unused = {r["workbook_url_id"] for r in sections["unused_workbooks"]}
    assert unused == {f"Workbook-{n}-urlid{n:04d}" for n in (1, 2, 3)}
    unused_elements = {r["workbook_url_id"] for r in sections["unused_elements"]}
    assert unused_elements == unused
