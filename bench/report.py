"""docs/benchmarks.md and docs/benchmarks.png from the samples in results.json."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from measure import Stats

GIB = 2**30
MIB = 2**20
ORDER = (
    "floor",
    "floor_fixed",
    "load",
    "load_patched",
    "dlt",
    "pandas",
    "noop_first",
    "noop_rerun",
    "dbt_full",
    "load_one_day",
    "dbt_incremental",
    "dbt_full_nodes",
    "dbt_full_1gb",
    "dbt_full_20m_1gb",
    "mart_sql",
)
PLOTTED = ("floor", "floor_fixed", "load", "load_patched", "dlt", "pandas", "dbt_full", "dbt_incremental", "mart_sql")


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    ok: bool | None  # None: not measured in this run

    @property
    def word(self) -> str:
        return {True: "PASS", False: "MISS", None: "not measured"}[self.ok]


def _stats(entry: dict, contender: str, key: str = "seconds") -> Stats | None:
    values = entry["contenders"].get(contender, {}).get(key)
    return Stats.of(values) if values else None


def _median(data: dict, rows: int | str, contender: str, key: str = "seconds") -> float | None:
    entry = data["sizes"].get(str(rows))
    stats = _stats(entry, contender, key) if entry else None
    return stats.median if stats else None


def _ratio(data: dict, rows: int, a: str, b: str, key: str = "seconds") -> float | None:
    x, y = _median(data, rows, a, key), _median(data, rows, b, key)
    return x / y if x and y else None


def _sizes_with(data: dict, contender: str) -> list[int]:
    return sorted(int(s) for s, e in data["sizes"].items() if e["contenders"].get(contender))


def verdicts(data: dict, load: str = "load") -> list[Verdict]:
    """The issue's targets for one loader contender (`load`, or `load_patched` for a proposed patch)."""
    rows = data["headline_rows"]
    at = f"at {rows:,} rows"
    out: list[Verdict] = []

    wall, cpu = _ratio(data, rows, load, "floor_fixed"), _ratio(data, rows, load, "floor_fixed", "cpu_seconds")
    target = "load wall and CPU <= 1.5x floor_fixed (DuckDB's own multi-file read_csv)"
    if wall and cpu:
        floor = _ratio(data, rows, load, "floor")
        extra = f"; vs floor (union_by_name) {floor:.2f}" if floor else ""
        out.append(Verdict(target, f"wall {wall:.2f}, CPU {cpu:.2f}{extra} {at}", wall <= 1.5 and cpu <= 1.5))
    else:
        out.append(Verdict(target, "-", None))

    wall, cpu = _ratio(data, rows, load, "dlt"), _ratio(data, rows, load, "dlt", "cpu_seconds")
    target = "load wall and CPU <= dlt's on the same files"
    if wall and cpu:
        pandas = _ratio(data, rows, "pandas", load)
        extra = f"; pandas takes {pandas:.2f}x the load's wall" if pandas else ""
        out.append(Verdict(target, f"wall {wall:.2f}x, CPU {cpu:.2f}x of dlt's{extra} {at}", wall <= 1 and cpu <= 1))
    else:
        out.append(Verdict(target, "dlt not measured", None))

    first, rerun = _median(data, rows, "noop_first"), _median(data, rows, "noop_rerun")
    files = data["sizes"].get(str(rows), {}).get("many_files", 0)
    target = f"no-op re-run < 5% of the first load and < 2 s at {files or 500} files"
    if first and rerun and load == "load":
        share = rerun / first
        out.append(Verdict(target, f"{share:.1%} of {first:.1f} s: {rerun:.2f} s {at}", share < 0.05 and rerun < 2))
    else:
        out.append(Verdict(target, "-" if load == "load" else "same code path as load (unchanged)", None))

    dbt_sizes = _sizes_with(data, "dbt_incremental")
    target = "incremental dbt build after one daily file <= 40% of the full build"
    if dbt_sizes and load == "load":
        at_dbt = rows if rows in dbt_sizes else max(dbt_sizes)
        share = _ratio(data, at_dbt, "dbt_incremental", "dbt_full") or 0.0
        cpu_share = _ratio(data, at_dbt, "dbt_incremental", "dbt_full", "cpu_seconds")
        cpu_text = f" (CPU {cpu_share:.0%})" if cpu_share else ""
        inc, full = _median(data, at_dbt, "dbt_incremental") or 0, _median(data, at_dbt, "dbt_full") or 0
        text = f"{share:.0%}{cpu_text}: {inc:.0f} s vs {full:.0f} s at {at_dbt:,} rows"
        out.append(Verdict(target, text, share <= 0.40))
    else:
        out.append(Verdict(target, "-" if load == "load" else "not a loader target", None))

    target = "full dbt build node time <= 1.5x the hand-written SQL of all the marts"
    node_sizes = [s for s in _sizes_with(data, "dbt_full_nodes") if _median(data, s, "mart_sql")]
    if node_sizes and load == "load":
        at_nodes = rows if rows in node_sizes else max(node_sizes)
        nodes, mart = _median(data, at_nodes, "dbt_full_nodes") or 0, _median(data, at_nodes, "mart_sql") or 0
        ratio = nodes / mart if mart else 0.0
        text = f"{ratio:.1f}x: {nodes:.0f} s of dbt node time vs {mart:.1f} s at {at_nodes:,} rows"
        out.append(Verdict(target, text, ratio <= 1.5))
    else:
        out.append(Verdict(target, "-" if load == "load" else "not a loader target", None))

    full_sizes = _sizes_with(data, "dbt_full")
    target = "dbt build peak RSS <= 2 GiB at 10M rows (shipped profile)"
    if full_sizes and load == "load":
        largest = max(full_sizes)
        full_rss = _median(data, largest, "dbt_full", "peak_rss_bytes") or 0
        note = "" if largest >= 10_000_000 else " (10M not measured)"
        ok = full_rss <= 2 * GIB if largest >= 10_000_000 else None
        out.append(Verdict(target, f"{full_rss / MIB:.0f} MiB at {largest:,} rows{note}", ok))
    else:
        out.append(Verdict(target, "-" if load == "load" else "not a loader target", None))

    target = "full dbt build at 20M rows (1,200 workbooks x 10 elements, 3,000 users) completes with memory_limit=1GB"
    shaped = [(int(size), entry) for size, entry in data["sizes"].items() if entry.get("shape")]
    if shaped and load == "load":
        size, entry = max(shaped)
        seconds = _median(data, size, "dbt_full_20m_1gb")
        if seconds:
            rss = _median(data, size, "dbt_full_20m_1gb", "peak_rss_bytes") or 0
            text = f"completed in {seconds:.0f} s, peak RSS {rss / MIB:.0f} MiB at {size:,} rows"
            out.append(Verdict(target, text, True if size >= 20_000_000 else None))
        else:
            reason = entry.get("skipped", {}).get("dbt_full_20m_1gb", "not run")
            failed = "fail" in reason or "memory" in reason
            out.append(Verdict(target, f"{reason} at {size:,} rows", False if failed else None))
    else:
        out.append(Verdict(target, "-" if load == "load" else "not a loader target", None))

    sizes = _sizes_with(data, load)
    target = "peak RSS of load < 1 GiB at 10M rows"
    rss = _median(data, sizes[-1], load, "peak_rss_bytes") if sizes else None
    if rss:
        largest = sizes[-1]
        note = "" if largest >= 10_000_000 else " (10M not measured)"
        ok = rss < GIB if largest >= 10_000_000 else None
        out.append(Verdict(target, f"{rss / MIB:.0f} MiB at {largest:,} rows{note}", ok))
    else:
        out.append(Verdict(target, "-", None))

    per_row = {s: (_median(data, s, load) or 0) / s for s in sizes if 1_000_000 <= s <= 10_000_000}
    cpu_row = {s: (_median(data, s, load, "cpu_seconds") or 1.0) / s for s in per_row}
    target = "load time per row flat within 1.3x from 1M to 10M"
    if len(per_row) >= 2:
        lo, hi = min(per_row.values()), max(per_row.values())
        cpu_span = max(cpu_row.values()) / min(cpu_row.values())
        text = (
            f"{hi / lo:.2f}x (CPU {cpu_span:.2f}x) over {min(per_row):,}..{max(per_row):,} rows: "
            f"{lo * 1e6:.2f}..{hi * 1e6:.2f} s per M rows"
        )
        out.append(Verdict(target, text, hi / lo <= 1.3))
    else:
        out.append(Verdict(target, "fewer than 2 sizes in 1M..10M", None))
    return out


