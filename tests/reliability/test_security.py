"""Secrets, SQL injection through names, and the storage path: what an attacker or an accident could reach.

- Secrets (key, secret, session token) never appear in stdout, stderr, the manifest, the DuckDB
  file or any file the run writes, also when requests fail (403, connection resets via the proxy).
- Header names and object names reach SQL only as quoted identifiers or bound parameters: object
  names full of quotes and semicolons land through moto_server as themselves, and the loader's
  SQL text interpolates nothing but the schema constant and quote_ident() (checked on its AST).
"""

from __future__ import annotations

import ast
import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loader.config import build_config
from loader.landing import run_load
from loader.sigma_api.tables import TABLES as INVENTORY_TABLES
from tests.conftest import S3Bucket
from tests.helpers.fault_proxy import FaultProxy
from tests.helpers.processes import BIN, clean_env

REPO = Path(__file__).resolve().parents[2]
KEY_ID = "AKIALEAKCHECK0000042"
SECRET = "Sekr3t-Zw9Qx7Lp2Vn5Rt8Yb1Hc4Jd6Kf0"
TOKEN = "T0ken-FQoGZXIvYXdzEJr-session-only-Xq9"
HEADER = "request_time,user_email,workbook_url_id\n"
BODY = HEADER + "2026-11-25 10:00:00,a@x.com,wb1\n"


@pytest.fixture
def leaky_setup(s3_bucket: S3Bucket) -> Iterator[tuple[S3Bucket, FaultProxy]]:
    # The newest object is the one `check` reads: a readable one (see the report on check and resets).
    for name in ("denied", "reset", "zz-fine"):
        s3_bucket.put(f"exports/{name}.csv", BODY)
    proxy = FaultProxy(s3_bucket.endpoint).start()
    proxy.add("403", match="/exports/denied.csv", times=None)
    proxy.add("reset", match="/exports/reset.csv", method="GET", times=None)
    yield s3_bucket, proxy
    proxy.stop()


def test_secrets_never_leak_when_requests_fail(leaky_setup: tuple[S3Bucket, FaultProxy], tmp_path: Path) -> None:
    bucket, proxy = leaky_setup
    home = tmp_path / "home"
    home.mkdir()
    db = tmp_path / "w.duckdb"
    env = clean_env(
        HOME=str(home),
        SIGMA_IMPRESSIONS_AWS_ACCESS_KEY_ID=KEY_ID,
        SIGMA_IMPRESSIONS_AWS_SECRET_ACCESS_KEY=SECRET,
        SIGMA_IMPRESSIONS_AWS_SESSION_TOKEN=TOKEN,
        SIGMA_IMPRESSIONS_AWS_REGION="us-east-1",
    )
    outputs = []
    for command in ("load", "check"):
        argv = [str(BIN / "sigma-impressions"), command, "--bucket-uri", f"s3://{bucket.name}/exports"]
        argv += ["--endpoint-url", proxy.url, "--database", str(db)]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)
        outputs.append(done.stdout + done.stderr)
    load_output = outputs[0]
    assert "summary files_seen=3 loaded=1 skipped=0 failed=2" in load_output
    assert "access denied" in load_output and "Traceback" not in "".join(outputs)
    assert proxy.injected("403") >= 1 and proxy.injected("reset") >= 1
    for text in outputs:
        assert SECRET not in text and TOKEN not in text
    with duckdb.connect(str(db)) as con:
        manifest = con.execute("select * from sigma_raw.loaded_files").fetchall()
        rejected = con.execute("select * from sigma_raw.rejected_lines").fetchall()
        assert con.execute("select count(*) from duckdb_secrets()").fetchone()[0] == 0
    assert SECRET not in repr(manifest) + repr(rejected) and TOKEN not in repr(manifest)
    scanned = 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            scanned += 1
            for secret in (SECRET, TOKEN):
                assert secret.encode() not in data, f"{secret[:4]}... found in {path}"
    assert scanned >= 1  # the database file, at least


def test_secrets_never_in_exception_messages(leaky_setup: tuple[S3Bucket, FaultProxy], tmp_path: Path) -> None:
    bucket, proxy = leaky_setup
    options = {
        **bucket.options("exports", tmp_path / "w.duckdb"),
        "endpoint_url": proxy.url,
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET,
        "aws_session_token": TOKEN,
    }
    config = build_config(options, env={})
    assert SECRET not in repr(config) and TOKEN not in repr(config)
    summary = run_load(config)
    errors = [r.error or "" for r in summary.results]
    assert sum(1 for e in errors if e) == 2
    assert not any(SECRET in e or TOKEN in e for e in errors)
    proxy.add("403", match="list-type=2", times=None)
    from loader.storage import StorageError

    with pytest.raises(StorageError) as caught:
        run_load(config)
    chain = []
    exc: BaseException | None = caught.value
    while exc is not None:
        chain.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    assert "access denied" in chain[0]
    assert not any(SECRET in text or TOKEN in text for text in chain)


