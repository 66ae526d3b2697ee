"""Run one contender as a whole separate process; measure its wall time and peak RSS.

Peak RSS is the kernel's own count: `ru_maxrss` from wait4() on the child, the largest resident
set reached by the process (or by any descendant it waited for). Nothing polls, so measuring
costs no CPU on a 2-core machine where every cycle shows up in the timings. Wall time is from
spawn to exit, interpreter start-up included: that is what a user waits for. CPU time (user +
system, from the same wait4) is recorded too: on a shared machine it moves far less than wall time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class ContenderFailed(RuntimeError):
    """The measured process exited non-zero; the message holds the end of its output."""


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_bytes: int
    cpu_seconds: float  # user + system CPU of the process and its waited-for descendants
    output: str  # the end of stdout + stderr, for the record


def run_measured(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 3600.0,
) -> Sample:
    """Run `cmd` to completion; raise ContenderFailed when it exits non-zero."""
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        popen = subprocess.Popen(
            list(cmd), env=full_env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        while True:
            pid, status, usage = os.wait4(popen.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                popen.kill()
                os.wait4(popen.pid, 0)
                popen.returncode = -9
                raise ContenderFailed(f"timed out after {timeout:.0f} s: {' '.join(cmd)}")
            time.sleep(0.01)
        seconds = time.perf_counter() - start
        popen.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if popen.returncode != 0:
        raise ContenderFailed(f"exit {popen.returncode}: {' '.join(cmd)}\n{text[-3000:]}")
    return Sample(seconds, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime, text[-2000:])


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
