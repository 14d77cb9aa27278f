"""Maintenance windows: the next window a rollout will wait for, computed from cron + duration + time zone.

Pure: `now` is a parameter. Cron syntax is the desired-state language's (reconciler.spec.cron); this module
only searches forward for the next start. Windows start at local wall-clock times in their zone, so "Saturday 22:00
Europe/Berlin" stays 22:00 local across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reconciler.spec.cron import Cron, parse_cron

# How far ahead to look for the next window before giving up (a cron like "0 0 30 2 *" never fires).
_SEARCH_DAYS = 366 * 4 + 1


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    cron: str
    duration: timedelta
    timezone: str = "UTC"


def _matches_day(cron: Cron, d: date) -> bool:
    if d.month not in cron.months:
        return False
    day_ok = d.day in cron.days
    weekday_ok = (d.isoweekday() % 7) in cron.weekdays
    if cron.day_restricted and cron.weekday_restricted:
        return day_ok or weekday_ok
    return day_ok and weekday_ok


def _starts_from(cron: Cron, day: date, tz: ZoneInfo) -> Iterator[datetime]:
    """Every start on or after local `day`, in order, as aware datetimes (day by day, not minute by minute)."""
    for offset in range(_SEARCH_DAYS):
        d = day + timedelta(days=offset)
        if not _matches_day(cron, d):
            continue
        for hour in sorted(cron.hours):
            for minute in sorted(cron.minutes):
                yield datetime.combine(d, time(hour, minute), tzinfo=tz)


def next_window(windows: Iterable[Window], now: datetime) -> tuple[datetime, datetime] | None:
    """The window a rollout starting at `now` waits for, as (start, end) in UTC.

    Returns the currently open window when `now` is inside one (start <= now), else the earliest future one.
    Returns None when no windows are configured (the rollout may start at once). Raises CronError for a cron
    that never fires within four years.
    """
    best: tuple[datetime, datetime] | None = None
    any_window = False
    for window in windows:
        any_window = True
        tz = ZoneInfo(window.timezone)
        try:
            cron = parse_cron(window.cron)
        except ValueError as exc:
            raise CronError(str(exc)) from exc
        # Start the search early enough to find a window that opened before `now` and is still open.
        first_day = (now - window.duration).astimezone(tz).date() - timedelta(days=1)
        for start in _starts_from(cron, first_day, tz):
            end = start + window.duration
            if end <= now:
                continue
            candidate = (start.astimezone(UTC), end.astimezone(UTC))
            if best is None or candidate[0] < best[0]:
                best = candidate
            break
        else:
            raise CronError(f"cron {window.cron!r} never fires")
    if not any_window:
        return None
    return best


def is_open(window: tuple[datetime, datetime] | None, now: datetime) -> bool:
    return window is None or window[0] <= now < window[1]
