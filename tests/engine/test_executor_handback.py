"""The wait budget: waits longer than it are handed back at once (the run does not sit through a 72 h soak),
shorter ones are waited for; the hard deadline marks the run timed out only when it cut ready work; a stop
lets in-flight calls end within a grace, then abandons them. Every run ends in one RunOutcome."""

import threading
import time
from datetime import timedelta

import pytest

from reconciler.engine import EventKind, Failed, NodeStatus, WaitUntil, execute
from reconciler.engine.outcome import changed, ok, retry_in
from reconciler.engine.report import RunOutcome

from .conftest import T0, Script, nodes

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def test_a_wait_beyond_the_budget_is_handed_back_at_once_and_its_dependents_stay_pending(clock):
    script = Script(
        {
            "canary": [WaitUntil(T0 + 10 * MIN, "hosts coming up"), changed()],
            "prod": [WaitUntil(T0 + 72 * HOUR, "soaks until …", reason="soak"), changed()],
            "prod/tags": [ok()],
        }
    )
    events = []
    report = execute(
        nodes({"canary": (), "prod": (), "prod/tags": "prod"}),
        script,
        clock=clock.now,
        sleeper=clock.sleep,
        wait_budget=30 * MIN,
        on_event=events.append,
    )
    assert clock.sleeps == [600.0], "waited for the 10-minute wait only"
    prod = report.results["prod"]
    assert (prod.status, prod.handed_back, prod.resume_at, prod.reason_code) == (
        NodeStatus.WAITING,
        True,
        T0 + 72 * HOUR,
        "soak",
    )
    assert report.results["prod/tags"].status is NodeStatus.PENDING
    assert report.results["prod/tags"].blocked_by == ("prod",)
    assert report.results["canary"].status is NodeStatus.CHANGED
    assert report.outcome is RunOutcome.PENDING and report.outcome.ok and not report.timed_out
    assert [e.kind for e in events if e.node_id == "prod"] == [EventKind.STARTED, EventKind.HANDED_BACK]
    assert script.call_times("prod") == [T0]


def test_short_waits_are_waited_for_however_many_there_are(clock):
    polls = [WaitUntil(T0 + i * MIN, f"poll {i}") for i in range(1, 91)]  # 90 minutes of 1-minute polls
    script = Script({"build": polls + [changed()]})
    report = execute(nodes({"build": ()}), script, clock=clock.now, sleeper=clock.sleep, wait_budget=30 * MIN)
    assert report.results["build"].status is NodeStatus.CHANGED
    assert report.outcome is RunOutcome.SUCCEEDED


def test_wait_none_hands_back_every_real_wait_but_not_a_retry(clock):
    script = Script(
        {
            "a": [WaitUntil(T0 + 5 * MIN, "operation running"), ok()],
            "b": [retry_in(2, "parent not visible yet"), changed()],
        }
    )
    report = execute(
        nodes({"a": (), "b": ()}), script, clock=clock.now, sleeper=clock.sleep, wait_budget=timedelta(0)
    )
    assert report.results["a"].status is NodeStatus.WAITING and report.results["a"].handed_back
    assert report.results["b"].status is NodeStatus.CHANGED, "a retry backoff is not a wait"
    assert report.outcome is RunOutcome.PENDING


def test_wait_forever_sits_through_a_long_wait_on_the_fake_clock(clock):
    script = Script({"prod": [WaitUntil(T0 + 72 * HOUR, "soak", reason="soak"), changed()]})
    report = execute(nodes({"prod": ()}), script, clock=clock.now, sleeper=clock.sleep, wait_budget=None)
    assert report.results["prod"].status is NodeStatus.CHANGED
    assert clock.sleeps == [72 * 3600.0]
    assert report.outcome is RunOutcome.SUCCEEDED


def test_a_deadline_that_cuts_ready_work_is_timed_out(clock):
    # a retries for longer than the deadline allows: the deadline, not a wait, ended the run.
    script = Script({"a": [retry_in(600, "throttled"), ok()], "b": [ok()]})
    report = execute(
        nodes({"a": (), "b": "a"}),
        script,
        clock=clock.now,
        sleeper=clock.sleep,
        max_wait=5 * MIN,
        wait_budget=None,
    )
    assert report.timed_out
    assert report.outcome is RunOutcome.TIMED_OUT and not report.outcome.ok


def test_a_deadline_that_only_meets_handed_back_waits_is_pending_not_timed_out(clock):
    script = Script({"a": [WaitUntil(T0 + 6 * HOUR, "window opens at …", reason="window"), ok()]})
    report = execute(
        nodes({"a": ()}),
        script,
        clock=clock.now,
        sleeper=clock.sleep,
        max_wait=2 * HOUR,
        wait_budget=2 * HOUR,
    )
    assert not report.timed_out and report.outcome is RunOutcome.PENDING
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("stopped", "failed", "timed_out", "pending", "expected"),
    [
        (True, True, True, True, RunOutcome.INTERRUPTED),
        (False, True, True, True, RunOutcome.FAILED),
        (False, False, True, True, RunOutcome.TIMED_OUT),
        (False, False, False, True, RunOutcome.PENDING),
        (False, False, False, False, RunOutcome.SUCCEEDED),
    ],
)
def test_the_outcome_order(stopped, failed, timed_out, pending, expected):
    from reconciler.engine.report import ExecutionReport, NodeResult

    results = {
        "a": NodeResult("a", "k", NodeStatus.FAILED if failed else NodeStatus.OK),
        "b": NodeResult("b", "k", NodeStatus.WAITING if pending else NodeStatus.OK),
    }
    report = ExecutionReport(results, T0, T0, stopped=stopped, timed_out=timed_out)
    assert report.outcome is expected


def test_a_stop_lets_in_flight_calls_end_and_starts_nothing_new():
    stop = threading.Event()
    release = threading.Event()

    def action(node, ctx):
        if node.id == "slow":
            stop.set()  # the signal arrives while this call runs
            release.wait(5)
            return changed()
        return ok()

    timer = threading.Timer(0.3, release.set)
    timer.start()
    report = execute(nodes({"slow": (), "next": "slow"}), action, stop=stop, stop_grace=10)
    assert report.results["slow"].status is NodeStatus.CHANGED, "the in-flight call ended normally"
    assert report.results["next"].status is NodeStatus.PENDING
    assert report.outcome is RunOutcome.INTERRUPTED and report.abandoned == ()


def test_a_stop_abandons_calls_that_outlast_the_grace():
    stop, release = threading.Event(), threading.Event()

    def action(node, ctx):
        stop.set()
        release.wait(30)
        return changed()

    started = time.monotonic()
    try:
        report = execute(nodes({"stuck": ()}), action, stop=stop, stop_grace=0.3)
    finally:
        release.set()
    assert time.monotonic() - started < 10
    stuck = report.results["stuck"]
    assert (stuck.status, stuck.abandoned) == (NodeStatus.WAITING, True)
    assert report.abandoned == ("stuck",) and report.outcome is RunOutcome.INTERRUPTED


def test_a_second_signal_abandons_at_once():
    stop, abandon, release = threading.Event(), threading.Event(), threading.Event()

    def action(node, ctx):
        stop.set()
        abandon.set()
        release.wait(30)
        return Failed("never seen")

    started = time.monotonic()
    try:
        report = execute(nodes({"stuck": ()}), action, stop=stop, stop_grace=60, abandon=abandon)
    finally:
        release.set()
    assert time.monotonic() - started < 10
    assert report.abandoned == ("stuck",)
