"""Requests in flight per subscription and kind follow the bucket's remaining-budget header (CallMeter.in_flight).
Threads hold their slot until released, so "how many got in together" is exact, not a timing guess."""

from __future__ import annotations

import threading

from reconciler.azure.metering import CallMeter, PacingSettings

SUB = "11111111-1111-4111-8111-111111111111"
PATH = f"/subscriptions/{SUB}/providers/Microsoft.Compute/galleries"


def _widest(meter: CallMeter, threads: int, expected: int, kind: str = "reads") -> int:
    """Start `threads` holders at once, wait until `expected` are inside (none leaves before), then let them go;
    return how many were ever inside together."""
    inside, widest = 0, 0
    changed = threading.Condition()
    release = threading.Event()

    def hold():
        nonlocal inside, widest
        with meter.in_flight(SUB.lower(), kind):
            with changed:
                inside += 1
                widest = max(widest, inside)
                changed.notify_all()
            release.wait(timeout=10)
            with changed:
                inside -= 1

    workers = [threading.Thread(target=hold) for _ in range(threads)]
    for w in workers:
        w.start()
    with changed:
        changed.wait_for(lambda: inside >= expected, timeout=10)
    release.set()
    for w in workers:
        w.join(timeout=10)
    return widest


def test_in_flight_is_bounded_by_the_last_remaining_header():
    meter = CallMeter()
    meter.record("GET", PATH, 200, {"x-ms-ratelimit-remaining-subscription-reads": "3"})
    assert _widest(meter, 10, expected=3) == 3


def test_an_empty_bucket_still_lets_one_request_through():
    meter = CallMeter()
    meter.record("GET", PATH, 429, {"x-ms-ratelimit-remaining-subscription-reads": "0"})
    assert _widest(meter, 4, expected=1) == 1


def test_no_header_yet_means_no_limit_unless_a_first_wave_is_set():
    assert _widest(CallMeter(), 6, expected=6) == 6
    assert _widest(CallMeter(PacingSettings(first_wave=2)), 6, expected=2) == 2


def test_other_kinds_and_subscriptions_are_not_held_by_a_low_read_budget():
    meter = CallMeter()
    meter.record("GET", PATH, 200, {"x-ms-ratelimit-remaining-subscription-reads": "1"})
    assert _widest(meter, 4, expected=4, kind="writes") == 4
