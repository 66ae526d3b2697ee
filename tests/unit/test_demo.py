"""The demo export: deterministic, inside the loader's lookback, and matching the shipped seeds."""

from __future__ import annotations

import csv
import gzip
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loader.contract import REQUIRED, load_aliases, map_headers, project_dir
from sigma_impressions.demo import EXPECTED_REJECTED, DemoEvent, seed_rows, write_demo
from tests.helpers.demo_facts import dedupe, demo_facts

NOW = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


def _read(path: Path) -> list[list[str]]:
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    return list(csv.reader(data.decode("utf-8-sig").splitlines()))


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    first = demo_facts(write_demo(tmp_path / "a", seed=7, now=NOW))
    again = demo_facts(write_demo(tmp_path / "b", seed=7, now=NOW))
    other = demo_facts(write_demo(tmp_path / "c", seed=8, now=NOW))
    assert [p.name for p in first.files] == [p.name for p in again.files]
    assert [p.read_bytes() for p in first.files] == [p.read_bytes() for p in again.files]
    assert first.workbook_impressions == again.workbook_impressions
    assert first.total_impressions != other.total_impressions
    # later in the same day: same content (only the modification times move)
    later = write_demo(tmp_path / "d", seed=7, now=NOW + timedelta(hours=3))
    assert [p.read_bytes() for p in later.files] == [p.read_bytes() for p in first.files]


def test_files_look_like_sigma_exports(tmp_path: Path) -> None:
    facts = write_demo(tmp_path, now=NOW)
    names = [p.name for p in facts.files]
    assert len(names) == 6
    assert any(n.endswith(".csv.gz") for n in names) and any(n.endswith(".csv") for n in names)
    assert names[0] == "sigma_audit_run-1.csv.gz" and names[-1] == "sigma_audit_run-6.csv"
    aliases = load_aliases(project_dir())
    headers = [_read(p)[0] for p in facts.files]
    assert len({tuple(h) for h in headers}) >= 5  # spellings differ between files
    for header in headers:
        mapping = map_headers(header, aliases)
        assert all(mapping[c] for c in (*REQUIRED, "element_id"))
    assert facts.files[4].read_bytes()[:2] == b"\x1f\x8b"  # gzip, with a BOM inside
    assert gzip.decompress(facts.files[4].read_bytes())[:3] == b"\xef\xbb\xbf"
    assert sum(len(_read(p)) - 1 for p in facts.files) == facts.total_rows


def test_modification_times_fall_in_the_default_lookback(tmp_path: Path) -> None:
    facts = write_demo(tmp_path)  # now = the real clock, as `make run` does
    mtimes = [os.stat(p).st_mtime for p in facts.files]
    assert mtimes == sorted(mtimes)
    assert all(time.time() - 3 * 24 * 3600 + 600 < m <= time.time() for m in mtimes)


def test_the_demo_has_what_the_issue_asks(tmp_path: Path) -> None:
    export = write_demo(tmp_path, now=NOW)
    facts = demo_facts(export)
    assert (export.events, export.users) == (facts.events, facts.users)  # what `demo` prints
    assert len(facts.users) >= 12
    workbooks, _ = seed_rows()
    known = {w[0] for w in workbooks}
    assert facts.unused_workbook_url_id in known
    assert facts.workbook_impressions[facts.unused_workbook_url_id][90] == 0
    assert facts.workbook_impressions[facts.stale_workbook_url_id][30] == 0
    assert facts.workbook_impressions[facts.stale_workbook_url_id][90] > 0
    assert facts.unknown_workbook_url_id not in known
    assert any(k[0] == facts.unknown_workbook_url_id for k in facts.unmatched)
    assert facts.unmatched[(*facts.unknown_element, "unknown_element")] > 0
    assert facts.unviewed_element_ids
    assert facts.events < facts.total_rows  # re-sent and split rows
    assert facts.total_impressions > facts.events  # counts > 1
    assert sum(EXPECTED_REJECTED.values()) == sum(facts.rejected.values())
    rows = [r for p in facts.files for r in _read(p)[1:]]
    assert any(len(r) > 5 and r[0] == "MALFORMED" for r in rows)
    # windows nest
    for counts in facts.workbook_impressions.values():
        assert counts[7] <= counts[14] <= counts[30] <= counts[60] <= counts[90]


def test_seeds_match_the_demo_inventory() -> None:
    workbooks, elements = seed_rows()
    seeds = project_dir() / "seeds"
    with open(seeds / "sigma_workbooks.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "workbook_url_id",
        "workbook_id",
        "name",
        "path",
        "owner_email",
        "created_at",
        "updated_at",
    ]
    assert rows[1:] == workbooks
    with open(seeds / "sigma_workbook_elements.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["workbook_url_id", "element_id", "page_name", "name", "element_type"]
    assert rows[1:] == elements


def test_dedupe_latest_file_wins_and_rows_of_one_file_add_up() -> None:
    at = datetime(2026, 11, 20, 10, 0)
    a = DemoEvent(at, "u@x", "wb", None, 1)
    written = [(0, a), (1, DemoEvent(at, "u@x", "wb", None, 2)), (1, DemoEvent(at, "u@x", "wb", None, 1))]
    assert dedupe(written) == {a.key: 3}
    assert dedupe([(0, a), (0, a)]) == {a.key: 2}


def test_cli_demo_writes_the_files(tmp_path: Path, capsys) -> None:
    from sigma_impressions.cli import main

    assert main(["demo", "--out", str(tmp_path / "out"), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "wrote 6 export file(s)" in out
    assert f"file://{tmp_path / 'out'}" in out
    assert len(list((tmp_path / "out").iterdir())) == 6
