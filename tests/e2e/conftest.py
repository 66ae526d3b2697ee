"""The demo's `make run` (tests/helpers/make_run.py), once per session: both modules here read it
(conftest.SHARED_BUILDS sends them to one pytest-xdist worker). Tests that change a warehouse copy
it first."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.make_run import make_run_three_times


@pytest.fixture(scope="session")
def make_run_pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_run_three_times(tmp_path_factory.mktemp("make_run"))
