"""Five-field cron expressions for maintenance windows, parsed and evaluated without a dependency.

Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC), day of week (0-7 or
SUN-SAT; 0 and 7 are Sunday). Each field is `*`, a value, a range `a-b`, a step `*/n` or `a-b/n`, or a
comma list of those. As in Vixie cron, when both day-of-month and day-of-week are restricted a day matches
if EITHER matches. `is_open` is pure (time is a parameter), so the planner can use it with a fake clock.

Build schedules (`parse_schedule`) also take the nth weekday of the month, `D#N` in the day-of-week field
(`3#2`: the second Wednesday, as in Quartz cron), and the shorthand `@patch-tuesday[+Nd] [HH:MM]`: N days after
the second Tuesday of the month. They differ: the day after Patch Tuesday is the second Wednesday only when
the month does not start on a Wednesday (then the second Wednesday is the day BEFORE Patch Tuesday). Maintenance
windows refuse both (their window search, reconciler.planner.windows, walks plain weekday sets).
`next_fire` / `last_fire` are pure too, and search day by day in the schedule's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ValueError(f"{name}: {text!r} is not a number")
    number = int(text)
    if not low <= number <= high:
        raise ValueError(f"{name}: {number} is outside {low}-{high}")
    return number


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{name}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _value(a, name, low, high, names), _value(b, name, low, high, names)
            if start > end:
                raise ValueError(f"{name}: range {base!r} goes backwards")
        else:
            start = _value(base, name, low, high, names)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    day_restricted: bool
    weekday_restricted: bool
    nth_weekdays: frozenset[tuple[int, int]] = frozenset()  # (weekday, n): `3#2` = (3, 2)

    def matches(self, at: datetime) -> bool:
        if at.minute not in self.minutes or at.hour not in self.hours:
            return False
        return self.matches_day(at.date())

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        day_ok = day.day in self.days
        weekday = day.isoweekday() % 7
        weekday_ok = weekday in self.weekdays or (weekday, (day.day - 1) // 7 + 1) in self.nth_weekdays
        if self.day_restricted and self.weekday_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def times_on(self, day: date) -> list[time]:
        """Local wall-clock fire times on `day`, in order (empty if the day does not match)."""
        if not self.matches_day(day):
            return []
        return [time(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]


def _nth(text: str) -> tuple[int, int]:
    day_text, _, n_text = text.partition("#")
    day = _value(day_text, "day of week", 0, 7, _DAYS) % 7
    if not n_text.isdigit() or not 1 <= int(n_text) <= 5:
        raise ValueError(f"day of week: {text!r}: the week after # must be 1-5 (3#2 = second Wednesday)")
    return day, int(n_text)


def parse_cron(expression: str, *, nth_weekday: bool = False) -> Cron:
    """Parse a 5-field cron expression. Raises ValueError naming the bad field.

    `nth_weekday`: accept `D#N` items in the day-of-week field (build schedules)."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(
            f"cron needs 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}"
        )
    items = parts[4].split(",")
    nth_items = [i for i in items if "#" in i]
    if nth_items and not nth_weekday:
        raise ValueError(
            f"day of week: {nth_items[0]!r}: nth weekday (D#N) is only for build schedules, not maintenance "
            "windows"
        )
    plain = ",".join(i for i in items if "#" not in i)
    sets = [_field(text, *spec) for text, spec in zip(parts[:4], _FIELDS[:4], strict=True)]
    weekdays = frozenset(d % 7 for d in _field(plain, *_FIELDS[4])) if plain else frozenset()
    return Cron(
        sets[0],
        sets[1],
        sets[2],
        sets[3],
        weekdays,
        parts[2] != "*",
        parts[4] != "*",
        frozenset(_nth(i) for i in nth_items),
    )


_PATCH_TUESDAY = re.compile(r"^@patch-tuesday(?:\+(\d{1,2})d)?(?:\s+(\d{1,2}):(\d{2}))?$")


@dataclass(frozen=True)
class PatchTuesday:
    """`@patch-tuesday[+Nd] [HH:MM]`: N days (0-27) after the second Tuesday of each month, at HH:MM local."""

    days_after: int = 0
    at: time = time(0, 0)

    def times_on(self, day: date) -> list[time]:
        base = day - timedelta(days=self.days_after)  # +Nd may cross into the next month
        return [self.at] if base == patch_tuesday(base.year, base.month) else []


def patch_tuesday(year: int, month: int) -> date:
    """The second Tuesday of the month (Microsoft's Update Tuesday)."""
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def parse_schedule(expression: str) -> Cron | PatchTuesday:
    """A build schedule: a 5-field cron (nth weekday allowed) or the `@patch-tuesday` shorthand."""
    text = expression.strip()
    if text.startswith("@"):
        m = _PATCH_TUESDAY.match(text)
        if not m:
            raise ValueError(f"unknown shorthand {text!r}; the one known is @patch-tuesday[+Nd] [HH:MM]")
        days, hour, minute = int(m.group(1) or 0), int(m.group(2) or 0), int(m.group(3) or 0)
        if days > 27 or hour > 23 or minute > 59:
            raise ValueError(f"{text!r}: +Nd must be 0-27 and the time HH:MM within a day")
        return PatchTuesday(days, time(hour, minute))
    return parse_cron(text, nth_weekday=True)


# A schedule that fires at least once a year is found within this many days (0 0 29 2 * within 8 years).
_SEARCH_DAYS = 366 * 8 + 2


def _fires(schedule: Cron | PatchTuesday, day: date, tz: ZoneInfo) -> list[datetime]:
    return [datetime.combine(day, t, tzinfo=tz) for t in schedule.times_on(day)]


def next_fire(expression: str, time_zone: str, after: datetime) -> datetime | None:
    """The first fire time strictly after the aware `after`, or None if it never fires. Local wall-clock
    times in `time_zone` (04:00 stays 04:00 across daylight saving)."""
    schedule, tz = parse_schedule(expression), ZoneInfo(time_zone)
    start = after.astimezone(tz).date()
    for offset in range(_SEARCH_DAYS):
        for at in _fires(schedule, start + timedelta(days=offset), tz):
            if at > after:
                return at
    return None


def last_fire(expression: str, time_zone: str, before: datetime) -> datetime | None:
    """The latest fire time at or before the aware `before`, or None if none within eight years."""
    schedule, tz = parse_schedule(expression), ZoneInfo(time_zone)
    start = before.astimezone(tz).date()
    for offset in range(_SEARCH_DAYS):
        for at in reversed(_fires(schedule, start - timedelta(days=offset), tz)):
            if at <= before:
                return at
    return None


def is_open(expression: str, duration: timedelta, time_zone: str, now: datetime) -> bool:
    """True if `now` (timezone-aware) falls inside a window that started at a cron match within `duration`.

    Walks back minute by minute in the window's time zone; windows are hours long, so this stays cheap.
    """
    cron = parse_cron(expression)
    local = now.astimezone(ZoneInfo(time_zone)).replace(second=0, microsecond=0)
    minutes = int(duration.total_seconds() // 60)
    return any(cron.matches(local - timedelta(minutes=back)) for back in range(minutes))
