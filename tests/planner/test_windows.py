"""next_window: the maintenance window a rollout waits for (cron + duration + time zone, pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.planner.windows import CronError, Window, is_open, next_window


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# Sunday 2026-11-29 12:00 UTC is "now" in every row.
NOW = utc(2026, 11, 29, 12, 0)

CASES = [
    # (windows, expected (start, end) or None)
    ([], None),
    ([Window("0 22 * * 6", timedelta(hours=4))], (utc(2026, 12, 5, 22), utc(2026, 12, 6, 2))),
    # open right now (started 11:00, lasts 2h): the current window is returned
    ([Window("0 11 * * *", timedelta(hours=2))], (utc(2026, 11, 29, 11), utc(2026, 11, 29, 13))),
    # ended at 12:00 exactly: not open, next day
    ([Window("0 10 * * *", timedelta(hours=2))], (utc(2026, 11, 30, 10), utc(2026, 11, 30, 12))),
    # a window that opened yesterday evening and is still open
    ([Window("0 20 * * 6", timedelta(hours=20))], (utc(2026, 11, 28, 20), utc(2026, 11, 29, 16))),
    # local time: 22:00 Europe/Berlin in winter is 21:00 UTC
    (
        [Window("0 22 * * *", timedelta(hours=2), "Europe/Berlin")],
        (utc(2026, 11, 29, 21), utc(2026, 11, 29, 23)),
    ),
    # the earliest of several windows wins
    (
        [Window("0 3 * * *", timedelta(hours=1)), Window("30 18 * * 0", timedelta(hours=1))],
        (utc(2026, 11, 29, 18, 30), utc(2026, 11, 29, 19, 30)),
    ),
    # day-of-month: the 1st of the month
    ([Window("0 0 1 * *", timedelta(hours=6))], (utc(2026, 12, 1, 0), utc(2026, 12, 1, 6))),
]


@pytest.mark.parametrize(("windows", "expected"), CASES)
def test_next_window(windows, expected):
    assert next_window(windows, NOW) == expected


def test_is_open_reports_the_current_window_only():
    assert is_open(None, NOW)
    assert is_open((utc(2026, 11, 29, 11), utc(2026, 11, 29, 13)), NOW)
    assert not is_open((utc(2026, 12, 5, 22), utc(2026, 12, 6, 2)), NOW)


def test_a_cron_that_never_fires_is_an_error():
    with pytest.raises(CronError):
        next_window([Window("0 0 30 2 *", timedelta(hours=1))], NOW)
