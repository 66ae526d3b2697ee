"""`sigma-impressions <args>` in the test process: the console script's own function
(sigma_impressions.cli.main) with the environment a clean process would get, its standard output
and error captured, and its exit code returned. It answers as the executable does (same function,
same exit codes, same lines) without a new interpreter importing dbt each time; tests that kill,
limit or de-privilege the process keep running the executable (tests/helpers/processes.py)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from pathlib import Path

import pytest

from sigma_impressions.cli import main


def cli_in_process(args: list[str], cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `sigma-impressions <args>` in `cwd`, the environment without any SIGMA_IMPRESSIONS_* or AWS_*
    variable (as tests/helpers/processes.clean_env gives a process), plus `env`."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("SIGMA_IMPRESSIONS_", "AWS_")):
                patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        if cwd is not None:
            patch.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as done:  # argparse's usage errors
                code = done.code if isinstance(done.code, int) else 2
    return subprocess.CompletedProcess(["sigma-impressions", *args], code, out.getvalue(), err.getvalue())
