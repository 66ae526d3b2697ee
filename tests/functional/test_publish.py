"""publish(): the marts copied into a snapshot file that replaces the old one whole, on real DuckDB files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from sigma_impressions.publish import INFO_TABLE, PublishError, publish, published_path


def _working(path: Path, rows: int = 3, version: int = 1) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists staging")
    con.execute(
        "create or replace table marts.sigma_workbook_impressions as "
        "select 'wb' || i as workbook_url_id, i * ? as total_impressions_7d, "
        "date '2026-11-20' + ? as as_of_date, [{'user_email': 'a@x.com', 'impressions': i}] as used "
        "from range(?) t(i)",
        [version, version, rows],
    )
    con.execute(
        "create or replace table marts.sigma_user_activity as select 'a@x.com' as user_email, ? as n", [version]
    )
    con.execute("create or replace view marts.recent as select * from marts.sigma_user_activity")
    con.execute("create or replace table staging.not_a_mart as select 1 as x")
    # dbt-duckdb's views name their relations with the file's catalog, e.g. "work"."staging"."x"
    con.execute("create or replace view marts.events as select * from work.staging.not_a_mart")
    con.close()
    return path


def _tables(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {n: sorted(con.execute(f'select * from marts."{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


def test_publish_copies_every_mart_and_records_what_it_holds(tmp_path: Path) -> None:
    working = _working(tmp_path / "work.duckdb")
    snapshot = tmp_path / "pub" / "snap.duckdb"
    result = publish(
        str(working), str(snapshot), "load: 2 files", "dbt build: 10 passed", datetime(2026, 11, 27, tzinfo=UTC)
    )
    assert result.tables == ("events", "recent", "sigma_user_activity", "sigma_workbook_impressions")
    assert _tables(snapshot) == _tables(working)
    assert result.rows == 1 + 3 + 1 + 1
    con = duckdb.connect(str(snapshot), read_only=True)
    info = con.execute(
        f"select built_at, as_of_date, marts, total_rows, load_summary, dbt_result from {INFO_TABLE}"
    ).fetchall()
    schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}
    con.close()
    assert info == [
        (datetime(2026, 11, 27), result.as_of_date, list(result.tables), 6, "load: 2 files", "dbt build: 10 passed")
    ]
    assert str(result.as_of_date) == "2026-11-21"
    assert "staging" not in schemas
    assert [p.name for p in snapshot.parent.iterdir()] == ["snap.duckdb"]


def test_a_reader_of_the_old_snapshot_keeps_it_and_new_readers_see_the_new_one(tmp_path: Path) -> None:
    working = _working(tmp_path / "work.duckdb", rows=3, version=1)
    snapshot = tmp_path / "snap.duckdb"
    publish(str(working), str(snapshot))
    reader = duckdb.connect(str(snapshot), read_only=True)
    before = reader.execute("select sum(total_impressions_7d) from marts.sigma_workbook_impressions").fetchone()
    _working(working, rows=5, version=2)
    publish(str(working), str(snapshot))
    assert reader.execute("select sum(total_impressions_7d) from marts.sigma_workbook_impressions").fetchone() == before
    reader.close()
    assert _tables(snapshot) == _tables(working)


def test_a_failed_publish_leaves_the_previous_snapshot(tmp_path: Path) -> None:
    working = _working(tmp_path / "work.duckdb")
    snapshot = tmp_path / "snap.duckdb"
    publish(str(working), str(snapshot))
    before = _tables(snapshot)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(PublishError, match="has no marts: run dbt build first"):
        publish(str(empty), str(snapshot))
    with pytest.raises(PublishError, match="no database at"):
        publish(str(tmp_path / "missing.duckdb"), str(snapshot))
    with pytest.raises(PublishError, match=r"something other than marts\.duckdb"):
        publish(str(working), str(tmp_path / "marts.duckdb"))
    with pytest.raises(PublishError, match="must not be the working database"):
        publish(str(working), str(working))
    assert _tables(snapshot) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.duckdb", "snap.duckdb", "work.duckdb"]


def test_a_working_file_in_use_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    working = _working(tmp_path / "work.duckdb")
    snapshot = tmp_path / "snap.duckdb"
    publish(str(working), str(snapshot))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(working)!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(PublishError) as caught:
            publish(str(working), str(snapshot))
    finally:
        holder.kill()
        holder.wait()
    assert "is in use by another process" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert _tables(snapshot) == _tables(working)


def test_kill_9_during_publish_keeps_the_previous_snapshot_and_the_next_publish_cleans_up(tmp_path: Path) -> None:
    working = _working(tmp_path / "work.duckdb", rows=3)
    snapshot = tmp_path / "snap.duckdb"
    publish(str(working), str(snapshot))
    before = _tables(snapshot)
    con = duckdb.connect(str(working))  # a mart large enough that copying it takes a while
    con.execute("create or replace table marts.big as select i, md5(i::varchar) as h from range(4000000) t(i)")
    con.close()
    script = textwrap.dedent(
        f"""
        from sigma_impressions.publish import publish
        publish({str(working)!r}, {str(snapshot)!r})
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("snap.duckdb.tmp-*")) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the publish finished before it could be killed"
    assert list(tmp_path.glob("snap.duckdb.tmp-*")), "the killed publish left no temporary file to clean"
    assert _tables(snapshot) == before
    publish(str(working), str(snapshot))
    assert "big" in _tables(snapshot)
    assert not list(tmp_path.glob("snap.duckdb.tmp-*"))


def test_published_path_option_then_env_then_default() -> None:
    env = {"SIGMA_IMPRESSIONS_PUBLISHED_PATH": "/srv/marts.duckdb"}
    assert published_path("/x/y.duckdb", env) == "/x/y.duckdb"
    assert published_path(None, env) == "/srv/marts.duckdb"
    assert published_path("", {}) == "warehouse/sigma_impressions_marts.duckdb"