def headline_lines(data: dict) -> list[str]:
    rows = data["headline_rows"]
    load = _median(data, rows, "load")
    floor = _median(data, rows, "floor_fixed")
    if not (load and floor):
        return []
    parts = [
        f"`sigma-impressions load` lands {rows / 1e6:g}M rows in {load:.1f} s: {load / floor:.2f}x DuckDB's own "
        "multi-file read_csv"
    ]
    peers = {p: _median(data, rows, p) for p in ("dlt", "pandas")}
    measured = {p: v for p, v in peers.items() if v}
    for peer, seconds in sorted(measured.items()):
        ratio = seconds / load
        parts.append(f"{ratio:.1f}x faster than {peer}" if ratio >= 1 else f"{1 / ratio:.1f}x slower than {peer}")
    full = _median(data, rows, "dbt_full")
    incremental = _median(data, rows, "dbt_incremental")
    if full and incremental:
        parts.append(f"a daily incremental dbt build costs {incremental / full:.0%} of a full one")
    cores = data["machine"]["cores"]
    return ["Headline: " + "; ".join(parts) + f" ({cores}-core machine, see docs/benchmarks.md)."]


def _fmt_range(stats: Stats, scale: float, digits: int) -> str:
    return f"{stats.low / scale:.{digits}f}-{stats.high / scale:.{digits}f}"


