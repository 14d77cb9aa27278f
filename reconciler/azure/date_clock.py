"""A model of the server's clock, learned from the standard `Date` header of the responses we already get.

Plans and outcomes speak server time, and the server's clock need not run at ours: the sandbox runs a
simulated clock up to 100,000x fast, can be frozen, and can jump. `Date` is all ARM gives (RFC 7231
IMF-fixdate, whole seconds), so one response says only: at some real instant between our send and our
receipt, the server's time was in [date, date + 1). Two such responses bound the rate (server seconds per
real second) to an interval; every later response of the same segment narrows it. So:
- against a fast clock the interval is tight at once: two calls 0.1 s apart at 20,000x give 2,000 server
  seconds, give or take 2 of rounding and the calls' own duration;
- against Azure the interval keeps containing 1, and the rate stays exactly 1 (the prior) rather than
  wandering with the 1-second rounding, however few responses there are;
- a response that no rate fits (the clock jumped, was reset or changed speed) starts a new segment, whose
  prior is the rate learned so far: a jump keeps the rate, a new speed is learned again.
Bounds are measured from the segment's quickest call (the first call of a connection also shakes hands, so
its server time is the least certain); within the bounds, the rate is read between receipts, because a
server stamps its answer just before it sends it.
`skew` widens every bound because the front ends behind one endpoint may disagree a little about the time.
The price of the prior: a clock slower than ours (a frozen sandbox) reads as rate 1 until about
(1 + skew) real seconds of calls rule 1 out; `ServerClock.sleep` steps are short, so that only costs
re-checks.
No I/O here: the connection's meter feeds responses in, the executor's `ServerClock` reads estimates out.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class _Response:
    sent: float  # monotonic seconds
    received: float
    date: float  # the server's `Date`, epoch seconds (whole)


class DateClock:
    def __init__(self, *, prior_rate: float = 1.0, skew: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._skew = skew
        self._prior = prior_rate
        self._rate = prior_rate
        self._first: _Response | None = None  # the first response of the current segment
        self._anchor: _Response | None = None  # the quickest of its responses: rates are measured from it
        self._latest: _Response | None = None  # the latest server time seen in the segment
        self._low, self._high = 0.0, math.inf  # the rates every response of the segment allows

    def observe(self, sent: float, received: float, date: datetime) -> None:
        """One response: sent and received on `time.monotonic()`, stamped `date` by the server."""
        seen = _Response(sent, received, date.timestamp())
        with self._lock:
            anchor = self._anchor
            if anchor is None:
                self._start_segment(seen)
                return
            if seen.sent > anchor.received:  # overlapping the anchor's call bounds nothing
                low, high = self._bounds(anchor, seen)
                low, high = max(low, self._low), min(high, self._high)
                if low > high:
                    self._start_segment(seen)
                    return
                self._low, self._high = low, high
                if low <= self._prior <= high:
                    self._rate = self._prior
                else:  # a server stamps its answer just before sending it: time it by the receipt
                    point = (seen.date - anchor.date) / (seen.received - anchor.received)
                    self._rate = min(max(point, low), high)
                if seen.received - seen.sent < (anchor.received - anchor.sent) / 2:
                    # A quicker call pins its server time closer; the bounds learned so far stay true.
                    self._anchor = seen
            latest = self._latest
            if latest is None or (seen.date, seen.received) > (latest.date, latest.received):
                self._latest = seen

    def _bounds(self, anchor: _Response, seen: _Response) -> tuple[float, float]:
        shortest, longest = seen.sent - anchor.received, seen.received - anchor.sent
        ahead = seen.date - anchor.date
        least, most = ahead - 1 - self._skew, ahead + 1 + self._skew
        return max(0.0, least / longest), most / shortest  # most < 0: the clock went back, nothing fits

    def _start_segment(self, seen: _Response) -> None:
        self._prior = self._rate
        self._first = self._anchor = self._latest = seen
        self._low, self._high = 0.0, math.inf

    @property
    def rate(self) -> float:
        """Server seconds per real second."""
        with self._lock:
            return self._rate

    def baseline(self) -> float:
        """Real seconds the current segment's rate is measured over (0 before two responses)."""
        with self._lock:
            if self._first is None or self._latest is None:
                return 0.0
            return max(0.0, self._latest.sent - self._first.received)

    def estimate(self, monotonic: float) -> datetime | None:
        """The server's time at `monotonic`, never ahead of it by the rounding of `Date` (None before any
        response): the latest date seen, moved on at the learned rate from when its response arrived."""
        with self._lock:
            latest, rate = self._latest, self._rate
        if latest is None:
            return None
        ahead = max(0.0, monotonic - latest.received) * rate
        return datetime.fromtimestamp(latest.date, UTC) + timedelta(seconds=ahead)
