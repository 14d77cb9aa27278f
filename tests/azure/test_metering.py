"""The call meter: operation labels, budget headers, pacing maths, server time. Pure, no network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.azure.arm_calls import operation_of, server_time
from reconciler.azure.call_stats import stats_since
from reconciler.azure.metering import CallMeter, PacingSettings

SUB = "11111111-1111-4111-8111-111111111111"
GALLERY = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        (
            "GET",
            f"/subscriptions/{SUB}/providers/Microsoft.Compute/galleries",
            ("list", "Microsoft.Compute/galleries"),
        ),
        ("GET", GALLERY, ("get", "Microsoft.Compute/galleries")),
        ("GET", f"{GALLERY}/images/i/versions", ("list", "Microsoft.Compute/galleries/images/versions")),
        ("PUT", f"{GALLERY}/images/i", ("put", "Microsoft.Compute/galleries/images")),
        (
            "POST",
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates/t/run",
            ("post", "Microsoft.VirtualMachineImages/imageTemplates/run"),
        ),
        (
            "GET",
            f"/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westeurope/capsOperations/abc",
            ("poll", "Microsoft.Compute/capsOperations"),
        ),
    ],
)
def test_operation_labels_tell_lists_from_gets(method, path, expected):
    assert operation_of(method, path) == expected


def test_counts_pages_gets_statuses_and_throttles():
    meter = CallMeter()
    meter.record("GET", f"/subscriptions/{SUB}/providers/Microsoft.Compute/galleries", 200, {})
    meter.record("GET", GALLERY, 200, {})
    meter.record("GET", GALLERY, 429, {"Retry-After": "1"})
    stats = meter.stats()
    assert (stats.total, stats.pages, stats.gets, stats.throttled) == (3, 1, 2, 1)
    assert stats.by_status == {"200": 2, "429": 1}
    assert stats.by_operation == {"list Microsoft.Compute/galleries": 1, "get Microsoft.Compute/galleries": 2}


def test_stats_since_is_the_difference_between_snapshots():
    meter = CallMeter()
    meter.record("GET", GALLERY, 200, {})
    before = meter.stats()
    meter.record("GET", GALLERY, 200, {})
    meter.record("PUT", GALLERY, 201, {})
    window = stats_since(before, meter.stats())
    assert window.total == 2
    assert window.by_operation == {"get Microsoft.Compute/galleries": 1, "put Microsoft.Compute/galleries": 1}


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_no_pacing_while_budget_is_plentiful_or_unknown():
    t = FakeTime()
    meter = CallMeter(PacingSettings(low_water=50), sleep=t.sleep, clock=t.clock)
    assert meter.pace(SUB, "reads") == 0.0
    meter.record("GET", GALLERY, 200, {"x-ms-ratelimit-remaining-subscription-reads": "200"})
    assert meter.pace(SUB, "reads") == 0.0
    assert t.slept == []


def test_pacing_grows_as_budget_shrinks_and_never_outruns_the_refill():
    t = FakeTime()
    meter = CallMeter(PacingSettings(low_water=50, reads_per_second=25.0), sleep=t.sleep, clock=t.clock)
    meter.record("GET", GALLERY, 200, {"x-ms-ratelimit-remaining-subscription-reads": "25"})
    half = meter.pace(SUB, "reads")
    meter.record("GET", GALLERY, 200, {"x-ms-ratelimit-remaining-subscription-reads": "0"})
    empty = meter.pace(SUB, "reads")
    assert half == pytest.approx(0.5 / 25)
    assert empty == pytest.approx(1 / 25)  # exactly the refill rate at an empty bucket
    # Budgets are per subscription and kind: writes and other subscriptions are not slowed.
    assert meter.pace(SUB, "writes") == 0.0
    assert meter.pace("22222222-2222-4222-8222-222222222222", "reads") == 0.0
    stats = meter.stats()
    assert stats.paced_calls == 2
    assert stats.lowest_remaining == {f"{SUB}/reads": 0}


def test_concurrent_callers_queue_behind_each_other_but_each_wait_is_capped():
    t = FakeTime()
    meter = CallMeter(
        PacingSettings(low_water=10, reads_per_second=1.0, max_pace=1.5), sleep=lambda s: None, clock=t.clock
    )
    meter.record("GET", GALLERY, 200, {"x-ms-ratelimit-remaining-subscription-reads": "0"})
    waits = [meter.pace(SUB, "reads") for _ in range(3)]  # no time passes: three callers at once
    assert waits == [pytest.approx(1.0), pytest.approx(1.5), pytest.approx(1.5)]


def test_server_time_is_the_standard_date_header_only():
    assert server_time({"Date": "Sun, 29 Nov 2026 12:00:00 GMT"}) == datetime(2026, 11, 29, 12, tzinfo=UTC)
    assert server_time({"Date": "not a date"}) is None
    assert server_time({}) is None


def test_meter_keeps_the_latest_server_time():
    meter = CallMeter()
    meter.record("GET", GALLERY, 200, {"Date": "Sun, 29 Nov 2026 12:00:05 GMT"})
    meter.record("GET", GALLERY, 200, {"Date": "Sun, 29 Nov 2026 12:00:01 GMT"})
    assert meter.last_server_time == datetime(2026, 11, 29, 12, 0, 5, tzinfo=UTC)


def test_compute_policy_budgets_are_recorded_per_subscription():
    meter = CallMeter()
    header = "Microsoft.Compute/HighCostGet3Min;107,Microsoft.Compute/HighCostGet30Min;827"
    meter.record(
        "GET",
        f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines",
        200,
        {"x-ms-ratelimit-remaining-resource": header},
    )
    meter.record(
        "GET",
        f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines",
        200,
        {"x-ms-ratelimit-remaining-resource": "Microsoft.Compute/HighCostGet3Min;99"},
    )
    assert meter.stats().lowest_remaining == {f"{SUB}/HighCostGet3Min": 99, f"{SUB}/HighCostGet30Min": 827}