def size_table(data: dict, entry: dict) -> list[str]:
    rows = entry["rows"]
    lines = [
        "| contender | median s | range s | s per M rows | CPU s median | CPU range | "
        "peak RSS median MiB | RSS range MiB | n |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ORDER:
        secs = _stats(entry, name)
        if not secs:
            continue
        rss = _stats(entry, name, "peak_rss_bytes")
        cpu = _stats(entry, name, "cpu_seconds")
        assert rss is not None
        per_m = secs.median / rows * 1e6
        cpu_cells = f"{cpu.median:.2f} | {_fmt_range(cpu, 1, 2)}" if cpu else "- | -"
        lines.append(
            f"| {name} | {secs.median:.2f} | {_fmt_range(secs, 1, 2)} | {per_m:.2f} | {cpu_cells} | "
            f"{rss.median / MIB:.0f} | {_fmt_range(rss, MIB, 0)} | {secs.n} |"
        )
    for name, reason in entry.get("skipped", {}).items():
        lines.append(f"| {name} | skipped: {reason} | | | | | | | |")
    return lines


def markdown(data: dict, png_name: str) -> str:
    m = data["machine"]
    out = [
        "# Benchmarks",
        "",
        "Generated by `bench/run_bench.py`; do not edit by hand, re-run `make bench`.",
        "",
        "## Machine and run",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB memory, {m['os']}.",
        f"- Versions: Python {m['python']}, duckdb {m['duckdb']}, dbt-core {m['dbt_core']}, "
        f"dlt {m['dlt'] or 'not installed'}, pandas {m['pandas'] or 'not installed'} "
        f"(peers run by {m.get('peer_python', 'the same interpreter')}).",
        f"- Code: `{data['git']}`; started {data['started_at']}; took {data.get('seconds', 0):.0f} s.",
        f"- Command: `{data['command']}`",
        f"- Repetitions: {data['reps']} per contender, the order rotating each repetition; median and min-max.",
    ]
    if data.get("note"):
        out.append(f"- Note: {data['note']}")
    if data.get("loader_env"):
        out.append(f"- Loader environment: `{data['loader_env']}`.")
    out += [
        "- Each contender is a whole separate process: wall time from spawn to exit (interpreter start",
        "  included); peak RSS = the kernel's maximum resident set of the process (wait4 `ru_maxrss`).",
        "- Exports: 90 daily files (one per UTC day before today) of request_time, user_email,",
        "  workbook_url_id, element_id, count; 400 workbooks x 12 elements, 3,000 users, power-law",
        "  popularity, 30% workbook-level rows; mtimes a few hours ago so `--days-back 6` takes all.",
        "  The 20M-row memory target uses its own shape: 1,200 workbooks x 10 elements, 3,000 users.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    out += [f"| {v.target} | {v.measured} | {v.word} |" for v in verdicts(data)]
    if _sizes_with(data, "load_patched"):
        out += [
            "",
            "With the proposed loader patch (`load_patched`, measured in the same run, alternating):",
            "",
            "| target | measured | verdict |",
            "|---|---|---|",
        ]
        out += [f"| {v.target} | {v.measured} | {v.word} |" for v in verdicts(data, "load_patched")]
    out += ["", *headline_lines(data), "", f"![wall and CPU time against rows]({png_name})", ""]
    findings = Path(__file__).resolve().parent / "findings.md"
    if findings.exists() and not data.get("smoke"):
        out += [findings.read_text().rstrip(), ""]
    out += ["## Contenders", ""]
    out += [f"- `{name}`: {text}" for name, text in data["descriptions"].items()]
    for key in sorted(data["sizes"], key=int):
        entry = data["sizes"][key]
        files = entry.get("files", "?")
        mib = entry.get("history_bytes", 0) / MIB
        shape = f"; {entry['shape']}" if entry.get("shape") else ""
        out += ["", f"## {int(key):,} rows ({files} daily files, {mib:.0f} MiB of CSV{shape})", ""]
        out += size_table(data, entry)
    return "\n".join(out) + "\n"


def plot(data: dict, path: Path) -> None:
    """Wall time (left) and CPU time (right) against rows, median with min-max bars, per contender."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5), dpi=100)
    sizes = sorted(int(s) for s in data["sizes"])
    for ax, key, label in (
        (axes[0], "seconds", "wall time, s"),
        (axes[1], "cpu_seconds", "CPU time (user + system), s"),
    ):
        for name in PLOTTED:
            xs, ys, lo, hi = [], [], [], []
            for s in sizes:
                stats = _stats(data["sizes"][str(s)], name, key)
                if stats:
                    xs.append(s / 1e6)
                    ys.append(stats.median)
                    lo.append(stats.median - stats.low)
                    hi.append(stats.high - stats.median)
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=name)
        ax.set_xlabel("rows (millions)")
        ax.set_ylabel(f"{label} (median, min-max bars)")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"sigma-impressions benchmark, {data['machine']['cores']} cores, {data['reps']} repetitions")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


SPARK_SECTION_MARKER = "<!-- spark-vs-duckdb: written by bench/spark_vs_duckdb.py -->"


def write(data: dict, docs_dir: Path) -> tuple[Path, Path]:
    docs_dir.mkdir(parents=True, exist_ok=True)
    png = docs_dir / "benchmarks.png"
    md = docs_dir / "benchmarks.md"
    try:
        plot(data, png)
        name = png.name
    except ImportError:
        name = png.name + " (not drawn: matplotlib not installed)"
    kept = ""
    if md.exists():  # the Spark comparison (bench/spark_vs_duckdb.py) owns the file's tail
        old = md.read_text()
        if SPARK_SECTION_MARKER in old:
            kept = "\n" + old[old.index(SPARK_SECTION_MARKER) :]
    md.write_text(markdown(data, name) + kept)
    return md, png
