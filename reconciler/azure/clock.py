"""The server's clock, for the executor: "now" and "sleep until" in ARM's time, not this machine's.

Plans and outcomes speak server time (`observed_at`, WaitUntil times), and the server's clock need not run
at ours (the sandbox's is simulated, often thousands of times faster). So the executor's clock is the
connection's `DateClock`, which every response's `Date` header already feeds:
- at start, one probe (`GET /subscriptions/{id}`) gives a fresh reading and, if the connection has not been
  talking long enough to measure a rate, a second one `probe_gap` later does; after that no call is made for
  the clock, it learns from the responses the reconciler gets anyway;
- `now()` extrapolates from the latest server time seen at the learned rate (1 against Azure) and never
  goes back, so the times of one run's events are ordered;
- `sleep(seconds)` waits seconds / rate of real time, in steps of at most `max_step`, so a slightly wrong
  rate only means an action is asked a little early; actions re-check their operation and wait again.
`server_seconds_of` turns a delay the server gave in HTTP's (the client's) seconds, like an operation's
`Retry-After`, into server seconds at the same learned rate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from azure.core.rest import HttpRequest

from reconciler.azure.connection import Connection
from reconciler.azure.date_clock import DateClock

# A frozen clock has rate 0; dividing by this instead turns every real wait into "at most max_step".
_SLOWEST_RATE = 1e-6
# Below this the server's clock stands still for our purposes (a frozen sandbox moved only by hand).
_STANDING_RATE = 1e-3


def server_seconds_of(model: DateClock) -> Callable[[float], float | None]:
    """client seconds -> server seconds; None while the server clock stands still, since a real-time delay
    then says nothing about when, in server time, to look again."""

    def convert(client_seconds: float) -> float | None:
        rate = model.rate
        return client_seconds * rate if rate >= _STANDING_RATE else None

    return convert


class ServerClock:
    def __init__(
        self, connection: Connection, subscription_id: str, *, probe_gap: float = 0.1, max_step: float = 1.0
    ):
        self.conn, self.subscription_id = connection, subscription_id
        self.max_step = max_step
        self._model = connection.meter.server_clock
        self._lock = threading.Lock()
        self._last: datetime | None = None
        self._probe()
        short = probe_gap - self._model.baseline()
        if short > 0:
            time.sleep(short)
            self._probe()

    def _probe(self) -> None:
        # The meter records the response (and its Date) on the way back; nothing to read here.
        request = HttpRequest(
            "GET", f"/subscriptions/{self.subscription_id}", params={"api-version": "2022-12-01"}
        )
        self.conn.compute(self.subscription_id).send_request(request)

    @property
    def rate(self) -> float:
        """Server seconds per real second."""
        return max(self._model.rate, _SLOWEST_RATE)

    def now(self) -> datetime:
        with self._lock:
            estimate = self._model.estimate(time.monotonic()) or datetime.now(UTC)
            if self._last is not None and estimate < self._last:
                estimate = self._last
            self._last = estimate
            return estimate

    def sleep(self, server_seconds: float) -> None:
        time.sleep(min(max(server_seconds, 0.0) / self.rate, self.max_step))

    def real_seconds(self, server_seconds: float) -> float:
        return server_seconds / self.rate
