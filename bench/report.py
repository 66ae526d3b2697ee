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


def verdicts(data: dict) -> list[Verdict]:
    rows = data["headline_rows"]
    out: list[Verdict] = []
    load = _median(data, rows, "load")
    floor = _median(data, rows, "floor")
    at = f"at {rows:,} rows"
    if load and floor:
        ratio = load / floor
        out.append(Verdict("load / floor <= 1.3", f"{ratio:.2f} {at}", ratio <= 1.3))
    else:
        out.append(Verdict("load / floor <= 1.3", "-", None))
    peers = {p: _median(data, rows, p) for p in ("dlt", "pandas")}
    measured = {p: v for p, v in peers.items() if v}
    if load and measured:
        best = min(measured, key=lambda p: measured[p])
        ratio = measured[best] / load
        out.append(Verdict("load >= 3x faster than the fastest peer", f"{ratio:.2f}x vs {best} {at}", ratio >= 3))
    else:
        out.append(Verdict("load >= 3x faster than the fastest peer", "peers not installed", None))
    first = _median(data, rows, "noop_first")
    rerun = _median(data, rows, "noop_rerun")
    files = data["sizes"].get(str(rows), {}).get("many_files", 0)
    if first and rerun:
        share = rerun / first
        out.append(
            Verdict(
                f"no-op re-run < 5% of the first load and < 2 s at {files} files",
                f"{share:.1%} of {first:.1f} s, {rerun:.2f} s",
                share < 0.05 and rerun < 2.0,
            )
        )
    else:
        out.append(Verdict("no-op re-run < 5% of the first load and < 2 s at 500 files", "-", None))
    full = _median(data, rows, "dbt_full")
    incremental = _median(data, rows, "dbt_incremental")
    if full and incremental:
        share = incremental / full
        out.append(
            Verdict(
                "incremental dbt build after one daily file <= 25% of the full build",
                f"{share:.1%} ({incremental:.1f} s vs {full:.1f} s) {at}",
                share <= 0.25,
            )
        )
    else:
        out.append(Verdict("incremental dbt build after one daily file <= 25% of the full build", "-", None))
    sizes = sorted(int(s) for s in data["sizes"])
    largest = sizes[-1]
    rss = _median(data, largest, "load", "peak_rss_bytes")
    target_rss = "peak RSS of load < 1 GiB at 10M rows"
    if rss:
        note = "" if largest >= 10_000_000 else f" (largest size run: {largest:,}; 10M not measured)"
        out.append(
            Verdict(
                target_rss,
                f"{rss / MIB:.0f} MiB at {largest:,} rows{note}",
                rss < GIB if largest >= 10_000_000 else None,
            )
        )
    else:
        out.append(Verdict(target_rss, "-", None))
    per_row = {
        s: _median(data, s, "load") / s for s in sizes if 1_000_000 <= s <= 10_000_000 and _median(data, s, "load")
    }
    if len(per_row) >= 2:
        lo, hi = min(per_row.values()), max(per_row.values())
        span = f"{min(per_row):,}..{max(per_row):,} rows"
        out.append(
            Verdict(
                "load time per row flat within 1.3x from 1M to 10M",
                f"{hi / lo:.2f}x over {span} ({lo * 1e6:.2f}..{hi * 1e6:.2f} s per M rows)",
                hi / lo <= 1.3,
            )
        )
    else:
        out.append(Verdict("load time per row flat within 1.3x from 1M to 10M", "fewer than 2 sizes in 1M..10M", None))
    return out


