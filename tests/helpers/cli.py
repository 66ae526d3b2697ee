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

from sigma_impressions.cli import main
from tests.helpers.processes import clean_env


def cli_in_process(args: list[str], cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `sigma-impressions <args>` with clean_env(**env) as the environment (and `cwd`)."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    wanted = clean_env(**env)
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(wanted)
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as done:  # argparse's usage errors
                code = done.code if isinstance(done.code, int) else 2
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["sigma-impressions", *args], code, out.getvalue(), err.getvalue())
