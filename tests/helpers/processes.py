"""Run `sigma-impressions` as a real process: environment, resource limits, fewer privileges."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from pathlib import Path

import duckdb

BIN = Path(sys.executable).parent
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any SIGMA_IMPRESSIONS_* or AWS_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGMA_IMPRESSIONS_", "AWS_"))}
    return {**env, **extra}


def load_argv(bucket_uri: str, database: Path, *extra: str) -> list[str]:
    return [str(BIN / "sigma-impressions"), "load", "--bucket-uri", bucket_uri, "--database", str(database), *extra]


def file_size_limit(limit_bytes: int):
    """preexec_fn: writes past `limit_bytes` fail with EFBIG (SIGXFSZ ignored), like a full disk."""

    def _apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return _apply


def without_root_overrides() -> None:
    """preexec_fn: as root, drop the capabilities that ignore file permissions, so a read-only
    folder is read-only for the child too. (Not root: nothing to drop, permissions apply.)"""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def raw_snapshot(database: Path) -> dict[str, list[tuple]]:
    """The raw tables without load timestamps, sorted: what two runs must agree on."""
    with duckdb.connect(str(database)) as con:
        columns = sorted(
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'sigma_raw' and table_name = 'impression_rows' and column_name <> '_loaded_at'"
            ).fetchall()
        )
        select = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        return {
            "columns": [tuple(columns)],
            "impression_rows": con.execute(f"select {select} from sigma_raw.impression_rows order by all").fetchall(),
            "rejected_lines": con.execute(
                "select _file_uri, line_number, error, raw_text from sigma_raw.rejected_lines order by all"
            ).fetchall(),
            "loaded_files": con.execute(
                "select file_uri, etag, size_bytes, headers, rows_loaded, rows_rejected, status, error "
                "from sigma_raw.loaded_files order by all"
            ).fetchall(),
        }


def assert_no_partial_file(database: Path) -> None:
    """Rows of a file are all there with its loaded manifest row, or none are."""
    with duckdb.connect(str(database)) as con:
        per_file = dict(
            con.execute("select _file_uri, count(*) from sigma_raw.impression_rows group by all").fetchall()
        )
        manifest = {
            uri: (status, loaded)
            for uri, status, loaded in con.execute(
                "select file_uri, status, rows_loaded from sigma_raw.loaded_files"
            ).fetchall()
        }
        duplicates = con.execute(
            "select count(*) from (select _file_uri, _file_row_number from sigma_raw.impression_rows "
            "group by all having count(*) > 1)"
        ).fetchone()[0]
    assert duplicates == 0, "a row landed twice"
    for uri, count in per_file.items():
        assert uri in manifest and manifest[uri] == ("loaded", count), (uri, count, manifest.get(uri))
    for uri, (status, loaded) in manifest.items():
        assert per_file.get(uri, 0) == (loaded if status == "loaded" else 0), uri
