"""Run one contender as a whole separate process; measure its wall time and peak RSS.

Peak RSS is the largest sum, over the process and all its descendants, of their resident set
sizes, sampled by psutil every `interval` seconds (so a peak shorter than that can be missed; the
DuckDB buffers that dominate here live for seconds). Wall time is from spawn to exit, interpreter
start-up included: that is what a user waits for.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psutil


class ContenderFailed(RuntimeError):
    """The measured process exited non-zero; the message holds the end of its output."""


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_bytes: int
    output: str  # the end of stdout + stderr, for the record


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_measured(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    interval: float = 0.02,
    timeout: float = 3600.0,
) -> Sample:
    """Run `cmd` to completion; raise ContenderFailed when it exits non-zero."""
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        popen = subprocess.Popen(
            list(cmd), env=full_env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        proc = psutil.Process(popen.pid)
        peak = 0
        while popen.poll() is None:
            peak = max(peak, _tree_rss(proc))
            if time.perf_counter() - start > timeout:
                popen.kill()
                popen.wait()
                raise ContenderFailed(f"timed out after {timeout:.0f} s: {' '.join(cmd)}")
            time.sleep(interval)
        seconds = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if popen.returncode != 0:
        raise ContenderFailed(f"exit {popen.returncode}: {' '.join(cmd)}\n{text[-3000:]}")
    return Sample(seconds, peak, text[-2000:])


@dataclass(frozen=True)
class Stats:
    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(statistics.median(values), min(values), max(values), len(values))

    def to_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.low, "max": self.high, "n": self.n}
