"""Durations written the way people say them: `90s`, `30m`, `24h`, `90d`, `2w`, or combined `1h30m`.

Stored as `datetime.timedelta`; written back (in the JSON Schema defaults) in the same short form.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

DURATION_PATTERN = r"^([0-9]+[smhdw])+$"
_PART = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """`"1h30m"` → `timedelta(hours=1, minutes=30)`. Raises ValueError with a message for people."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not re.fullmatch(DURATION_PATTERN, value.strip()):
        raise ValueError(f"expected a duration such as 30m, 24h or 90d (units s, m, h, d, w), got {value!r}")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(value.strip()))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling: 86400s → `1d`, 5400s → `1h30m`, 0 → `0s`."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def _between(low: timedelta, high: timedelta):
    def check(value: timedelta) -> timedelta:
        if not low <= value <= high:
            raise ValueError(f"must be between {format_duration(low)} and {format_duration(high)}")
        return value

    return check


def duration_between(low: str, high: str):
    """An annotated Duration type limited to `[low, high]`, both written as durations."""
    lo, hi = parse_duration(low), parse_duration(high)
    return Annotated[
        timedelta,
        BeforeValidator(parse_duration),
        AfterValidator(_between(lo, hi)),
        PlainSerializer(format_duration, return_type=str),
        WithJsonSchema(
            {
                "type": "string",
                "pattern": DURATION_PATTERN,
                "description": f"duration such as 30m, 24h, 90d; between {low} and {high}",
            }
        ),
    ]
