"""`sigma-impressions inventory` against the Sigma API stand-in and a real DuckDB file: through the CLI's
function in this process (tests/helpers/cli.py), and as a real process where one is killed midway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from sigma_impressions.cli import main
from sigma_impressions.demo.sigma_api_server import SigmaApiServer
from tests.helpers.processes import clean_env
from tests.sigma_api.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    elements,
    inventory_argv,
    run_inventory,
    snapshot,
    syncs,
    table,
    workbook,
)


def _page_fetches(server: SigmaApiServer) -> set[str]:
    """The workbook ids whose pages were listed."""
    return {p.split("/")[3] for p in server.state.paths() if p.endswith("/pages")}


def test_first_sync_lands_every_entry_across_short_pages(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    database = tmp_path / "wh.duckdb"
    result = run_inventory(sigma_api, database)
    assert result.returncode == 0, result.stderr
    assert "workbooks=5 new=5" in result.stdout
    # 5 workbooks in pages of 2 -> 3 requests for the listing, each after the first with a page token.
    listing = [p for p in sigma_api.state.paths() if p == "/v2/workbooks"]
    assert len(listing) == 3
    workbooks = table(database, "sigma_workbooks", "workbook_id")
    assert [w[0] for w in workbooks] == [f"wb-{n:04d}" for n in range(1, 6)]
    with duckdb.connect(str(database), read_only=True) as con:
        owner = con.execute(
            "select owner_email, name, path, url, is_archived, deleted_at from sigma_raw.sigma_workbooks "
            "where workbook_id = 'wb-0002'"
        ).fetchone()
        assert owner == (
            "owner.zero@example.com",
            "API Workbook 2",
            "Team 2/Reports",
            "https://app.sigmacomputing.com/org/workbook/Workbook-2-urlid0002",
            False,
            None,
        )
        element = con.execute(
            "select workbook_url_id, page_id, page_name, name, element_type, visualization_type "
            "from sigma_raw.sigma_workbook_elements where element_id = 'el-3-2-1'"
        ).fetchone()
        assert element == (
            "Workbook-3-urlid0003",
            "pg-3-2",
            "Page 2 of 3",
            "Element 1 of page 2",
            "visualization",
            "bar",
        )
        assert con.execute("select count(*) from sigma_raw.sigma_workbook_elements").fetchone() == (20,)
        assert con.execute("select count(*) from sigma_raw.sigma_workbook_pages").fetchone() == (10,)
        assert con.execute("select count(*) from sigma_raw.sigma_members").fetchone() == (3,)
    (sync,) = syncs(database)
    assert sync["status"] == "succeeded" and sync["workbooks_listed"] == 5 and sync["elements_fetched"] == 20
    assert sync["api_calls"] == len(sigma_api.state.requests)


def test_incremental_sync_fetches_only_new_and_changed_workbooks(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    database = tmp_path / "wh.duckdb"
    assert run_inventory(sigma_api, database).returncode == 0
    org = sigma_api.state.org
    org.workbook("wb-0002")["updatedAt"] = "2026-11-20T08:00:00Z"
    org.workbook("wb-0003")["latestVersion"] = 2
    org.elements[("wb-0003", "pg-3-1")] = elements(3, 1, count=1)  # one element removed
    org.add_workbook(workbook(9), {"pg-9-1": ("Only page", elements(9, 1))})
    sigma_api.state.clear_log()

    result = run_inventory(sigma_api, database)
    assert result.returncode == 0, result.stderr
    assert "new=1 changed=2 unchanged=3" in result.stdout
    assert _page_fetches(sigma_api) == {"wb-0002", "wb-0003", "wb-0009"}
    with duckdb.connect(str(database), read_only=True) as con:
        gone = con.execute(
            "select deleted_at is not null from sigma_raw.sigma_workbook_elements where element_id = 'el-3-1-1'"
        ).fetchone()
        assert gone == (True,)
        kept = con.execute(
            "select count(*) from sigma_raw.sigma_workbook_elements "
            "where workbook_id = 'wb-0001' and deleted_at is null"
        ).fetchone()
        assert kept == (4,)

    sigma_api.state.clear_log()
    assert run_inventory(sigma_api, database).returncode == 0
    assert _page_fetches(sigma_api) == set()
    sigma_api.state.clear_log()
    result = run_inventory(sigma_api, database, "--full")
    assert result.returncode == 0 and "mode=full" in result.stdout
    assert _page_fetches(sigma_api) == {f"wb-{n:04d}" for n in (1, 2, 3, 4, 5, 9)}


def test_deleted_workbook_keeps_its_rows_with_deleted_at(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    database = tmp_path / "wh.duckdb"
    assert run_inventory(sigma_api, database).returncode == 0
    sigma_api.state.org.remove_workbook("wb-0004")
    result = run_inventory(sigma_api, database)
    assert result.returncode == 0 and "deleted=1" in result.stdout
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(
            "select name, deleted_at is not null from sigma_raw.sigma_workbooks where workbook_id = 'wb-0004'"
        ).fetchone()
        assert row == ("API Workbook 4", True)
        elements_left = con.execute(
            "select count(*), count(deleted_at) from sigma_raw.sigma_workbook_elements where workbook_id = 'wb-0004'"
        ).fetchone()
        assert elements_left == (4, 4)
        first_deleted = con.execute(
            "select deleted_at from sigma_raw.sigma_workbooks where workbook_id = 'wb-0004'"
        ).fetchone()
    # Still gone on the next sync: deleted_at keeps the first time it was missed.
    assert run_inventory(sigma_api, database).returncode == 0
    with duckdb.connect(str(database), read_only=True) as con:
        again = con.execute("select deleted_at from sigma_raw.sigma_workbooks where workbook_id = 'wb-0004'").fetchone()
    assert again == first_deleted


def test_forbidden_workbook_keeps_its_previous_elements_and_is_reported(
    sigma_api: SigmaApiServer, tmp_path: Path
) -> None:
    database = tmp_path / "wh.duckdb"
    assert run_inventory(sigma_api, database).returncode == 0
    before = [r for r in table(database, "sigma_workbook_elements", "element_id") if r[0] == "wb-0002"]
    org = sigma_api.state.org
    org.workbook("wb-0002")["updatedAt"] = "2026-11-21T00:00:00Z"
    org.elements[("wb-0002", "pg-2-1")] = elements(2, 1, count=1)
    sigma_api.state.inject(r"^/v2/workbooks/wb-0002/pages/pg-2-2/elements$", 403)

    result = run_inventory(sigma_api, database)
    assert result.returncode == 0, result.stderr
    assert "skipped=1" in result.stdout
    assert "skipped workbook Workbook-2-urlid0002 (API Workbook 2): " in result.stdout and "403" in result.stdout
    after = [r for r in table(database, "sigma_workbook_elements", "element_id") if r[0] == "wb-0002"]
    assert after == before
    last = syncs(database)[-1]
    assert last["workbooks_skipped"] == 1
    assert json.loads(last["skipped_workbooks"])[0]["workbook_id"] == "wb-0002"

    # Next sync: fetched again (its change was not landed), now in full.
    sigma_api.state.clear_log()
    assert run_inventory(sigma_api, database).returncode == 0
    assert _page_fetches(sigma_api) == {"wb-0002"}
    with duckdb.connect(str(database), read_only=True) as con:
        live = con.execute(
            "select count(*) from sigma_raw.sigma_workbook_elements "
            "where workbook_id = 'wb-0002' and deleted_at is null"
        ).fetchone()
    assert live == (3,)


@pytest.mark.parametrize(
    ("path", "fault"),
    [
        (r"^/v2/members$", "malformed"),
        (r"^/v2/workbooks$", "malformed"),
        (r"^/v2/workbooks/wb-0003/pages$", "malformed"),
        (r"^/v2/workbooks$", 400),
        (r"^/v2/teams$", "malformed"),
        (r"^/v2/teams$", 403),
        (r"^/v2/teams$", 500),
        (r"^/v2/teams/team-b/members$", "malformed"),
    ],
)
def test_failed_sync_keeps_the_previous_inventory(
    sigma_api: SigmaApiServer, tmp_path: Path, path: str, fault: int | str
) -> None:
    database = tmp_path / "wh.duckdb"
    assert run_inventory(sigma_api, database).returncode == 0
    before = snapshot(database)
    org = sigma_api.state.org
    org.workbook("wb-0003")["updatedAt"] = "2026-11-22T00:00:00Z"
    org.remove_workbook("wb-0005")
    org.add_workbook(workbook(7), {"pg-7-1": ("New page", elements(7, 1))})
    org.remove_team("team-c")
    org.team_members["team-a"] = ["member-0"]
    org.add_team("team-d", "New team", None, ["member-2"])
    sigma_api.state.inject(path, fault, times=100)

    result = run_inventory(sigma_api, database)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "inventory sync failed" in lines[0] and "previous inventory is unchanged" in lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(database) == before
    last = syncs(database)[-1]
    assert last["status"] == "failed" and last["error"]


def test_listing_failing_for_good_is_bounded_and_keeps_the_inventory(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    database = tmp_path / "wh.duckdb"
    assert run_inventory(sigma_api, database).returncode == 0
    before = snapshot(database)
    sigma_api.state.inject(r"^/v2/workbooks$", 500, times=1000)
    started = time.monotonic()
    result = run_inventory(sigma_api, database)
    assert result.returncode == 1
    assert time.monotonic() - started < 60
    assert "GET /v2/workbooks failed after 5 attempt(s): server error 500" in result.stderr
    assert snapshot(database) == before


def test_a_sync_killed_midway_writes_nothing(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    database = tmp_path / "wh.duckdb"
    assert run_inventory(sigma_api, database).returncode == 0
    before = snapshot(database)
    sync_rows = len(syncs(database))
    org = sigma_api.state.org
    for n in range(1, 6):
        org.workbook(f"wb-{n:04d}")["latestVersion"] = 5
    org.remove_workbook("wb-0001")
    sigma_api.state.delay_seconds = 0.05
    sigma_api.state.clear_log()
    process = subprocess.Popen(
        inventory_argv(sigma_api, database, "--full"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while len(sigma_api.state.paths()) < 12 and time.monotonic() < deadline:
        assert process.poll() is None, "the sync finished before it could be killed"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert snapshot(database) == before
    assert len(syncs(database)) == sync_rows
    sigma_api.state.delay_seconds = 0
    assert run_inventory(sigma_api, database).returncode == 0
    assert table(database, "sigma_workbooks", "workbook_id")[0][-1] is not None  # wb-0001 now deleted


def test_secrets_never_in_output_or_database(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    database = tmp_path / "wh.duckdb"
    sigma_api.state.inject(r"^/v2/workbooks$", 401)
    sigma_api.state.inject(r"^/v2/members$", 500)
    ok = run_inventory(sigma_api, database)
    assert ok.returncode == 0, ok.stderr
    sigma_api.state.inject(r"^/v2/workbooks$", "malformed")
    failed = run_inventory(sigma_api, database)
    assert failed.returncode == 1
    bad = subprocess.run(
        [a for a in inventory_argv(sigma_api, database) if a not in ("--sigma-client-secret", CLIENT_SECRET)],
        capture_output=True,
        text=True,
        env=clean_env(SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET="other-" + CLIENT_SECRET),
    )
    assert bad.returncode == 1
    tokens = [t for t in sigma_api.state.tokens]
    assert len(tokens) >= 3
    words = [CLIENT_SECRET, *tokens]
    for result in (ok, failed, bad):
        for secret in words:
            assert secret not in result.stdout and secret not in result.stderr
    wal = database.with_name(database.name + ".wal")
    data = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    for secret in words:
        assert secret.encode() not in data
    with duckdb.connect(str(database), read_only=True) as con:
        text = str(con.execute("select * from sigma_raw.inventory_syncs").fetchall())
    assert all(secret not in text for secret in words)


def test_options_are_validated_before_any_request(
    sigma_api: SigmaApiServer, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "SIGMA_IMPRESSIONS_SIGMA_API_URL",
        "SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID",
        "SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    database = str(tmp_path / "wh.duckdb")
    cases = {
        ("--sigma-api-url", "ftp://example.com", "--sigma-client-id", "a", "--sigma-client-secret", "b"): "http(s)",
        ("--sigma-api-url", sigma_api.url, "--sigma-client-id", "a"): "without --sigma-client-secret",
        ("--sigma-api-url", sigma_api.url, "--sigma-client-secret", "b"): "without --sigma-client-id",
    }
    for argv, words in cases.items():
        assert main(["inventory", *argv, "--database", database]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
    assert sigma_api.state.requests == []
    assert not Path(database).exists()
    # The env vars are the fallbacks; a trailing /v2 is accepted.
    monkeypatch.setenv("SIGMA_IMPRESSIONS_SIGMA_API_URL", sigma_api.url + "/v2/")
    monkeypatch.setenv("SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET", CLIENT_SECRET)
    assert main(["inventory", "--database", database]) == 0
    assert "workbooks=5" in capsys.readouterr().out


def test_check_gets_a_token_and_reads_one_page(sigma_api: SigmaApiServer, tmp_path: Path) -> None:
    env = clean_env(
        SIGMA_IMPRESSIONS_SIGMA_API_URL=sigma_api.url,
        SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID=CLIENT_ID,
        SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET=CLIENT_SECRET,
    )
    check = [str(inventory_argv(sigma_api, tmp_path / "wh.duckdb")[0]), "check"]
    ok = subprocess.run(check, capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "sigma api: ok, 5 workbooks visible"
    assert sigma_api.state.paths() == ["/v2/workbooks"]

    exports = tmp_path / "exports"
    exports.mkdir()
    with_bucket = subprocess.run(
        [*check, "--bucket-uri", f"file://{exports}"], capture_output=True, text=True, env=env, timeout=120
    )
    assert "sigma api: ok, 5 workbooks visible" in with_bucket.stdout

    env["SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET"] = "wrong-" + CLIENT_SECRET
    bad = subprocess.run(check, capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1
    assert "refused the client id and secret" in bad.stdout and CLIENT_SECRET not in bad.stdout + bad.stderr
