"""The export-age rule for `run` and `check`: thresholds, verdicts and the one line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from loader.freshness import ExportFreshness, Thresholds, format_age, judge, load_thresholds

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("age", "status"),
    [
        (timedelta(hours=36), "pass"),
        (timedelta(hours=36, seconds=1), "warn"),
        (timedelta(days=7), "warn"),
        (timedelta(days=7, seconds=1), "error"),
    ],
)
def test_judge_is_strictly_past_the_threshold(age: timedelta, status: str) -> None:
    verdict = judge((NOW - age).replace(tzinfo=None), Thresholds(), now=NOW)  # naive means UTC
    assert (verdict.status, verdict.age) == (status, age)


def test_line_asks_about_the_schedule_when_stale() -> None:
    stale = judge(NOW - timedelta(days=3.2), Thresholds(), now=NOW)
    assert stale.line() == "newest export file is 3.2 days old: is Sigma's export schedule running?"
    assert not stale.is_error
    fresh = judge(NOW - timedelta(hours=5), Thresholds(), now=NOW)
    assert fresh.line() == "newest export file is 5.0 hours old"
    assert judge(NOW - timedelta(days=9), Thresholds(), now=NOW).is_error
    assert "age unknown (no export file found)" in judge(None, Thresholds(), now=NOW).line()


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(minutes=59, seconds=59), "59 minutes"),
        (timedelta(hours=1), "1.0 hours"),
        (timedelta(days=1), "1.0 days"),
    ],
)
def test_format_age(age: timedelta, text: str) -> None:
    assert format_age(age) == text


def test_thresholds_come_from_dbt_project_yml(tmp_path: Path) -> None:
    assert load_thresholds(REPO) == Thresholds(warn_after=timedelta(hours=36), error_after=timedelta(days=7))
    (tmp_path / "dbt_project.yml").write_text(
        "vars:\n  sigma_freshness_warn_after_hours: 12\n  sigma_freshness_error_after_days: 2\n"
    )
    assert load_thresholds(tmp_path) == Thresholds(warn_after=timedelta(hours=12), error_after=timedelta(days=2))


def test_unknown_is_not_an_error() -> None:
    assert not ExportFreshness(status="unknown", reason="x").is_error
