"""The benchmark's smoke run: the same script and code path as `make bench`, at 10k rows, into tmp_path.

It keeps bench/run_bench.py working; it measures nothing meaningful. Contenders whose package is
not installed (dlt, pandas: the bench-only peers) are skipped by the script itself and must be
listed as skipped in the docs it writes; so is the dbt part, whose fixed cost is over a minute.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_smoke_run_writes_sane_docs_plot_and_results(tmp_path: Path) -> None:
    work, docs = tmp_path / "work", tmp_path / "docs"
    script = str(REPO / "bench" / "run_bench.py")
    done = subprocess.run(
        [sys.executable, script, "--smoke", "--work-dir", str(work), "--docs-dir", str(docs)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = json.loads((work / "results.json").read_text())
    size = results["sizes"]["10000"]
    assert size["files"] == 90
    measured = size["contenders"]
    for name in ("floor", "floor_fixed", "load", "noop_first", "noop_rerun"):
        assert len(measured[name]["seconds"]) == 1, name
        assert 0 < measured[name]["seconds"][0] < 120, name
        assert measured[name]["peak_rss_bytes"][0] > 10 * 2**20, name
    for name in ("dlt", "pandas"):  # measured where installed, else skipped by the script, saying why
        if name in size["skipped"]:
            assert f"`{name}` not installed" in size["skipped"][name]
            assert name not in measured
        else:
            assert measured[name]["seconds"][0] > 0
    assert "smoke" in size["skipped"]["dbt"]  # dbt's fixed cost alone is over a minute
    # The 20M-row memory target is its own part, skipped with the dbt part in a smoke run.
    assert "smoke" in results["sizes"]["20000"]["skipped"]["dbt_full_20m_1gb"]

    text = (docs / "benchmarks.md").read_text()
    assert "## Targets" in text
    assert "| load wall and CPU <= 1.5x floor_fixed (DuckDB's own multi-file read_csv) |" in text
    assert "## 10,000 rows (90 daily files" in text
    assert "| incremental dbt build after one daily file <= 40% of the full build |" in text
    assert "| full dbt build node time <= 1.5x the hand-written SQL of all the marts |" in text
    assert "completes with memory_limit=1GB | -" in text or "completes with memory_limit=1GB | smoke" in text
    assert "| load | " in text
    assert "2 cores" in text or f"{results['machine']['cores']} cores" in text
    for name in size["skipped"]:
        assert f"| {name} | skipped: " in text
    png = docs / "benchmarks.png"
    if importlib.util.find_spec("matplotlib") is None:
        assert "not drawn: matplotlib not installed" in text
    else:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (work / "run").exists(), "the scratch databases are removed"
