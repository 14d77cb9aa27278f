"""The simulated clock: sandbox time runs at ``time_scale`` x real time from a chosen start and can be advanced.

time_scale 0 freezes the clock (only ``advance`` moves it). All behaviour (LROs, replication, registration,
session ends, throttle refill) is a function of this clock, never of the number of requests.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class SandboxClock:
    def __init__(self, start: datetime | None = None, time_scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._real0 = time.monotonic()
        self._sim0 = (start or datetime.now(UTC)).timestamp()
        self._scale = float(time_scale)

    @property
    def time_scale(self) -> float:
        return self._scale

    def now_ts(self) -> float:
        with self._lock:
            return self._sim0 + (time.monotonic() - self._real0) * self._scale

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ts(), UTC)

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._sim0 += float(seconds)
        return self.now_ts()

    def set(self, ts: float, time_scale: float | None = None) -> None:
        """Jump to sandbox timestamp ``ts`` (used by restore and reset)."""
        with self._lock:
            self._real0 = time.monotonic()
            self._sim0 = float(ts)
            if time_scale is not None:
                self._scale = float(time_scale)

    def set_scale(self, time_scale: float) -> None:
        self.set(self.now_ts(), time_scale)

    def real_seconds(self, sandbox_seconds: float) -> float:
        """Real seconds until ``sandbox_seconds`` of sandbox time pass (inf when frozen)."""
        if sandbox_seconds <= 0:
            return 0.0
        return sandbox_seconds / self._scale if self._scale > 0 else float("inf")


def iso(ts: float) -> str:
    """ISO 8601 with fractions and Z, the shape ARM uses for timestamps."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> float:
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python < 3.11 fromisoformat limits fractional digits; trim to microseconds to be tolerant.
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        rest = tail[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
