"""Build schedules: nth weekday (`3#2`), the `@patch-tuesday+Nd` shorthand, next_fire / last_fire (pure)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from reconciler.spec.cron import last_fire, next_fire, parse_cron, parse_schedule, patch_tuesday


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [(2026, 12, 8), (2026, 11, 10), (2026, 4, 14), (2026, 7, 14), (2027, 9, 14), (2026, 2, 10)],
)
def test_patch_tuesday_is_the_second_tuesday(year, month, expected):
    assert patch_tuesday(year, month) == date(year, month, expected)


def test_second_wednesday_is_the_day_after_patch_tuesday_in_most_months():
    # December 2026 starts on a Tuesday: Patch Tuesday the 8th, second Wednesday the 9th.
    assert next_fire("0 4 * * 3#2", "UTC", utc(2026, 12, 1)) == utc(2026, 12, 9, 4)
    assert next_fire("@patch-tuesday+1d 04:00", "UTC", utc(2026, 12, 1)) == utc(2026, 12, 9, 4)


def test_month_starting_on_a_wednesday_is_where_they_differ():
    # April 2026 starts on a Wednesday: the second Wednesday (8th) is the day BEFORE Patch Tuesday (14th).
    assert date(2026, 4, 1).weekday() == 2
    assert next_fire("0 4 * * 3#2", "UTC", utc(2026, 4, 1)) == utc(2026, 4, 8, 4)
    assert next_fire("@patch-tuesday+1d 04:00", "UTC", utc(2026, 4, 1)) == utc(2026, 4, 15, 4)


def test_shorthand_offsets_and_default_time():
    assert next_fire("@patch-tuesday", "UTC", utc(2026, 12, 1)) == utc(2026, 12, 8)
    assert next_fire("@patch-tuesday+9d 22:30", "UTC", utc(2026, 12, 1)) == utc(2026, 12, 17, 22, 30)
    # +Nd may cross into the next month: November 10 + 27 days, then December 8 + 27.
    assert next_fire("@patch-tuesday+27d", "UTC", utc(2026, 12, 1)) == utc(2026, 12, 7)
    assert next_fire("@patch-tuesday+27d", "UTC", utc(2026, 12, 8)) == utc(2027, 1, 4)


def test_next_fire_is_strictly_after_and_last_fire_at_or_before():
    fire = utc(2026, 12, 9, 4)
    assert next_fire("0 4 * * 3#2", "UTC", fire) == utc(2027, 1, 13, 4)
    assert last_fire("0 4 * * 3#2", "UTC", fire) == fire
    assert last_fire("0 4 * * 3#2", "UTC", utc(2026, 12, 9, 3, 59)) == utc(2026, 11, 11, 4)
    assert last_fire("@patch-tuesday+1d 04:00", "UTC", utc(2026, 12, 9, 3, 59)) == utc(2026, 11, 11, 4)


def test_local_wall_clock_in_the_time_zone_across_daylight_saving():
    # 04:00 Amsterdam is 03:00 UTC in winter and 02:00 UTC in summer.
    zone = "Europe/Amsterdam"
    assert next_fire("@patch-tuesday+1d 04:00", zone, utc(2026, 12, 1)) == utc(2026, 12, 9, 3)
    assert next_fire("@patch-tuesday+1d 04:00", zone, utc(2026, 6, 1)) == utc(2026, 6, 10, 2)


def test_plain_cron_and_vixie_or_with_nth():
    assert next_fire("30 2 * * *", "UTC", utc(2026, 12, 1, 3)) == utc(2026, 12, 2, 2, 30)
    # Day of month OR day of week when both are restricted (Vixie), with an nth weekday too.
    assert next_fire("0 0 20 * 1#1", "UTC", utc(2026, 12, 1)) == utc(2026, 12, 7)
    assert next_fire("0 0 20 * 1#1", "UTC", utc(2026, 12, 8)) == utc(2026, 12, 20)


def test_never_firing_schedule_gives_none():
    assert next_fire("0 0 30 2 *", "UTC", utc(2026, 1, 1)) is None
    assert last_fire("0 0 30 2 *", "UTC", utc(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 4 * * 3#6", "the week after # must be 1-5"),
        ("0 4 * * 3#", "the week after # must be 1-5"),
        ("0 4 * * 9#2", "outside 0-7"),
        ("@patch-wednesday", "unknown shorthand"),
        ("@patch-tuesday+30d", "+Nd must be 0-27"),
        ("@patch-tuesday 25:00", "within a day"),
    ],
)
def test_bad_schedules_say_why(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_schedule(text)


def test_maintenance_windows_refuse_nth_weekday():
    with pytest.raises(ValueError, match="only for build schedules"):
        parse_cron("0 22 * * 3#2")
    assert parse_cron("0 22 * * 3#2,5", nth_weekday=True).nth_weekdays == frozenset({(3, 2)})
