"""The server's clock, for the executor: "now" and "sleep until" in ARM's time, not this machine's.

Plans and outcomes speak server time (`observed_at`, WaitUntil times), and the sandbox runs a simulated
clock that can be 100,000x faster than ours. So the executor's clock is a model of the server clock:
- two probes (`GET /subscriptions/{id}`) a short real interval apart give an anchor and the rate
  (server seconds per real second). Against Azure (no `x-ms-sandbox-time` header) the rate is 1 and only the
  offset is measured, from `Date`;
- `now()` extrapolates from the latest anchor, and moves forward (never back) whenever any response carries a
  later server time (the connection's meter keeps the latest);
- `sleep(seconds)` waits seconds / rate of real time, in steps of at most `max_step`, so a slightly wrong
  rate only means an action is asked a little early; actions re-check their operation and wait again.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from azure.core.rest import HttpRequest

from reconciler.azure.connection import Connection
from reconciler.azure.metering import server_time


class ServerClock:
    def __init__(self, connection: Connection, subscription_id: str, *, probe_gap: float = 0.1,
                 max_step: float = 1.0):  # fmt: skip
        self.conn, self.subscription_id = connection, subscription_id
        self.max_step = max_step
        self._lock = threading.Lock()
        first, simulated = self._probe()
        self.rate = 1.0
        if simulated:
            time.sleep(probe_gap)
            second, _ = self._probe()
            span = second[0] - first[0]
            self.rate = max((second[1] - first[1]).total_seconds() / span, 1e-6) if span > 0 else 1.0
            first = second
        self._anchor_mono, self._anchor_server = first

    def _probe(self) -> tuple[tuple[float, datetime], bool]:
        client = self.conn.compute(self.subscription_id)
        request = HttpRequest(
            "GET", f"/subscriptions/{self.subscription_id}", params={"api-version": "2022-12-01"}
        )
        sent = time.monotonic()
        response = client.send_request(request)
        received = time.monotonic()
        stamp = server_time(response.headers) or datetime.now(UTC)
        return ((sent + received) / 2, stamp), "x-ms-sandbox-time" in response.headers

    def now(self) -> datetime:
        with self._lock:
            mono = time.monotonic()
            estimate = self._anchor_server + timedelta(seconds=(mono - self._anchor_mono) * self.rate)
            seen = self.conn.meter.last_server_time
            if seen is not None and seen > estimate:
                self._anchor_mono, self._anchor_server, estimate = mono, seen, seen
            return estimate

    def sleep(self, server_seconds: float) -> None:
        time.sleep(min(max(server_seconds, 0.0) / self.rate, self.max_step))

    def real_seconds(self, server_seconds: float) -> float:
        return server_seconds / self.rate