NASTY_KEYS = [
    "it's.csv",
    'x"; drop table sigma_raw.loaded_files; --.csv',
    "'); delete from sigma_raw.impression_rows; --.csv",
    "$uri.csv",
    "?.csv",
    "%27%22.csv",
    "a b\tc.csv",
    "naïve 😀.csv",
    "back\\slash.csv",
    "semi;colon;.csv",
    "dir with 'quote'/inner \"q\".csv",
    "..csv",
    "...csv",
]
key_names = st.text(alphabet=st.sampled_from(list("ab'\";$?%\\ -_.()[]{}*&=+,é😀")), min_size=1, max_size=20).map(
    lambda s: s + ".csv"
)
serial = itertools.count()
# What sigma_raw holds after a load: the raw tables and the inventory's (created empty).
RAW_TABLES = {"impression_rows", "rejected_lines", "loaded_files"}


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(names=st.lists(key_names, min_size=1, max_size=3, unique=True))
def test_object_names_reach_sql_only_as_parameters(s3_bucket: S3Bucket, tmp_path: Path, names: list[str]) -> None:
    prefix = f"exports/{next(serial)}"
    if prefix.endswith("/0"):
        names = NASTY_KEYS + names
    names = list(dict.fromkeys(names))
    for name in names:
        s3_bucket.put(f"{prefix}/{name}", BODY)
    db = tmp_path / f"w{prefix.replace('/', '-')}.duckdb"
    summary = run_load(build_config(s3_bucket.options(prefix, db), env={}))
    assert summary.ok, [(r.uri, r.error) for r in summary.results]
    expected = sorted(f"s3://{s3_bucket.name}/{prefix}/{name}" for name in names)
    with duckdb.connect(str(db), read_only=True) as con:
        manifest = con.execute("select file_uri, rows_loaded from sigma_raw.loaded_files order by 1").fetchall()
        landed = con.execute("select _file_uri, count(*) from sigma_raw.impression_rows group by 1 order by 1")
        landed = landed.fetchall()
        tables = con.execute("select table_name from information_schema.tables where table_schema = 'sigma_raw'")
        assert {name for (name,) in tables.fetchall()} == RAW_TABLES | set(INVENTORY_TABLES)
    assert manifest == [(uri, 1) for uri in expected]
    assert landed == [(uri, 1) for uri in expected]


SQL_FILES = ("loader/destinations/duckdb.py", "loader/csv_reader.py", "loader/check.py", "loader/storage.py")
# Names that may appear inside SQL text, and why each is safe.
SAFE_NAMES = {
    "RAW_SCHEMA": "a constant",
    "DDL": "a constant built from RAW_SCHEMA",
    "table": "loops over a constant tuple of table names",
    "column": "loops over a constant tuple of column names",
    "targets": "joined quote_ident() names and constants",
    "sources": "joined quote_ident() names and constants",
}


def _sql_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        is_method = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if is_method and node.func.attr in ("execute", "executemany", "sql", "query") and node.args:
            yield node


def _safe(node: ast.expr) -> bool:
    """Constants, allowed names, quote_ident(...), and f-strings/joins/concatenations of those."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in SAFE_NAMES
    if isinstance(node, ast.JoinedStr):
        return all(_safe(v.value) for v in node.values if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.BinOp):
        return _safe(node.left) and _safe(node.right)
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "quote_ident":
        return True
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and isinstance(node.func.value, ast.Constant)
        and len(node.args) == 1
    ):
        arg = node.args[0]
        if isinstance(arg, ast.GeneratorExp | ast.ListComp):
            return _safe(arg.elt)
        if isinstance(arg, ast.List):
            return all(_safe(e.value if isinstance(e, ast.Starred) else e) for e in arg.elts)
    return False


def test_sql_text_interpolates_only_constants_and_quoted_identifiers() -> None:
    checked = 0
    for relative in SQL_FILES:
        tree = ast.parse((REPO / relative).read_text(), relative)
        for call in _sql_calls(tree):
            checked += 1
            text = ast.unparse(call.args[0])
            assert _safe(call.args[0]), f"{relative}:{call.lineno}: SQL text built from {text}"
    assert checked >= 10


def test_dot_segments_in_object_keys_read_the_object_itself(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """A key such as exports/sub/../../outside.csv is a literal S3 key: the loader reads that object,
    never the one its path would normalize to (outside the prefix)."""
    keys = {
        "exports/sub/../../outside.csv": "inside-object",
        "outside.csv": "OUTSIDE",
        "exports/./dot.csv": "dot-object",
        "dot.csv": "OUTSIDE-DOT",
        "exports//double.csv": "double-slash-object",
    }
    for key, who in keys.items():
        s3_bucket.put(key, f"{HEADER}2026-11-25 10:00:00,{who},wb1\n")
    db = tmp_path / "w.duckdb"
    assert run_load(build_config(s3_bucket.options("exports", db), env={})).ok
    with duckdb.connect(str(db), read_only=True) as con:
        landed = dict(con.execute("select _file_uri, user_email from sigma_raw.impression_rows").fetchall())
    assert landed == {f"s3://{s3_bucket.name}/{key}": who for key, who in keys.items() if key.startswith("exports/")}


def test_a_local_file_swapped_for_a_symlink_after_listing_is_not_read(tmp_path: Path) -> None:
    """file://: the listing refuses symlinks that leave the prefix; one swapped in after the listing
    (size and mtime differ from the listed file's) is refused at read time, and nothing lands."""
    from loader.destinations.duckdb import open_database
    from loader.landing import land_file
    from loader.storage import list_exports, make_filesystem

    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text(BODY)
    outside = tmp_path / "outside.csv"
    outside.write_text(HEADER + "2026-11-25 10:00:00,OUTSIDE,wb1\n" * 3)
    config = build_config({"bucket_uri": f"file://{folder}", "database": str(tmp_path / "w.duckdb")}, env={})
    listing = list_exports(make_filesystem(config), config.bucket, config.days_back)
    (folder / "a.csv").unlink()
    (folder / "a.csv").symlink_to(outside)
    with open_database(config) as con:
        result = land_file(con, None, listing.in_window[0], config)
        landed = con.execute("select count(*) from sigma_raw.impression_rows").fetchone()[0]
    assert result.status == "failed" and "changed after it was listed" in (result.error or "")
    assert landed == 0
    summary = run_load(config)  # the next run lists again: the symlink leaves the prefix, so it is skipped
    assert summary.files_seen == 0 and summary.unsafe_entries == [f"file://{folder}/a.csv"]
