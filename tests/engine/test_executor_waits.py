"""WaitUntil parks a node without blocking independent work; deadlines hand waits to the next cycle."""

from datetime import timedelta

from reconciler.engine import EventKind, NodeStatus, WaitUntil, execute
from reconciler.engine.outcome import changed, ok

from .conftest import T0, Script, nodes

MIN = timedelta(minutes=1)


def test_a_wait_does_not_block_independent_branches_and_resumes_at_its_time(clock):
    # "image" waits 90 simulated minutes; the other branch runs meanwhile, even with one slot.
    script = Script(
        {
            "image": [WaitUntil(T0 + 90 * MIN, "replicating to westeurope"), changed("replicated")],
            "pool": [changed()],
            "pool/tags": [changed()],
            "image/pin": [ok()],
        }
    )
    graph = {"image": (), "pool": (), "pool/tags": "pool", "image/pin": "image"}
    report = execute(nodes(graph), script, parallelism=1, clock=clock.now, sleeper=clock.sleep)

    assert script.order() == ["image", "pool", "pool/tags", "image", "image/pin"]
    assert script.call_times("image") == [T0, T0 + 90 * MIN]
    assert script.call_times("pool/tags") == [T0]
    assert script.call_times("image/pin") == [T0 + 90 * MIN]
    assert clock.sleeps == [90 * 60.0], "the only sleep is the one nothing else could fill"
    result = report.results["image"]
    assert (result.status, result.calls, result.attempts) == (NodeStatus.CHANGED, 2, 1)
    assert report.finished_at == T0 + 90 * MIN


def test_the_resumed_call_sees_the_wait_it_resumes(clock):
    wait = WaitUntil(T0 + MIN, "build running")
    script = Script({"build": [wait, changed()]})
    execute(nodes({"build": ()}), script, clock=clock.now, sleeper=clock.sleep)
    (_, first), (_, second) = script.calls
    assert first.previous is None and first.call == 1
    assert second.previous == wait and second.call == 2 and second.attempt == 1


def test_waits_never_count_as_attempts_and_never_fail(clock):
    polls = [WaitUntil(T0 + i * MIN, f"poll {i}") for i in range(1, 21)]
    script = Script({"build": polls + [changed()]})
    report = execute(nodes({"build": ()}), script, clock=clock.now, sleeper=clock.sleep)
    result = report.results["build"]
    assert (result.status, result.calls, result.attempts) == (NodeStatus.CHANGED, 21, 1)


def test_a_wait_in_the_past_is_floored_by_min_requeue(clock):
    script = Script({"a": [WaitUntil(T0 - MIN, "stale"), ok()]})
    execute(nodes({"a": ()}), script, clock=clock.now, sleeper=clock.sleep, min_requeue=timedelta(seconds=5))
    assert script.call_times("a") == [T0, T0 + timedelta(seconds=5)]


def test_a_deadline_returns_waiting_and_pending_nodes_without_sleeping_through(clock):
    script = Script(
        {
            "build": [WaitUntil(T0 + 120 * MIN, "image build running"), changed()],
            "version": [changed()],
            "gallery": [changed()],
            "other": [WaitUntil(T0 + 10 * MIN, "short"), ok()],
        }
    )
    graph = {"gallery": (), "build": "gallery", "version": "build", "other": ()}
    events = []
    report = execute(
        nodes(graph),
        script,
        clock=clock.now,
        sleeper=clock.sleep,
        max_wait=30 * MIN,
        on_event=events.append,
    )
    assert clock.sleeps == [600.0], "slept for 'other' inside the deadline, not for the 2-hour build"
    statuses = {r.id: r.status for r in report.results.values()}
    assert statuses == {
        "gallery": NodeStatus.CHANGED,
        "other": NodeStatus.OK,
        "build": NodeStatus.WAITING,
        "version": NodeStatus.PENDING,
    }
    assert report.results["build"].resume_at == T0 + 120 * MIN
    assert report.results["build"].why == "image build running"
    assert report.results["version"].why == "waiting for build"
    assert report.deadline == T0 + 30 * MIN
    assert not report.complete and report.succeeded
    assert [e.resume_at for e in events if e.kind is EventKind.HANDED_BACK and e.node_id == "build"] == [
        T0 + 120 * MIN
    ]
    assert report.results["build"].handed_back and not report.timed_out


def test_nothing_starts_after_the_deadline(clock):
    # Each node waits 20 minutes once; with a 30-minute deadline the second link of the chain never starts.
    script = Script(
        {}, default=lambda ctx: ok() if ctx.call > 1 else WaitUntil(ctx.now + 20 * MIN, "settling")
    )
    report = execute(
        nodes({"a": (), "b": "a", "c": "b"}),
        script,
        clock=clock.now,
        sleeper=clock.sleep,
        deadline=T0 + 30 * MIN,
    )
    assert [r.status for r in report.results.values()] == [
        NodeStatus.OK,
        NodeStatus.WAITING,
        NodeStatus.PENDING,
    ]
    assert script.call_times("b") == [T0 + 20 * MIN]
    assert report.results["b"].resume_at == T0 + 40 * MIN


def test_a_deadline_already_past_starts_nothing(clock):
    script = Script({}, default=ok())
    report = execute(nodes({"a": ()}), script, clock=clock.now, sleeper=clock.sleep, deadline=T0)
    assert script.calls == []
    assert report.results["a"].status is NodeStatus.PENDING
    assert report.results["a"].why == "ready, but the deadline came first"


def test_a_wait_due_exactly_at_the_deadline_is_handed_over_without_sleeping(clock):
    script = Script({"a": [WaitUntil(T0 + 15 * MIN, "settling"), ok()]})
    report = execute(nodes({"a": ()}), script, clock=clock.now, sleeper=clock.sleep, max_wait=15 * MIN)
    assert clock.sleeps == []
    assert (report.results["a"].status, report.results["a"].resume_at) == (NodeStatus.WAITING, T0 + 15 * MIN)
