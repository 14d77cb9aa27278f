"""The real clock and the stop event: timers fire while a slow action is still in flight."""

import threading
import time
from datetime import timedelta

from reconciler.engine import NodeStatus, WaitUntil, execute
from reconciler.engine.outcome import ok

from .conftest import Script, nodes

MS = timedelta(milliseconds=1)


def test_a_timer_fires_while_a_slow_action_is_still_running():
    # "slow" holds a slot for 400 ms of real time; "poll" waits 50 ms and must be called again long before
    # "slow" finishes: a wait never queues behind unrelated work.
    finished_slow = threading.Event()
    poll_resumed_while_slow_ran = []

    def action(node, ctx):
        if node.id == "slow":
            time.sleep(0.4)
            finished_slow.set()
            return ok()
        if ctx.call == 1:
            return WaitUntil(ctx.now + 50 * MS, "short poll")
        poll_resumed_while_slow_ran.append(not finished_slow.is_set())
        return ok()

    began = time.monotonic()
    report = execute(nodes({"poll": (), "slow": ()}), action, parallelism=2, min_requeue=timedelta(0))
    assert poll_resumed_while_slow_ran == [True]
    assert report.complete and report.succeeded
    assert time.monotonic() - began < 2


def test_setting_stop_starts_nothing_new_and_lets_in_flight_work_finish():
    stop = threading.Event()

    def action(node, ctx):
        if node.id == "a":
            stop.set()  # e.g. SIGTERM arrives while "a" runs
        return ok()

    report = execute(nodes({"a": (), "b": "a", "c": ()}), action, parallelism=1, stop=stop)
    status = {r.id: (r.status, r.why) for r in report.results.values()}
    assert status == {
        "a": (NodeStatus.OK, ""),
        "b": (NodeStatus.PENDING, "ready, but the run was stopped first"),
        "c": (NodeStatus.PENDING, "ready, but the run was stopped first"),
    }
    assert report.stopped and not report.complete


def test_stop_wakes_a_long_wait_at_once():
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    script = Script({"build": [lambda ctx: WaitUntil(ctx.now + timedelta(hours=1), "build running"), ok()]})
    began = time.monotonic()
    report = execute(nodes({"build": ()}), script, stop=stop)
    assert time.monotonic() - began < 5, "the one-hour wait was cut short by stop"
    assert report.results["build"].status is NodeStatus.WAITING
    assert report.stopped
