"""Requeue at the earliest wait: the loop starts its next cycle when a handed-back wait ends (a ring soak,
a window opening), bounded above by the interval and below by a minimum gap, not always one interval later."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from support.image_estate import version, write_desired

from reconciler.controller.cycle import CycleInput, CycleResult
from reconciler.controller.leader import AlwaysLeader
from reconciler.controller.loop import Controller, LoopSettings
from reconciler.controller.source import DirSource
from reconciler.sandbox.clock import SandboxClock

from .fakes import FakeClock, RecordingCycle

MINUTE = 60.0
INTERVAL = 15 * MINUTE
SCALE = 300.0  # sandbox seconds per real second: the 20 simulated minutes pass in 4 real seconds


class SoakingCycle:
    """Hands back the soak's end as its wait (as the production cycle does with a ring soak) until the soak
    is over, on the simulated clock; stops the loop after ``cycles`` cycles."""

    def __init__(self, clock: SandboxClock, soak_ends: float, stop: threading.Event, cycles: int) -> None:
        self.clock, self.soak_ends, self.stop, self.cycles = clock, soak_ends, stop, cycles
        self.started: list[float] = []

    def __call__(self, inp: CycleInput) -> CycleResult:
        now = self.clock.now_ts()
        self.started.append(now)
        if len(self.started) >= self.cycles:
            self.stop.set()
        if now < self.soak_ends:
            return CycleResult(ok=True, requeue_after=self.soak_ends - now)
        return CycleResult(ok=True)


def test_a_soak_ending_20_minutes_into_a_15_minute_interval_resumes_at_the_soaks_end(tmp_path):
    clock = SandboxClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), time_scale=SCALE)
    start = clock.now_ts()
    desired = write_desired(tmp_path / "desired", [version("1.0.0")], pin="1.0.0")
    settings = LoopSettings(
        interval=INTERVAL, jitter=0.0, poll=MINUTE / SCALE, retry_base=MINUTE, min_gap=MINUTE
    )
    stop = threading.Event()
    cycle = SoakingCycle(clock, soak_ends=start + 20 * MINUTE, stop=stop, cycles=3)
    controller = Controller(
        DirSource(desired), cycle, elector=AlwaysLeader(), settings=settings, clock=clock.now_ts
    )
    # The loop sleeps in real seconds on its wake event: a poll of one simulated minute keeps it reading the
    # simulated clock often. The test ends once the third cycle ran (or after a minute, failing).
    threading.Thread(target=lambda: (stop.wait(60), controller.request_stop()), daemon=True).start()
    controller.run()

    minutes = [(t - start) / MINUTE for t in cycle.started]
    assert len(minutes) == 3, minutes
    assert minutes[0] < 5
    assert 15 <= minutes[1] < 20  # the soak is longer than the interval: the interval bounds the wait
    assert 20 <= minutes[2] < 30, minutes  # the soak's end, not the next interval at 30


def test_a_wait_already_due_is_held_to_the_minimum_gap_and_a_long_one_to_the_interval(tmp_path):
    desired = write_desired(tmp_path / "desired", [version("1.0.0")], pin="1.0.0")
    waits = [0.0, 5 * INTERVAL, None, 10 * MINUTE]
    cycle = RecordingCycle([CycleResult(ok=True, requeue_after=w) for w in waits])
    settings = LoopSettings(interval=INTERVAL, jitter=0.0, min_gap=30.0)
    controller = Controller(
        DirSource(desired), cycle, elector=AlwaysLeader(), settings=settings, clock=FakeClock()
    )
    assert controller.sync()
    delays = []
    for _ in waits:
        controller.reconcile()
        delays.append(controller.status()["next_cycle_in_s"])
    assert delays == [30.0, INTERVAL, INTERVAL, 10 * MINUTE]
