"""The server's clock is learned from the standard `Date` header alone (whole seconds): exactly rate 1 against
a clock that runs at ours, the right rate against a fast sandbox, and it follows jumps and changes of speed.
The first half feeds `DateClock` made-up responses (no network); the second drives the real SDK against the
sandbox through `ServerClock`, as the executor does."""

from __future__ import annotations

import http.client
import math
import random
import ssl
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from azure.core.rest import HttpRequest
from observe_support import connect

from reconciler.azure.clock import ServerClock
from reconciler.azure.date_clock import DateClock
from reconciler.azure.metering import CallMeter

START = datetime(2026, 11, 29, 12, tzinfo=UTC).timestamp()


class FakeServer:
    """A server clock at `rate` from START; each response is stamped mid-call and rounded down to the second,
    like an IMF-fixdate `Date`."""

    def __init__(self, rate: float, *, latency: float = 0.003, skew: float = 0.0, seed: int = 1):
        self.rate, self.latency, self.skew = rate, latency, skew
        self.origin_real, self.origin_server = 0.0, START
        self.random = random.Random(seed)

    def at(self, real: float) -> float:
        return self.origin_server + (real - self.origin_real) * self.rate

    def jump(self, real: float, seconds: float) -> None:
        self.origin_server, self.origin_real = self.at(real) + seconds, real

    def speed(self, real: float, rate: float) -> None:
        self.origin_server, self.origin_real, self.rate = self.at(real), real, rate

    def answer(self, clock: DateClock, sent: float, *, latency: float | None = None) -> None:
        latency = self.latency if latency is None else latency
        stamped = sent + self.random.uniform(0, latency)
        jitter = self.random.uniform(-self.skew, self.skew)
        date = datetime.fromtimestamp(math.floor(self.at(stamped) + jitter), UTC)
        clock.observe(sent, sent + latency, date)


def talk(server: FakeServer, clock: DateClock, start: float, seconds: float, every: float) -> float:
    real = start
    while real < start + seconds:
        server.answer(clock, real)
        real += every
    return real


def server_seconds_off(server: FakeServer, clock: DateClock, real: float) -> float:
    return (clock.estimate(real) - datetime.fromtimestamp(server.at(real), UTC)).total_seconds()


def test_a_clock_at_our_speed_has_rate_exactly_one_despite_rounding_and_skewed_front_ends():
    server, clock = FakeServer(1.0, latency=0.05, skew=0.5), DateClock()
    now = talk(server, clock, 0.0, 600.0, every=0.7)
    assert clock.rate == 1.0
    assert -2.0 <= server_seconds_off(server, clock, now + 30) <= 0.0  # never ahead: the Date is rounded down


def test_a_fast_clock_is_measured_from_whole_second_dates_within_a_tenth_of_a_second():
    server, clock = FakeServer(20_000.0), DateClock()
    talk(server, clock, 0.0, 0.1, every=0.01)
    assert clock.rate == pytest.approx(20_000, rel=0.1)
    now = talk(server, clock, 0.1, 2.0, every=0.05)
    assert clock.rate == pytest.approx(20_000, rel=0.005)
    assert abs(server_seconds_off(server, clock, now + 1.0)) < 0.005 * 20_000


def test_a_slow_first_call_does_not_spoil_the_rate():
    server, clock = FakeServer(20_000.0, latency=0.002), DateClock()
    server.answer(clock, 0.0, latency=0.08)  # a new connection's TLS handshake, on a loaded machine
    talk(server, clock, 0.1, 1.0, every=0.05)
    assert clock.rate == pytest.approx(20_000, rel=0.005)


def test_a_frozen_clock_is_learned_as_standing_still():
    server, clock = FakeServer(0.0), DateClock()
    now = talk(server, clock, 0.0, 10.0, every=0.25)
    assert clock.rate < 0.2
    assert abs(server_seconds_off(server, clock, now + 60)) < 0.2 * 60


def test_a_jump_moves_the_estimate_at_once_and_keeps_the_rate():
    server, clock = FakeServer(1000.0), DateClock()
    now = talk(server, clock, 0.0, 1.0, every=0.02)
    learned = clock.rate
    server.jump(now, 3600.0)
    server.answer(clock, now + 0.01)
    assert abs(server_seconds_off(server, clock, now + 0.02)) < 0.02 * 1000
    assert clock.rate == learned
    talk(server, clock, now + 0.02, 1.0, every=0.02)
    assert clock.rate == pytest.approx(1000, rel=0.01)