def headline_lines(data: dict) -> list[str]:
    rows = data["headline_rows"]
    load = _median(data, rows, "load")
    floor = _median(data, rows, "floor")
    if not (load and floor):
        return []
    parts = [f"`sigma-impressions load` lands {rows / 1e6:g}M rows in {load:.1f} s: {load / floor:.2f}x DuckDB alone"]
    peers = {p: _median(data, rows, p) for p in ("dlt", "pandas")}
    measured = {p: v for p, v in peers.items() if v}
    if measured:
        parts.append(", ".join(f"{v / load:.1f}x faster than {p}" for p, v in sorted(measured.items())))
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
        assert rss is not None and cpu is not None
        per_m = secs.median / rows * 1e6
        lines.append(
            f"| {name} | {secs.median:.2f} | {_fmt_range(secs, 1, 2)} | {per_m:.2f} | {cpu.median:.2f} | "
            f"{_fmt_range(cpu, 1, 2)} | {rss.median / MIB:.0f} | {_fmt_range(rss, MIB, 0)} | {secs.n} |"
        )
    for name, reason in entry.get("skipped", {}).items():
        lines.append(f"| {name} | skipped: {reason} | | | | | | | |")
    return lines


def markdown(data: dict, png_name: str) -> str:
    m = data["machine"]
    out = [
        "# Benchmarks",
        "",
        "Generated by `bench/run_bench.py` (issue 6); do not edit by hand, re-run `make bench`.",
        "",
        "## Machine and run",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB memory, {m['os']}.",
        f"- Versions: Python {m['python']}, duckdb {m['duckdb']}, dbt-core {m['dbt_core']}, "
        f"dlt {m['dlt'] or 'not installed'}, pandas {m['pandas'] or 'not installed'}.",
        f"- Code: `{data['git']}`; started {data['started_at']}; took {data.get('seconds', 0):.0f} s.",
        f"- Command: `{data['command']}`",
        f"- Repetitions: {data['reps']} per contender, the order rotating each repetition; median and min-max.",
    ]
    if data.get("loader_env"):
        out.append(f"- Loader environment: `{data['loader_env']}`.")
    out += [
        "- Each contender is a whole separate process: wall time from spawn to exit (interpreter start",
        "  included); peak RSS = the kernel's maximum resident set of the process (wait4 `ru_maxrss`).",
        "- Exports: 90 daily files (one per UTC day before today) of request_time, user_email,",
        "  workbook_url_id, element_id, count; 400 workbooks x 12 elements, 3,000 users, power-law",
        "  popularity, 30% workbook-level rows; mtimes a few hours ago so `--days-back 6` takes all.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    out += [f"| {v.target} | {v.measured} | {v.word} |" for v in verdicts(data)]
    out += ["", *headline_lines(data), "", f"![time against rows]({png_name})", "", "## Contenders", ""]
    out += [f"- `{name}`: {text}" for name, text in data["descriptions"].items()]
    for key in sorted(data["sizes"], key=int):
        entry = data["sizes"][key]
        files = entry.get("files", "?")
        mib = entry.get("history_bytes", 0) / MIB
        out += ["", f"## {int(key):,} rows ({files} daily files, {mib:.0f} MiB of CSV)", ""]
        out += size_table(data, entry)
    return "\n".join(out) + "\n"


def plot(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    sizes = sorted(int(s) for s in data["sizes"])
    for name in PLOTTED:
        xs, ys, lo, hi = [], [], [], []
        for s in sizes:
            stats = _stats(data["sizes"][str(s)], name)
            if stats:
                xs.append(s / 1e6)
                ys.append(stats.median)
                lo.append(stats.median - stats.low)
                hi.append(stats.high - stats.median)
        if xs:
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=name)
    ax.set_xlabel("rows (millions)")
    ax.set_ylabel("wall time, s (median, min-max bars)")
    ax.set_title(f"sigma-impressions benchmark, {data['machine']['cores']} cores")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(data: dict, docs_dir: Path) -> tuple[Path, Path]:
    docs_dir.mkdir(parents=True, exist_ok=True)
    png = docs_dir / "benchmarks.png"
    md = docs_dir / "benchmarks.md"
    try:
        plot(data, png)
        name = png.name
    except ImportError:
        name = png.name + " (not drawn: matplotlib not installed)"
    md.write_text(markdown(data, name))
    return md, png
