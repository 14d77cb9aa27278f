"""Count every ARM call, read the remaining-budget headers, and slow down before a bucket runs dry.

`CallMeter` is shared by every client of one `Connection`; `MeteringPolicy` sits in each client's pipeline
right after azure-core's `RetryPolicy` (a per-retry policy), so it sees every attempt on the wire, retries
included. It is not a retry layer: it never resends anything. It only
- counts calls by operation ("list Microsoft.Compute/galleries/images"), by status, list pages, single GETs,
  and throttled (429) answers;
- remembers the lowest `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` seen per subscription
  and, while the last value is under `low_water`, spaces that subscription's calls of that kind so they do
  not outrun the bucket's refill (the pause grows as the budget shrinks and is capped by `max_pace`);
- holds each subscription's requests in flight to what its bucket has left: no more of one kind at once than
  the last `x-ms-ratelimit-remaining-subscription-<kind>` (no limit before one is seen, or `first_wave`), so a
  wide observation pool uses the whole burst ARM allows but never sends more than it can take;
- does the same per resource provider for Compute's own per-policy budgets, `x-ms-ratelimit-remaining-resource`
  (`Microsoft.Compute/PutVM3Min;239,...`, limits.md A2): a subscription's requests of one kind to a provider
  are no more in flight than the lowest budget its responses last reported, paced as that budget nears zero
  at the rate the window implies (the most seen left ÷ the window's length), and held back until the
  Retry-After of a 429 that provider answered, so one spent window costs one 429, not one per request in
  flight;
- keeps the server's clock from the standard `Date` header: the latest seen, and a `DateClock` that learns
  its rate from when each response was sent and received, so "now" can come from ARM, not this machine,
  without a call of its own.
ARM's buckets are per subscription and per operation kind (limits.md A1), hence the keys. What one call is
(operation, kind, subscription, header values): arm_calls.py; arithmetic on the stats snapshots: call_stats.py.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from azure.core.pipeline.policies import HTTPPolicy

from reconciler.azure.arm_calls import (
    crp_budgets,
    kind_of,
    operation_of,
    server_time,
    subscription_of,
    window_seconds,
)
from reconciler.azure.date_clock import DateClock
from reconciler.azure.errors import retry_after_in
from reconciler.model.observed import CallStats

_KINDS = ("reads", "writes", "deletes")


@dataclass(frozen=True)
class PacingSettings:
    """`refill_per_second` per kind follows the ARM token bucket (limits.md A1: 25 reads/s, 10 writes/s and
    10 deletes/s per subscription). Below `low_water` remaining, calls of that kind are spaced
    (1 - remaining/low_water) / refill seconds apart, so at an empty bucket we send exactly at the refill rate."""

    low_water: int = 50
    first_wave: int | None = None
    reads_per_second: float = 25.0
    writes_per_second: float = 10.0
    deletes_per_second: float = 10.0
    max_pace: float = 5.0
    # Follow x-ms-ratelimit-remaining-resource (Compute's per-policy windows) as well; off: record them only.
    # Below `resource_low_water` left, such requests are spaced at the rate the window refills.
    resource_budgets: bool = True
    resource_low_water: int = 50

    def refill(self, kind: str) -> float:
        return {"reads": self.reads_per_second, "writes": self.writes_per_second}.get(
            kind, self.deletes_per_second
        )


class CallMeter:
    """Thread-safe counters and pacing state for one connection (all subscriptions, all clients)."""

    def __init__(self, pacing: PacingSettings | None = None, *, sleep=time.sleep, clock=time.monotonic):
        self.pacing = pacing or PacingSettings()
        self._sleep, self._clock = sleep, clock
        self._lock = threading.Lock()
        self._gate = threading.Condition(self._lock)
        self._flying: Counter[tuple[str, str]] = Counter()
        self._by_operation: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._totals: Counter[str] = Counter()
        self._paced_seconds = 0.0
        self._remaining: dict[tuple[str, str], int] = {}
        self._lowest: dict[str, int] = {}
        self._next_slot: dict[tuple[str, str], float] = {}
        self.last_server_time: datetime | None = None
        self.server_clock = DateClock()
        # Compute's per-policy budgets, per (subscription, kind, provider namespace): what the last response
        # to such a request reported, per policy; the most seen (the window's size, near enough); and until
        # when a 429 of that provider holds every such request back (this meter's clock).
        self._budgets: dict[tuple[str, str, str], dict[str, int]] = {}
        # Which request (by send order) reported each provider's budget: answers overtake each other, and an
        # older request's larger figure must not undo a newer one's (it was counted before it).
        self._budget_seq: dict[tuple[str, str, str], int] = {}
        self._sent = 0
        self._peak: dict[tuple[str, str], int] = {}
        self._closed_until: dict[tuple[str, str, str], float] = {}

    # -- pacing ------------------------------------------------------------------------------------------
    def pace(self, subscription: str, kind: str, namespace: str = "") -> float:
        """Wait (bounded) if this subscription's budget for `kind` (or, for `namespace`'s requests, the
        provider's own) is low or throttled; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            waits = [0.0]
            remaining = self._remaining.get((subscription, kind))
            if remaining is not None and remaining < self.pacing.low_water:
                spacing = (1 - max(remaining, 0) / self.pacing.low_water) / self.pacing.refill(kind)
                waits.append(self._slot((subscription, kind), spacing, now))
            key = (subscription, kind, namespace.lower())
            if self.pacing.resource_budgets and namespace and key in self._budgets:
                waits.append(self._resource_wait(key, now))
            wait = min(max(waits), self.pacing.max_pace)
            if wait > 0:
                self._paced_seconds += wait
                self._totals["paced_calls"] += 1
        if wait > 0:
            self._sleep(wait)
        return wait

    def _slot(self, key, spacing: float, now: float) -> float:
        slot = max(now, self._next_slot.get(key, now)) + spacing
        self._next_slot[key] = slot
        return slot - now

    def _resource_wait(self, key: tuple[str, str, str], now: float) -> float:
        """Until a 429's Retry-After has passed, else spaced like the subscription bucket as the lowest
        policy budget nears zero, at the rate its window refills (the most seen left ÷ its length)."""
        closed = self._closed_until.get(key, 0.0) - now
        policy, left = min(self._budgets[key].items(), key=lambda kv: kv[1])
        low = self.pacing.resource_low_water
        if left >= low:
            return max(closed, 0.0)
        rate = self._peak.get((key[0], policy), left) / window_seconds(policy)
        spacing = (1 - max(left, 0) / low) / max(rate, 1e-3)
        return max(closed, self._slot(key, spacing, now))

    # -- concurrency --------------------------------------------------------------------------------------
    @contextmanager
    def in_flight(self, subscription: str, kind: str, namespace: str = "") -> Iterator[int]:
        """Hold one of the subscription's slots for `kind` (and of its provider's budget) while the request
        is on the wire. Yields the request's place in send order (for `record`)."""
        key, provider = (subscription, kind), (subscription, kind, namespace.lower())
        give_up = (
            self._clock() + self.pacing.max_pace
        )  # a provider's 429 holds it no longer than pace() would
        with self._gate:
            while True:
                if self._flying[key] >= self._allowed(key) or self._flying[provider] >= self._allowed_by(
                    provider
                ):
                    self._gate.wait()
                    continue
                # A 429 may have come back while this request waited for its slot: it is held back too.
                held = min(self._closed_until.get(provider, 0.0), give_up) - self._clock()
                if held <= 0:
                    break
                self._gate.wait(timeout=held)
            self._flying[key] += 1
            self._flying[provider] += 1
            self._sent += 1
            seq = self._sent
        try:
            yield seq
        finally:
            with self._gate:
                self._flying[key] -= 1
                self._flying[provider] -= 1
                self._gate.notify_all()

    def _allowed(self, key: tuple[str, str]) -> float:
        remaining = self._remaining.get(key)
        if remaining is None:
            return math.inf if self.pacing.first_wave is None else self.pacing.first_wave
        # Requests in flight were counted after that header was sent, so together they may spend all of it.
        return max(1, remaining)

    def _allowed_by(self, provider: tuple[str, str, str]) -> float:
        budgets = self._budgets.get(provider) if self.pacing.resource_budgets else None
        return max(1, min(budgets.values())) if budgets else math.inf

    # -- recording ---------------------------------------------------------------------------------------
    def record(self, method: str, path: str, status: int, headers, seq: int | None = None) -> None:
        verb, target = operation_of(method, path)
        subscription = subscription_of(path)
        stamp = server_time(headers)
        with self._lock:
            self._totals["total"] += 1
            self._by_operation[f"{verb} {target}"] += 1
            self._by_status[str(status)] += 1
            if verb == "list":
                self._totals["pages"] += 1
            elif verb == "get":
                self._totals["gets"] += 1
            if status == 429:
                self._totals["throttled"] += 1
            for kind in _KINDS:
                value = headers.get(f"x-ms-ratelimit-remaining-subscription-{kind}")
                if value is None or not subscription:
                    continue
                try:
                    remaining = int(value)
                except ValueError:
                    continue
                self._remaining[(subscription, kind)] = remaining
                self._gate.notify_all()
                key = f"{subscription}/{kind}"
                self._lowest[key] = min(remaining, self._lowest.get(key, remaining))
            # Compute's own per-policy budgets (limits.md A2): recorded so --stats shows them, and followed
            # (pace, in_flight) for the requests of this kind to this provider.
            budgets = crp_budgets(headers.get("x-ms-ratelimit-remaining-resource"))
            provider = (subscription, kind_of(method), target.split("/")[0].lower())
            for policy, remaining in budgets:
                key = f"{subscription}/{policy}"
                self._lowest[key] = min(remaining, self._lowest.get(key, remaining))
                self._peak[(subscription, policy)] = max(remaining, self._peak.get((subscription, policy), 0))
            if budgets and subscription:
                seq = self._sent + 1 if seq is None else seq
                known = self._budgets.get(provider)
                if (
                    known is None
                    or seq > self._budget_seq.get(provider, 0)
                    or min(v for _, v in budgets) < min(known.values())
                ):
                    self._budgets[provider] = dict(budgets)
                    self._budget_seq[provider] = max(seq, self._budget_seq.get(provider, 0))
                self._gate.notify_all()
            if self.pacing.resource_budgets and status == 429 and subscription and provider in self._budgets:
                wait = retry_after_in(headers)
                if wait:
                    self._closed_until[provider] = max(
                        self._closed_until.get(provider, 0.0), self._clock() + wait
                    )
            if stamp and (self.last_server_time is None or stamp > self.last_server_time):
                self.last_server_time = stamp

    def time_response(self, sent: float, received: float, headers) -> None:
        """Teach `server_clock` from a response's `Date`, sent and received at these `time.monotonic()`s."""
        stamp = server_time(headers)
        if stamp:
            self.server_clock.observe(sent, received, stamp)

    def stats(self) -> CallStats:
        with self._lock:
            return CallStats(
                total=self._totals["total"],
                pages=self._totals["pages"],
                gets=self._totals["gets"],
                throttled=self._totals["throttled"],
                paced_calls=self._totals["paced_calls"],
                paced_seconds=self._paced_seconds,
                by_operation=dict(self._by_operation),
                by_status=dict(self._by_status),
                lowest_remaining=dict(self._lowest),
            )


class MeteringPolicy(HTTPPolicy):
    """Per-retry pipeline policy: pace, send, record. One instance per client, all sharing one meter."""

    def __init__(self, meter: CallMeter):
        super().__init__()
        self.meter = meter

    def send(self, request):
        http_request = request.http_request
        path = urlsplit(http_request.url).path
        subscription = subscription_of(path)
        if not subscription:
            return self._send(request, path)
        kind = kind_of(http_request.method)
        namespace = operation_of(http_request.method, path)[1].split("/")[0]
        self.meter.pace(subscription, kind, namespace)
        with self.meter.in_flight(subscription, kind, namespace) as seq:
            return self._send(request, path, seq)

    def _send(self, request, path: str, seq: int | None = None):
        http_request = request.http_request
        sent = time.monotonic()
        response = self.next.send(request)
        received = time.monotonic()
        http_response = response.http_response
        self.meter.record(http_request.method, path, http_response.status_code, http_response.headers, seq)
        self.meter.time_response(sent, received, http_response.headers)
        return response