def test_a_change_of_speed_is_learned_again():
    server, clock = FakeServer(200.0), DateClock()
    now = talk(server, clock, 0.0, 2.0, every=0.02)
    assert clock.rate == pytest.approx(200, rel=0.02)
    server.speed(now, 100_000.0)
    talk(server, clock, now, 1.0, every=0.02)
    assert clock.rate == pytest.approx(100_000, rel=0.02)


def test_responses_that_overlap_the_first_one_do_not_fake_a_rate():
    clock = DateClock()
    first = datetime.fromtimestamp(START, UTC)
    clock.observe(0.0, 1.0, first)
    clock.observe(0.5, 1.5, first + timedelta(seconds=50))  # sent before the first came back: bounds nothing
    assert clock.rate == 1.0 and clock.baseline() == 0.0
    assert clock.estimate(1.5) == first + timedelta(seconds=50)


def test_the_meter_teaches_its_clock_from_date_headers_and_ignores_sandbox_only_ones():
    meter = CallMeter()
    meter.time_response(0.0, 0.01, {"Date": "Sun, 29 Nov 2026 12:00:00 GMT"})
    meter.time_response(
        1.0, 1.01, {"Date": "Sun, 29 Nov 2026 12:16:40 GMT", "x-ms-sandbox-time": "2030-01-01T00:00:00Z"}
    )
    assert meter.server_clock.rate == pytest.approx(1000, rel=0.01)
    assert meter.server_clock.estimate(1.01) == datetime(2026, 11, 29, 12, 16, 40, tzinfo=UTC)


# -- against the sandbox, through the real SDK ------------------------------------------------------------


@pytest.fixture
def scaled(sb, sandbox_env):
    """Set the session sandbox's speed for one test; put it back after."""
    before = sb.clock.time_scale
    yield sb.set_time_scale
    sb.set_time_scale(before)


def _ping(conn, sub: str, times: int, gap: float) -> None:
    for _ in range(times):
        conn.compute(sub).send_request(HttpRequest("GET", f"/subscriptions/{sub}?api-version=2022-12-01"))
        time.sleep(gap)


def test_the_sandbox_puts_its_clock_in_one_standard_date_header(sb, scaled):
    scaled(0)
    sb.advance(365 * 86400)  # a year ahead of this machine
    context = ssl.create_default_context(cafile=sb.ca_bundle)
    host, port = sb.endpoint.removeprefix("https://").split(":")
    connection = http.client.HTTPSConnection(host, int(port), context=context)
    connection.request("GET", "/metadata/endpoints?api-version=2022-09-01")
    response = connection.getresponse()
    response.read()
    connection.close()
    dates = response.headers.get_all("Date")
    assert len(dates) == 1
    assert abs((parsedate_to_datetime(dates[0]) - sb.now()).total_seconds()) <= 1


def test_server_clock_tracks_a_fast_sandbox_from_date_headers(sb, scaled):
    scaled(20_000)
    sub = sb.subscription_ids[0]
    with connect() as conn:
        clock = ServerClock(conn, sub)
        assert clock.rate == pytest.approx(20_000, rel=0.5)  # a 0.1 s probe gap on a loaded machine
        _ping(conn, sub, 20, 0.15)  # the reconciler's own traffic refines it
        assert clock.rate == pytest.approx(20_000, rel=0.1)
        time.sleep(1.0)  # no calls: now() extrapolates (at rate 1 it would be 20,000 s behind)
        off = (clock.now() - sb.now()).total_seconds()
        # within 0.3 real seconds' worth of server time: the calls' own duration on a loaded machine
        assert abs(off) < 0.3 * 20_000
        assert clock.real_seconds(3600) == pytest.approx(0.18, rel=0.1)


def test_server_clock_has_rate_one_at_time_scale_one(sb, scaled):
    scaled(1)
    sub = sb.subscription_ids[0]
    with connect() as conn:
        clock = ServerClock(conn, sub)
        _ping(conn, sub, 5, 0.2)
        assert clock.rate == 1.0
        assert abs((clock.now() - sb.now()).total_seconds()) < 2


def test_server_clock_probes_once_on_a_connection_that_has_been_talking(sb, scaled):
    scaled(20_000)
    sub = sb.subscription_ids[0]
    with connect() as fresh:
        ServerClock(fresh, sub)
        assert fresh.meter.stats().total == 2  # nothing to learn from yet: two probes, probe_gap apart
    with connect() as busy:
        _ping(busy, sub, 2, 0.15)
        before = busy.meter.stats().total
        ServerClock(busy, sub)
        assert busy.meter.stats().total - before == 1
