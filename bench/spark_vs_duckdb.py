"""Spark local vs DuckDB on the same Parquet lake: `dbt build` of the same models, wall time and peak RSS.

    python bench/spark_vs_duckdb.py --rows 1000000,5000000 [--work-dir .bench/spark] [--docs-dir docs]

For each size: the benchmark's exports (bench/datagen.py: 90 daily files) are landed once into a
file:// lake (`load --lake-uri`, measured too), then `dbt build` (models and seeds, no tests) runs on
the duckdb target reading that lake (vars.sigma_lake_uri) and on the spark target (dbt-spark,
method session: one local Spark in the dbt process, all cores). The inventory is the shipped
seeds on both. Peak RSS is the largest summed resident set of the process tree (dbt and, for Spark,
its JVM), sampled every 0.2 s. Prints one Markdown table row per run and, with --docs-dir, writes
the section of docs/benchmarks.md after SPARK_SECTION_MARKER (bench/report.py keeps it). Needs
`make install-spark`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import datagen  # noqa: E402
from report import SPARK_SECTION_MARKER  # noqa: E402

BIN = Path(sys.executable).parent


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes, summed over the process tree) of one command."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        peak = 0
        root = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(cmd)}\n{output[-3000:]}")
    return seconds, peak


def dbt_build(target: str, lake_uri: str, work: Path, as_of: str) -> tuple[float, int]:
    env = {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "SIGMA_IMPRESSIONS_LAKE_URI": lake_uri,
        "SIGMA_IMPRESSIONS_DUCKDB_PATH": str(work / f"{target}.duckdb"),
        "SIGMA_IMPRESSIONS_SPARK_WAREHOUSE": str(work / "spark_warehouse"),
        "SIGMA_IMPRESSIONS_EXTENSION_DIR": str(PROJECT_DIR / ".venv" / "duckdb_extensions"),
    }
    cmd = [
        str(BIN / "dbt"),
        "build",
        "--target",
        target,
        "--exclude-resource-type",
        "test",
        "unit_test",
        "--vars",
        json.dumps({"as_of_date": as_of, "sigma_inventory_source": "seeds"}),
        "--project-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(work / f"target_{target}"),
        "--log-path",
        str(work / f"logs_{target}"),
    ]
    return measure(cmd, env, PROJECT_DIR)


SCALING = """\
How cost scales with executors on a cluster. The build is the same SQL on both engines: staging
parses every row (regular expressions and casts, no shuffle), the per-file grouping and the
event deduplication shuffle all rows by key, and the marts aggregate the deduplicated events
(small shuffles; the `used` lists collect and sort per resource). On Spark the row work splits
into one task per Parquet object or row group, so wall time is about a fixed part (session or
cluster start, dbt's per-model catalog calls and one Spark job per model and test: tens of
seconds) plus rows / (executors x cores x rows per core-second) plus the shuffles, which cross
the network. While the row work dominates, adding executors divides the wall time and leaves
the cost (executor-hours) about flat; once the fixed part and the shuffles dominate, more
executors add cost without saving time. On one node Spark takes about 8x DuckDB's wall time at
1M rows and about 9x at 5M (DuckDB's plain models take
under 30 s at 5M; Spark runs at least one job for each of the 29 models), at two to four times the memory
(the JVM's heap on top of Python). One node is not where Spark pays: it pays off when the
history no longer fits one machine (hundreds of millions of rows and more), with
the lake's daily files split so that every core has work (objects of ~128 MB or more) and
`spark.sql.shuffle.partitions` at 2-3x the cluster's cores. On plain Parquet every build
recomputes the whole history; Delta or Iceberg tables (merge instead of delete+insert) would
make a daily build cost in proportion to the new files instead.
"""


def write_docs(docs_dir: Path, table: list[str], sizes: str) -> None:
    """Replace the Spark section at the end of benchmarks.md (everything after the marker)."""
    md = docs_dir / "benchmarks.md"
    head = md.read_text() if md.exists() else "# Benchmarks\n"
    if SPARK_SECTION_MARKER in head:
        head = head[: head.index(SPARK_SECTION_MARKER)].rstrip("\n") + "\n"
    section = [
        SPARK_SECTION_MARKER,
        "",
        "## Spark local vs DuckDB on the same lake",
        "",
        f"`python bench/spark_vs_duckdb.py --rows {sizes}` (`make bench-spark`) on "
        f"{os.cpu_count()} cores: the benchmark exports landed into a file:// lake, then `dbt build` "
        "(models and seeds, no tests) on each target reading that lake. Informational: one node, one run "
        "each; peak RSS summed over dbt and Spark's JVM.",
        "",
        *table,
        "",
        SCALING,
    ]
    md.write_text(head + "\n" + "\n".join(section))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="1000000", help="comma-separated sizes (default 1000000)")
    parser.add_argument("--work-dir", default=str(PROJECT_DIR / ".bench" / "spark"))
    parser.add_argument("--docs-dir", help="write the results into <docs-dir>/benchmarks.md")
    args = parser.parse_args(argv)
    table = ["| rows | step | wall s | peak RSS MiB |", "|---:|---|---:|---:|"]
    print("\n".join(table), flush=True)
    for rows in (int(x) for x in args.rows.split(",")):
        work = Path(args.work_dir) / str(rows)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        data = datagen.generate(work / "exports", rows)
        lake_uri = f"file://{work / 'lake'}"
        land = [str(BIN / "sigma-impressions"), "load", "--bucket-uri", f"file://{data.history_dir}"]
        land += ["--days-back", "6", "--lake-uri", lake_uri]
        for name, (seconds, peak) in (
            ("load --lake-uri", measure(land, {}, PROJECT_DIR)),
            ("dbt build, duckdb on the lake", dbt_build("duckdb", lake_uri, work, data.as_of_date)),
            ("dbt build, spark local on the lake", dbt_build("spark", lake_uri, work, data.as_of_date)),
        ):
            table.append(f"| {rows:,} | {name} | {seconds:.1f} | {peak / 2**20:.0f} |")
            print(table[-1], flush=True)
        if args.docs_dir:
            write_docs(Path(args.docs_dir), table, args.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
