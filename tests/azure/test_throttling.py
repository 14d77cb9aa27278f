"""Throttling against the sandbox: azure-core honours Retry-After (and we count the 429s), no single wait is
unbounded, and a shrinking x-ms-ratelimit-remaining budget slows the reader down before the bucket is empty."""

from __future__ import annotations

import time

import pytest
from observe_support import PAGE_SIZE, connect

from reconciler.azure.floor import list_call_floor
from reconciler.azure.metering import PacingSettings
from reconciler.azure.observe import ObserveError, observe
from reconciler.model.observed import ObserveScope

GALLERY_LIST = r"/providers/Microsoft\.Compute/galleries$"


def test_retry_after_is_honoured_and_throttled_calls_are_counted(sb, estate, conn):
    sb.inject_fault(
        method="GET", path=GALLERY_LIST, status=429, code="TooManyRequests", count=2, retry_after="0.3"
    )
    started = time.monotonic()
    observed = observe(ObserveScope.of(sb.subscription_ids), conn)
    elapsed = time.monotonic() - started

    assert elapsed >= 0.3  # azure-core slept the Retry-After (backoff is 0 in tests, so nothing else waits)
    assert observed.calls.throttled == 2
    assert observed.calls.by_status["429"] == 2
    assert observed.calls.total == list_call_floor(estate, sb.subscription_ids, PAGE_SIZE)["total"] + 2
    assert len(observed.galleries) == 3  # the retried lists delivered everything


def test_a_retry_after_beyond_the_ceiling_fails_fast_instead_of_blocking(sb, estate, sandbox_env):
    sb.inject_fault(
        method="GET", path=GALLERY_LIST, status=429, code="TooManyRequests", count=1, retry_after="1200"
    )
    with connect(max_retry_after=1.0) as conn:
        started = time.monotonic()
        with pytest.raises(ObserveError, match="429"):
            observe(ObserveScope.of(sb.subscription_ids), conn)
        # Did not sit through the 1200 s Retry-After (a loaded machine may be slow, never that slow).
        assert time.monotonic() - started < 600
        assert conn.meter.stats().throttled == 1


def _drain_run(sb, low_water: int):
    """Observe with the sandbox's token bucket on (20 reads, refilling 10/s) from a full bucket."""
    sb.configure(throttle=True, read_bucket=(20.0, 10.0))
    sb.advance(60)  # refill every bucket
    pacing = PacingSettings(low_water=low_water, reads_per_second=10.0)
    with connect(pacing=pacing, retry_total=50, retry_status=50) as conn:  # the unpaced run must get through
        started = time.monotonic()
        observed = observe(ObserveScope.of(sb.subscription_ids), conn)
        return observed, time.monotonic() - started


def test_low_remaining_budget_slows_the_reader_before_the_bucket_is_empty(sb, estate, sandbox_env):
    floor = list_call_floor(estate, sb.subscription_ids, PAGE_SIZE)["total"]
    unpaced, _ = _drain_run(sb, low_water=0)
    paced, wall = _drain_run(sb, low_water=20)

    # Without pacing the reader runs into the bucket's floor and collects 429s ...
    assert unpaced.calls.throttled > 0 and unpaced.calls.paced_calls == 0
    # ... with pacing it slows down as the budget shrinks and gets (almost) none.
    assert paced.calls.paced_calls > 0 and paced.calls.paced_seconds > 0.5
    assert paced.calls.throttled <= unpaced.calls.throttled / 10  # measured: 0 against 159
    assert paced.calls.lowest_remaining and min(paced.calls.lowest_remaining.values()) < 20
    # ~47 reads per subscription through a 20-token bucket refilling 10/s cannot take less than ~2.7 s
    assert wall >= 1.5
    assert len(paced.session_hosts) == len(unpaced.session_hosts) == 60
    assert paced.calls.total == floor + paced.calls.throttled
